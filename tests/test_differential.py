"""Both targets mean the same thing: for every example and for random programs, the
Python runtime and the emitted JavaScript under the node host, given the same fake
answers, make the same multiset of agent calls, return the same result, and neither
starts more agents than `wf check` proves for the same arguments."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import programs
from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.loader import load
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, RunStopped, Scheduler
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())
SCHEMA_ANSWERS: dict[str, Any] = {"rules": [], "default": "schema"}

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="node is not installed; the JS target cannot be run here")


def call_key(call: dict[str, Any]) -> str:
    """What makes two agent calls the same call: everything the agent is asked, and how."""
    return json.dumps([call.get("prompt"), call.get("schema"), call.get("model"), call.get("effort"),
                       call.get("agent_type"), call.get("label"), call.get("phase"), call.get("grants"),
                       call.get("shared_head")],
                      sort_keys=True)


def run_both(wf: Path, args: Any, fake: dict[str, Any], work: Path) -> dict[str, Any]:
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    values, problems = validate_args(loaded.program, args)
    assert not problems, [d.message for d in problems]
    bound = loaded.result.bound.evaluate(sizes(loaded.program, values))

    script = work / (wf.stem + ".js")
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name),
                      encoding="utf-8")
    (work / "fake.json").write_text(json.dumps(fake), encoding="utf-8")
    (work / "args.json").write_text(json.dumps(args), encoding="utf-8")
    out = work / "calls.json"
    proc = subprocess.run(["node", str(HOST), "--script", str(script), "--fake", str(work / "fake.json"),
                           "--args", str(work / "args.json"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    js = json.loads(out.read_text(encoding="utf-8"))
    assert js["error"] is None, js["error"]

    backend = FakeBackend(fake)
    # as `wf run --allow` grants what the header declares
    scheduler = Scheduler(backend, str(work), Limits(bound=bound),
                          permissions=frozenset(loaded.program.header.permissions))
    outcome = trio.run(run_program, loaded.program, values, scheduler)
    return {"bound": bound, "js": js, "py_calls": backend.calls, "py_value": outcome.value,
            "py_logs": [message for _, message in outcome.logs]}


def assert_same(both: dict[str, Any]) -> None:
    js_calls = Counter(call_key(c) for c in both["js"]["calls"])
    py_calls = Counter(call_key(c) for c in both["py_calls"])
    only_js, only_py = js_calls - py_calls, py_calls - js_calls
    assert not only_js and not only_py, {"only in JS": list(only_js)[:3], "only in Python": list(only_py)[:3]}
    assert json.dumps(both["js"]["result"], sort_keys=True) == json.dumps(both["py_value"], sort_keys=True)
    # the same log lines (failures, skips, cuts, tallies), word for word; order may differ with timing
    assert Counter(both["js"]["logs"]) == Counter(both["py_logs"]), (both["js"]["logs"], both["py_logs"])
    assert both["js"]["agents_started"] <= both["bound"]
    assert len(both["py_calls"]) <= both["bound"]


def example_fakes(example: Path) -> list[tuple[str, dict[str, Any]]]:
    own = json.loads((example / "fake.json").read_text(encoding="utf-8"))
    return [("own answers", own), ("schema-shaped", SCHEMA_ANSWERS),
            ("every third fails", {**SCHEMA_ANSWERS, "fail_one_in": 3})]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_example_means_the_same_in_both_targets(example: Path, tmp_path: Path) -> None:
    wf = next(example.glob("*.wf"))
    args = json.loads((example / "args.json").read_text(encoding="utf-8"))
    for name, fake in example_fakes(example):
        work = tmp_path / name.replace(" ", "-")
        work.mkdir()
        both = run_both(wf, args, fake, work)
        assert_same(both)
        if name == "schema-shaped":
            # schema-shaped answers take the worst paths: something ran
            assert both["js"]["agents_started"] > 0


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=programs(), fail_one_in=st.sampled_from([None, 3, 4]))
def test_random_programs_mean_the_same_in_both_targets(program: Any, fail_one_in: int | None,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    work = tmp_path_factory.mktemp("random")
    wf = work / "gen.wf"
    wf.write_text(program.source, encoding="utf-8")
    fake = dict(SCHEMA_ANSWERS)
    if fail_one_in:
        fake["fail_one_in"] = fail_one_in
    assert_same(run_both(wf, program.args, fake, work))


EDGE_CASES = {
    # After a phase block, an agent outside any phase is shown in that phase in both
    # targets (Claude Code's phase() cursor); its label still names the workflow.
    "top-level agent after a phase": '''workflow edge:
    description: "top-level agent after a phase"

phase "A":
    x = agent "first"

y = agent "after {x}"
return y
''',
    "strings with lone surrogates and backticks in records": '''workflow edge:
    description: "values that JSON and JS print differently"

R = {k: "a\\ud800b`${{x}}`", n: [1.5, 2, "\\udfff"]}

phase "A":
    x = agent "look at {R}"
return {r: R, x: x, j: json(R)}
''',
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_mean_the_same_in_both_targets(name: str, tmp_path: Path) -> None:
    wf = tmp_path / "edge.wf"
    wf.write_text(EDGE_CASES[name], encoding="utf-8")
    for fake in (SCHEMA_ANSWERS, {**SCHEMA_ANSWERS, "fail_one_in": 2}):
        work = tmp_path / f"run{len(fake)}"
        work.mkdir()
        both = run_both(wf, {}, fake, work)
        assert_same(both)
        phases = {c["label"]: c["phase"] for c in both["js"]["calls"]}
        assert phases == {c["label"]: c["phase"] for c in both["py_calls"]}


SKIPS_AND_CUTS = '''workflow edge:
    description: "every skip and cut is one log line"

input xs: list[int] max 10

phase "A":
    r = fanout x in xs:
        stop when x > 3
        agent "go {x}"
    t = take(r, 1)
    u = top(xs, 2)
    n = 0
    repeat max 5 as i:
        n = n + 1
        stop when n >= 2
return {t: t, u: u, n: n, all: take(xs, 10)}
'''


def test_skips_and_cuts_are_logged_alike_in_both_targets(tmp_path: Path) -> None:
    wf = tmp_path / "edge.wf"
    wf.write_text(SKIPS_AND_CUTS, encoding="utf-8")
    both = run_both(wf, {"xs": [1, 2, 3, 4, 5, 6]}, SCHEMA_ANSWERS, tmp_path)
    assert_same(both)
    assert sorted(both["py_logs"]) == sorted([
        "fanout x in xs (line 7): 3 of 6 items skipped (stop when x > 3)",
        "take (line 10): kept 1 of 3 items",
        "top (line 11): kept 2 of 6 items",
        "repeat (line 13): stopped in round 2 of 5 (stop when n >= 2)",
    ])


BUDGETED = '''workflow spend:
    description: "runs out of output tokens"
budget output_tokens <= 12

input xs: list[int] max 20

phase "A":
    r = fanout x in xs with concurrency=1:
        agent "go {x}"
return r
'''


def test_an_exhausted_budget_ends_the_run_in_both_targets(tmp_path: Path) -> None:
    """Not a list of Nones that looks like success: both targets fail the run and say why."""
    wf = tmp_path / "spend.wf"
    wf.write_text(BUDGETED, encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    script = tmp_path / "spend.js"
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name), encoding="utf-8")
    (tmp_path / "args.json").write_text(json.dumps({"xs": list(range(10))}), encoding="utf-8")
    proc = subprocess.run(["node", str(HOST), "--script", str(script), "--args", str(tmp_path / "args.json"),
                           "--budget-total", "12"], capture_output=True, text=True, timeout=120)
    js = json.loads(proc.stdout)
    assert proc.returncode == 1 and js["result"] is None
    assert js["error"].startswith("WorkflowBudgetExceededError: the run stopped: Workflow token budget exceeded")
    backend = FakeBackend(SCHEMA_ANSWERS)
    scheduler = Scheduler(backend, str(tmp_path), Limits(concurrency=1, budget_output_tokens=12))
    values, _ = validate_args(loaded.program, {"xs": list(range(10))})
    with pytest.raises(RunStopped, match="the run stopped: the workflow's budget of 12 output tokens is spent"):
        trio.run(run_program, loaded.program, values, scheduler)
    # one agent at a time, each answer costs 4 tokens: both stop after the third
    assert len(backend.calls) == len(js["calls"]) == 3


LABELS_WITH_WHITE_SPACE = '''workflow edge:
    description: "explicit labels are normalized as Claude Code shows them"

input names: list[str] max 4

phase "A":
    out = fanout n in names:
        agent "say {n}" -> str
            with label="  check:\\t{n}  "
    kept = review n in names by 2:
        agent "judge {n}" -> bool
            with label="judge  {n} "
        accept when answer
    plain = agent "x" -> str
        with label=" plain   label "
return [out, kept, plain]
'''


def test_explicit_labels_are_normalized_alike_in_both_targets(tmp_path: Path) -> None:
    # Claude Code shows `String(label).replace(/\s+/g, " ").trim()`: both targets pass the
    # label already in that form, for every white space JavaScript's `\s` knows.
    wf = tmp_path / "edge.wf"
    wf.write_text(LABELS_WITH_WHITE_SPACE, encoding="utf-8")
    args = {"names": ["ab  cd", "x\u3000\u2028y", "tail\ufeff ", "\u00a0lead"]}
    both = run_both(wf, args, SCHEMA_ANSWERS, tmp_path)
    assert_same(both)
    shown = sorted(c["label"] for c in both["py_calls"])
    assert shown == sorted(c["label"] for c in both["js"]["calls"])
    assert {"check: ab cd", "check: x y", "check: tail", "check: lead", "plain label",
            "judge ab cd · reviewer 1", "judge lead · reviewer 2"} <= set(shown)
