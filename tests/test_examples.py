"""The example shelf: every example checks, fits its arguments, has fake answers that a
fake backend accepts and that answer every agent it starts, runs end to end on them, and
(where node is installed) compiles and runs under the node host with the same result."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from wflang.cli import check_command
from wflang.dsl.arguments import sizes as arg_sizes
from wflang.dsl.arguments import validate_args
from wflang.dsl.bounds import AGENT_CAP
from wflang.dsl.loader import Loaded, load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / f"{p.name}.wf").is_file())
FAKE_KEYS = {"rules", "default", "fail_one_in", "comment"}
RULE_KEYS = {"label", "prompt", "reply", "replies", "fail", "latency", "comment"}

# The kinds of workflow the shelf promises (issue 5), by the construct that makes each one.
PROMISED = {
    "pr-review": "review", "bug-sweep": "fanout", "deep-research": "vote", "migration": "fix",
    "plan-tournament": "tournament", "loop-until-dry": "repeat", "majority-vote": "vote", "digest": "fanout",
}


def wf_path(name: str) -> Path:
    return EXAMPLES_DIR / name / f"{name}.wf"


def loaded(name: str) -> Loaded:
    result = load(str(wf_path(name)))
    assert result.ok, "\n".join(d.message for d in result.diagnostics)
    return result


def args_of(name: str) -> dict:
    return json.loads((EXAMPLES_DIR / name / "args.json").read_text(encoding="utf-8"))


def bound_with_args(name: str) -> int:
    prog = loaded(name)
    values, diags = validate_args(prog.program, args_of(name))
    assert not diags, [d.message for d in diags]
    assert prog.result is not None and prog.result.bound is not None
    return prog.result.bound.evaluate(arg_sizes(prog.program, values))


def test_the_shelf_has_every_promised_workflow() -> None:
    assert len(EXAMPLES) >= 8
    for name, construct in PROMISED.items():
        assert name in EXAMPLES, f"examples/{name} is missing"
        assert re.search(rf"^\s*(\w+(, \w+)? = )?{construct}\b", wf_path(name).read_text(), re.M), \
            f"{name} should use `{construct}`"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_has_its_files(name: str) -> None:
    for f in (f"{name}.wf", "args.json", "fake.json", "README.md"):
        assert (EXAMPLES_DIR / name / f).is_file(), f"examples/{name}/{f} is missing"
    assert loaded(name).program.header.name == name


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_checks_well_under_the_cap(name: str) -> None:
    prog = loaded(name)
    assert prog.result is not None and prog.result.bound is not None
    bound = prog.result.bound
    assert bound.total < AGENT_CAP
    assert bound.agent_budget is not None and bound.total <= bound.agent_budget
    assert prog.program.types, f"{name} declares no type for its structured results"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_checks_with_its_args(name: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = str(wf_path(name))
    assert check_command([path], str(EXAMPLES_DIR / name / "args.json"), False, out, err) == 0, out.getvalue()
    m = re.search(r"at most (\d+)", out.getvalue())
    assert m, out.getvalue()
    with_args = int(m.group(1))
    assert with_args == bound_with_args(name)
    assert with_args <= loaded(name).result.bound.total  # type: ignore[union-attr]


def test_the_design_example_keeps_its_numbers() -> None:
    """pr-review is the design example: 387 in the worst case, 199 with its args."""
    assert loaded("pr-review").result.bound.total == 387  # type: ignore[union-attr]
    assert bound_with_args("pr-review") == 199


@pytest.mark.parametrize("name", EXAMPLES)
def test_fake_file_has_the_documented_shape(name: str) -> None:
    data = json.loads((EXAMPLES_DIR / name / "fake.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    assert set(data) <= FAKE_KEYS, set(data) - FAKE_KEYS
    assert isinstance(data.get("rules"), list) and data["rules"]
    for i, rule in enumerate(data["rules"]):
        assert isinstance(rule, dict) and set(rule) <= RULE_KEYS, f"rules[{i}]: {rule}"
        assert len({"reply", "replies", "fail"} & set(rule)) <= 1, f"rules[{i}]"
    assert data.get("default", "schema") in ("schema", "fail") or isinstance(data["default"], dict)


@pytest.mark.parametrize("name", EXAMPLES)
def test_fake_answers_read_like_model_output(name: str) -> None:
    """No placeholder answers: string replies are sentences, not "x"."""
    data = json.loads((EXAMPLES_DIR / name / "fake.json").read_text(encoding="utf-8"))
    strings: list[str] = []

    def collect(v: object) -> None:
        if isinstance(v, str):
            strings.append(v)
        elif isinstance(v, list):
            for x in v:
                collect(x)
        elif isinstance(v, dict):
            for x in v.values():
                collect(x)

    for rule in data["rules"]:
        collect(rule.get("reply"))
        collect(rule.get("replies"))
    prose = [s for s in strings if " " in s]
    assert prose, f"{name}: no prose in the fake answers"
    assert sum(len(s) for s in prose) / len(prose) > 25


def _run_fake(name: str, tmp_path: Path):
    fake = pytest.importorskip("wflang.runtime.backends.fake")
    interpreter = pytest.importorskip("wflang.runtime.interpreter")
    scheduler = pytest.importorskip("wflang.runtime.scheduler")
    import trio

    prog = loaded(name)
    values, diags = validate_args(prog.program, args_of(name))
    assert not diags
    backend = fake.FakeBackend.load(EXAMPLES_DIR / name / "fake.json")
    sched = scheduler.Scheduler(backend, tmp_path, scheduler.Limits(), permissions=frozenset({"edit", "shell"}))
    outcome = trio.run(interpreter.run_program, prog.program, values, sched)
    return backend, outcome


@pytest.mark.parametrize("name", EXAMPLES)
def test_fake_answers_cover_every_agent(name: str, tmp_path: Path) -> None:
    """Every call is answered by a rule of fake.json (none falls through to the schema
    default, whose answers are placeholders) and none fails."""
    backend, outcome = _run_fake(name, tmp_path)
    assert backend.calls
    unanswered = [c["label"] for c in backend.calls
                  if not any(r.matches(c["label"], c["prompt"]) for r in backend.spec.rules)]
    assert not unanswered, f"no rule answers: {unanswered}"
    failed = [(c["label"], c["error"]) for c in backend.calls if c["failed"]]
    assert not failed
    assert len(backend.calls) <= bound_with_args(name)
    assert outcome.value is not None


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_with_wf_run_fake(name: str, tmp_path: Path) -> None:
    run_cli = pytest.importorskip("wflang.runtime.run_cli")
    out, err = io.StringIO(), io.StringIO()
    d = EXAMPLES_DIR / name
    rc = run_cli.run_command(file=str(d / f"{name}.wf"), args_file=str(d / "args.json"),
                             fake=str(d / "fake.json"), json_out=True, workspace=str(tmp_path), yes=True,
                             stdout=out, stderr=err, stdin=io.StringIO())
    assert rc == 0, err.getvalue()
    record = json.loads(out.getvalue())
    assert record["status"] == "done" and record["run_id"] in err.getvalue()
    result = record["result"]
    assert isinstance(result, dict) and result


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_compiles_and_runs_under_the_node_host(name: str, tmp_path: Path) -> None:
    emit = pytest.importorskip("wflang.transpiler.emit")
    host = ROOT / "wflang" / "transpiler" / "host.mjs"
    if shutil.which("node") is None or not host.is_file():
        pytest.skip("node or the node host is not available")
    prog = loaded(name)
    script = tmp_path / f"{name}.js"
    script.write_text(emit.compile_js(prog.program, bound=prog.result.bound, source_name=str(wf_path(name))),
                      encoding="utf-8")
    d = EXAMPLES_DIR / name
    done = subprocess.run(["node", str(host), "--script", str(script), "--fake", str(d / "fake.json"),
                           "--args", str(d / "args.json")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    js = json.loads(done.stdout)
    assert js["error"] is None
    backend, outcome = _run_fake(name, tmp_path / "py")
    # Both targets: the same agents (by label) and the same result.
    assert sorted(c["label"] for c in js["calls"]) == sorted(c["label"] for c in backend.calls)
    assert json.dumps(js["result"], sort_keys=True) == json.dumps(outcome.value, sort_keys=True)


@pytest.mark.parametrize("name", EXAMPLES)
def test_readme_states_the_proven_bound(name: str) -> None:
    readme = (EXAMPLES_DIR / name / "README.md").read_text(encoding="utf-8")
    total = loaded(name).result.bound.total  # type: ignore[union-attr]
    assert re.search(rf"agents, worst case: .*= {total}\b", readme), \
        f"README.md should show `wf check` output with the worst case {total}"
    assert re.search(rf"at most {bound_with_args(name)}\b", readme), "README.md should show the bound with args.json"
    for cmd in ("wf check", "wf compile", "wf run", "--fake"):
        assert cmd in readme, f"README.md should say how to run it: {cmd}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_readme_drawing_is_current(name: str) -> None:
    """The README's Mermaid drawing is exactly what `wf graph` prints today (refresh it
    with `wf graph examples/NAME/NAME.wf` when the workflow changes)."""
    from wflang.graph import render

    readme = (EXAMPLES_DIR / name / "README.md").read_text(encoding="utf-8")
    m = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert m, "README.md has no ```mermaid block"
    drawing = render(loaded(name), "mermaid")
    assert m.group(1) == drawing


def test_bug_sweep_ranks_by_declared_severity(tmp_path: Path) -> None:
    """`top(..., by=.severity)` ranks by the union's declared order even though the per-file
    list starts as `[]` in one branch (the checker keeps the record type through it)."""
    _, outcome = _run_fake("bug-sweep", tmp_path)
    order = ["low", "medium", "high", "critical"]
    ranks = [order.index(b["severity"]) for b in outcome.value["bugs"]]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 3


def test_growing_rounds_read_as_the_rule() -> None:
    """loop-until-dry's `seen` grows every round, but each round starts the same agents:
    the bound reads rounds × 3, not one gated term per round."""
    bound = loaded("loop-until-dry").result.bound  # type: ignore[union-attr]
    assert "≥" not in bound.formula() and "rounds×3" in bound.formula()
