"""The `wf` command's conventions and its exit codes, command by command: one table
(wflang/exits.py), the one docs/cli.md shows."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wflang import __version__, color, exits
from wflang.cli import _parser, main
from wflang.runtime.run_cli import run_command

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pr-review"
HEADER = 'workflow t:\n    description: "d"\n'
FANOUT = 'input xs: list[int] max 10\nr = fanout x in xs:\n    agent "go {x}"\nreturn r\n'
COMMANDS = ["check", "compile", "run", "runs", "show", "graph", "new", "fake"]


def _wf(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, "-m", "wflang", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=full_env, timeout=120)


# ---------------------------------------------------------------- the table, in the docs and the code


def _doc_table(heading: str) -> dict[str, str]:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    start = text.index(heading)
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1]
    return rows


def test_the_docs_exit_table_is_the_codes_table() -> None:
    rows = _doc_table("| code | meaning |")
    assert sorted(int(k) for k in rows if k.isdigit()) == sorted(exits.MEANING)
    per_command = _doc_table("| command | codes |")
    assert {k.strip("`"): tuple(int(c) for c in v.split(", ")) for k, v in per_command.items()
            if k.startswith("`")} == exits.BY_COMMAND


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example_and_its_exit_codes(command: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "example:\n  wf " + command in out
    assert "exit status: " + ", ".join(f"{c} {exits.SHORT[c]}" for c in exits.BY_COMMAND[command]) in out
    # every example in a help text is a command that parses
    example = out.split("example:\n", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    _parser().parse_args(example.split()[1:])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"wf (wflang) {__version__}\n"


# ---------------------------------------------------------------- colour


BAD = HEADER + "return fils\n"


def test_colour_follows_the_terminal_no_color_and_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = tmp_path / "bad.wf"
    wf.write_text(BAD)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def check(*flags: str, after: tuple[str, ...] = ()) -> str:
        out = Tty()
        monkeypatch.setattr(sys, "stdout", out)
        assert main([*flags, "check", *after, str(wf)]) == exits.ERRORS
        return out.getvalue()

    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = check()
    assert "\x1b[1;31merror[WF201]:\x1b[0m unknown name `fils`" in coloured
    assert "\x1b[36mhint:\x1b[0m" in coloured
    assert "\x1b[" not in check("--color", "never")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in check()
    assert "\x1b[1;31merror[WF201]" in check("--color", "always")
    assert "\x1b[1;31merror[WF201]" in check(after=("--color", "always"))  # after the command too
    assert color.get_mode() == "auto"  # main restores it


def test_no_colour_off_a_terminal_and_plain_text_is_unchanged(tmp_path: Path) -> None:
    wf = tmp_path / "bad.wf"
    wf.write_text(BAD)
    done = _wf("check", str(wf))
    assert done.returncode == 1 and "\x1b[" not in done.stdout and "error[WF201]" in done.stdout
    forced = _wf("check", "--color", "always", str(wf))
    assert forced.returncode == 1
    assert re.sub(r"\x1b\[[0-9;]*m", "", forced.stdout) == done.stdout  # colour adds nothing else


# ---------------------------------------------------------------- exits, command by command


def _run(tmp_path: Path, body: str, args: object = None, fake: object = None, **kw: object) -> tuple[int, str, str]:
    wf = tmp_path / "w.wf"
    wf.write_text(HEADER + body)
    fake_path = tmp_path / "fake.json"
    fake_path.write_text(json.dumps(fake if fake is not None else {"rules": [], "default": "schema"}))
    if args is not None:
        (tmp_path / "args.json").write_text(json.dumps(args))
        kw["args_file"] = str(tmp_path / "args.json")
    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(wf), fake=str(fake_path), workspace=str(tmp_path), stdout=out, stderr=err,
                       stdin=io.StringIO(), **kw)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_run_of_a_missing_file_is_a_usage_error_as_in_check(tmp_path: Path) -> None:
    run, check = _wf("run", "nope.wf", cwd=tmp_path), _wf("check", "nope.wf", cwd=tmp_path)
    assert run.returncode == check.returncode == exits.USAGE
    assert "no such file: nope.wf" in run.stderr and "Traceback" not in run.stderr


def test_invalid_arguments_are_the_same_code_in_check_and_run(tmp_path: Path) -> None:
    wf = tmp_path / "w.wf"
    wf.write_text(HEADER + FANOUT)
    (tmp_path / "args.json").write_text('{"xs": "nope"}')
    check = _wf("check", str(wf), "--args", str(tmp_path / "args.json"))
    run = _wf("run", str(wf), "--args", str(tmp_path / "args.json"), "--fake", str(ROOT / "examples" / "pr-review"
              / "fake.json"), "--workspace", str(tmp_path))
    assert check.returncode == run.returncode == exits.ERRORS
    assert "args.xs: expected a list" in run.stderr


@pytest.mark.parametrize("value", ["0", "17", "100", "many"])
def test_concurrency_is_1_to_16(value: str, tmp_path: Path) -> None:
    done = _wf("run", str(EXAMPLE / "pr-review.wf"), "--concurrency", value, cwd=tmp_path)
    assert done.returncode == exits.USAGE
    assert "--concurrency" in done.stderr and "1 to 16" in done.stderr
    assert not (tmp_path / ".wf").exists()


@pytest.mark.parametrize("out", [".", "missing-dir/r.json", ""])
def test_an_output_path_is_checked_before_the_run(out: str, tmp_path: Path) -> None:
    code, stdout, err = _run(tmp_path, 'x = agent "a"\nreturn x\n', out_file=out)
    assert code == exits.USAGE, err
    assert f"--out {out}:" in err and "Device or resource busy" not in err
    assert "plan:" not in err and not (tmp_path / ".wf").exists()  # nothing ran, no journal
    if out == ".":
        assert "is a directory; give a file" in err


def test_a_run_where_every_agent_failed_exits_1(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path, 'x = agent "a"\ny = agent "b"\nreturn x\n', fake={"default": "fail"},
                          json_out=True)
    assert code == exits.ERRORS
    record = json.loads(out)
    assert record["status"] == "failed" and record["agents"] == {
        "done": 0, "failed": 2, "refused": 0, "from_journal": 0, "bound": 2}
    assert "every agent failed (2 of 2)" in record["error"] and "every agent failed" in err
    assert "resume after a fix with" in err


def test_a_run_the_budget_ended_exits_1(tmp_path: Path) -> None:
    body = ("budget output_tokens <= 5\ninput xs: list[int] max 10\n"
            "r = for x in xs:\n    agent \"go {x}\"\nreturn r\n")
    code, out, err = _run(tmp_path, body, {"xs": [1, 2, 3]}, json_out=True)
    assert code == exits.ERRORS, err
    record = json.loads(out)
    assert record["status"] == "failed" and record["agents"]["refused"] >= 1
    assert "budget of 5 output tokens is spent" in record["error"]


def test_a_run_with_some_failures_still_succeeds(tmp_path: Path) -> None:
    fake = {"rules": [{"prompt": "go 2", "fail": "down"}], "default": "schema"}
    code, out, err = _run(tmp_path, FANOUT, {"xs": [1, 2, 3]}, fake=fake, json_out=True)
    assert code == exits.OK, err
    assert json.loads(out)["agents"]["failed"] == 1


def test_run_json_is_one_record(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path, FANOUT, {"xs": [1, 2]}, json_out=True, out_file=str(tmp_path / "r.json"))
    assert code == exits.OK, err
    record = json.loads(out)  # exactly one JSON document on stdout
    assert set(record) >= {"run_id", "status", "result", "agents", "tokens", "cost_estimate_usd", "journal"}
    assert record["result"] == json.loads((tmp_path / "r.json").read_text())
    assert record["tokens"]["output_tokens"] > 0 and record["cost_estimate_usd"] > 0
    assert record["run_id"] in err


# ---------------------------------------------------------------- every command, each of its codes


def _cases(tmp: Path) -> list[tuple[str, list[str], int]]:
    good, bad = str(EXAMPLE / "pr-review.wf"), str(tmp / "bad.wf")
    args, fake = str(EXAMPLE / "args.json"), str(EXAMPLE / "fake.json")
    (tmp / "bad.wf").write_text(BAD)
    (tmp / "taken.wf").write_text(BAD)
    (tmp / "ws").mkdir()
    ws = ["--workspace", str(tmp / "ws")]
    (tmp / "broken").mkdir()
    (tmp / "broken" / ".wf").mkdir()
    (tmp / "broken" / ".wf" / "journal.sqlite").write_bytes(b"not a database" * 100)
    return [
        ("check", ["check", good], exits.OK),
        ("check", ["check", bad], exits.ERRORS),
        ("check", ["check", str(tmp / "nope.wf")], exits.USAGE),
        ("compile", ["compile", good, "-o", str(tmp / "out.js")], exits.OK),
        ("compile", ["compile", bad], exits.ERRORS),
        ("compile", ["compile", str(tmp / "nope.wf")], exits.USAGE),
        ("run", ["run", good, "--args", args, "--fake", fake, "--yes", *ws], exits.OK),
        ("run", ["run", bad, "--fake", fake, *ws], exits.ERRORS),
        ("run", ["run", good, "--fake", fake, "--args-json", '{"files": 3}', *ws], exits.ERRORS),
        ("run", ["run", good, "--concurrency", "100"], exits.USAGE),
        ("runs", ["runs", *ws], exits.OK),
        ("runs", ["runs", "--workspace", str(tmp / "broken")], exits.USAGE),
        ("show", ["show", "r-nope", *ws], exits.USAGE),
        ("graph", ["graph", good, "-o", str(tmp / "g.mmd")], exits.OK),
        ("graph", ["graph", bad], exits.ERRORS),
        ("graph", ["graph", str(tmp / "nope.wf")], exits.USAGE),
        ("new", ["new", "fresh", "-o", str(tmp / "fresh.wf")], exits.OK),
        ("new", ["new", "taken", "-o", str(tmp / "taken.wf")], exits.ERRORS),
        ("new", ["new", "Not_Kebab"], exits.USAGE),
        ("fake", ["fake", "init", good, "--args", args, "-o", str(tmp / "answers.json")], exits.OK),
        ("fake", ["fake", "init", good], exits.ERRORS),
        ("fake", ["fake", "init", good, "--args", args, "-o", str(tmp)], exits.USAGE),
    ]


def test_every_command_exits_as_documented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, set[int]] = {}
    for command, argv, expected in _cases(tmp_path):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's usage errors
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        assert code == expected, (argv, captured.err[-500:])
        assert "Traceback" not in captured.err
        seen.setdefault(command, set()).add(code)
    run_id = json.loads(_last_run_json(tmp_path / "ws"))["id"]  # the run above
    seen["show"].add(main(["show", run_id, "--workspace", str(tmp_path / "ws")]))
    # each command was seen ending with every code of its row but 3 (a bug) and 130 (Ctrl-C,
    # tests/runtime/test_resume.py)
    for command, codes in exits.BY_COMMAND.items():
        assert seen[command] == set(codes) - {exits.INTERNAL, exits.INTERRUPTED}, command


def _last_run_json(ws: Path) -> str:
    out = io.StringIO()
    from wflang.runtime.run_cli import runs_command

    runs_command(workspace=str(ws), json_out=True, stdout=out)
    return json.dumps(json.loads(out.getvalue())[0])


# ---------------------------------------------------------------- wf run --json with bad arguments


def _json_cases(tmp: Path) -> list[tuple[list[str], int, str]]:
    (tmp / "bad.json").write_text('{"xs": "nope"}')
    (tmp / "broken.json").write_text('{"xs": [1')
    (tmp / "big.json").write_text(json.dumps({"xs": list(range(30))}))
    return [
        (["--args", str(tmp / "bad.json")], exits.ERRORS, "args.xs: expected a list"),
        (["--args-json", '{"xs": [1], "zz": 1}'], exits.ERRORS, "unknown argument `zz`"),
        (["--args", str(tmp / "big.json")], exits.ERRORS, "30 items, the workflow declares max 20"),
        (["--args-json", '"nope"'], exits.ERRORS, "expected a list"),
        (["--args", str(tmp / "broken.json")], exits.USAGE, "not valid JSON"),
        (["--args", str(tmp / "missing.json")], exits.USAGE, "cannot read the arguments file"),
        (["--args-json", "[1", "--yes"], exits.USAGE, "--args-json: not valid JSON"),
        (["--args-json", "[1]", "--args", str(tmp / "bad.json")], exits.USAGE, "give the arguments once"),
        (["--args-json", "[1]", "--concurrency", "17"], exits.USAGE, "1 to 16"),
        (["--args-json", "[1]", "--sample", "0"], exits.USAGE, "--sample takes 1 or more"),
        (["--args-json", "[1]", "--allow", "root"], exits.USAGE, "unknown capability `root`"),
        (["--args-json", "[1]", "--out", str(tmp / "nowhere" / "r.json")], exits.USAGE, "does not exist"),
        (["--args-json", "[1]", "--resume", "r-nope"], exits.USAGE, "r-nope"),
        (["--args-json", "[1]", "--request-timeout", "0"], exits.USAGE, "--request-timeout"),
        (["--args-json", "[1]", "--no-such-option"], exits.USAGE, "unrecognized arguments"),
    ]


def test_run_json_with_bad_arguments_exits_as_documented_and_prints_no_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wf = tmp_path / "w.wf"
    wf.write_text(HEADER + 'input xs: list[int] max 20\nr = fanout x in xs:\n    agent "go {x}"\nreturn r\n')
    fake = tmp_path / "fake.json"
    fake.write_text('{"rules": [], "default": "schema"}')
    ws = tmp_path / "ws"
    ws.mkdir()
    for extra, expected, message in _json_cases(tmp_path):
        try:
            code = main(["run", str(wf), "--json", "--fake", str(fake), "--workspace", str(ws), *extra])
        except SystemExit as stop:  # argparse's usage errors
            code = int(stop.code or 0)
        out, err = capsys.readouterr()
        assert code == expected, (extra, err[-500:])
        assert expected in exits.BY_COMMAND["run"]
        assert message in err, (extra, err[-500:])
        assert out == "", extra  # no record: the run did not start
        assert "Traceback" not in err
    assert not (ws / ".wf").exists() or _no_runs(ws)  # nothing ran


def _no_runs(ws: Path) -> bool:
    from wflang.runtime.run_cli import runs_command

    out = io.StringIO()
    runs_command(workspace=str(ws), json_out=True, stdout=out)
    return json.loads(out.getvalue()) == []
