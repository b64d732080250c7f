"""`wf new NAME --pattern P`: every pattern checks, names are kebab-case, files are never
overwritten."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from wflang.dsl.loader import load
from wflang.patterns import PATTERNS, kebab, name_problem, new_command, render

CLI_PATTERNS = ["review", "sweep", "research", "fix", "vote", "tournament"]


def test_the_cli_offers_exactly_the_patterns() -> None:
    from wflang.cli import _parser

    sub = next(a for a in _parser()._actions if a.dest == "command")
    new = sub.choices["new"]  # type: ignore[index]
    pattern = next(a for a in new._actions if a.dest == "pattern")
    assert sorted(pattern.choices) == sorted(PATTERNS) == sorted(CLI_PATTERNS)


@pytest.mark.parametrize("pattern", CLI_PATTERNS)
def test_every_pattern_checks(pattern: str, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "triage-flow.wf"
    assert new_command("triage-flow", pattern, str(path), out, err) == 0, err.getvalue()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("workflow triage-flow:\n")
    assert "__NAME__" not in text
    loaded = load(str(path))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    bound = loaded.result.bound  # type: ignore[union-attr]
    assert 0 < bound.total < 1000 and bound.agent_budget is not None and bound.total <= bound.agent_budget
    assert f"wf check {path}" in out.getvalue()


@pytest.mark.parametrize("pattern", CLI_PATTERNS)
def test_every_pattern_runs_on_the_fake_backend(pattern: str, tmp_path: Path) -> None:
    import json

    import trio

    from wflang.dsl.arguments import validate_args
    from wflang.runtime import interpreter, scheduler
    from wflang.runtime.backends import fake

    loaded = load(str(tmp_path / "p.wf"), render("p", pattern))
    assert loaded.ok
    values, diags = validate_args(loaded.program, json.loads(PATTERNS[pattern].args))
    assert not diags, [d.message for d in diags]
    backend = fake.FakeBackend({"default": "schema"})
    sched = scheduler.Scheduler(backend, tmp_path, scheduler.Limits(), permissions=frozenset({"edit", "shell"}))
    trio.run(interpreter.run_program, loaded.program, values, sched)
    assert backend.calls and not any(c["failed"] for c in backend.calls)


def test_default_path_and_next_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert new_command("nightly-sweep", "sweep", None, out, err) == 0
    assert (tmp_path / "nightly-sweep.wf").is_file()
    said = out.getvalue()
    assert "wrote nightly-sweep.wf" in said and "wf check nightly-sweep.wf" in said and "wf run" in said


def test_out_directory(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert new_command("weekly-digest", "research", str(tmp_path), out, err) == 0
    assert (tmp_path / "weekly-digest.wf").is_file()


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "mine.wf"
    path.write_text("my work\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert new_command("mine", "review", str(path), out, err) == 1
    assert path.read_text(encoding="utf-8") == "my work\n"
    assert "already exists" in err.getvalue() and "nothing was written" in err.getvalue()


@pytest.mark.parametrize("bad", ["My_Flow", "pr review", "-x", "a--b", "x-", "", "Review", "dir/x"])
def test_bad_names(bad: str, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert new_command(bad, "review", str(tmp_path / "x.wf"), out, err) == 2
    assert "kebab-case" in err.getvalue()
    assert not (tmp_path / "x.wf").exists()


def test_name_suggestions() -> None:
    assert kebab("My_Flow") == "my-flow"
    assert kebab("PRReview") == "prreview"
    assert kebab("prReview2") == "pr-review2"
    assert name_problem("pr-review") is None
    assert 'e.g. "my-flow"' in (name_problem("My_Flow") or "")


def test_a_dot_wf_name_means_the_workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert new_command("release-vote.wf", "vote", None, out, err) == 0
    assert (tmp_path / "release-vote.wf").read_text(encoding="utf-8").startswith("workflow release-vote:")


def test_cli_dispatches_to_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from wflang.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["new", "pick-plan", "--pattern", "tournament"]) == 0
    assert "wf check pick-plan.wf" in capsys.readouterr().out
    assert main(["new", "pick-plan", "--pattern", "tournament"]) == 1
