"""Compiled workflows in the real Claude Code runtime (npm @anthropic-ai/claude-code, pinned
in package.json), offline: every Messages API call goes to a stand-in on 127.0.0.1 inside a
network namespace with only loopback (`unshare -n`).

For every example, with its own answers, schema-shaped answers and every third agent failing,
each in another launch mode: the workflow loads and completes, starts no more agents than
`wf check --args` proves, and its result and multiset of (label, prompt) calls equal those of
wflang's Python runtime on the same fake answers (`wf run --fake`). Controls with known
outcomes show that the harness sees failures. See tests/claude_code/README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.claude_code import cases as C
from tests.claude_code.driver import claude_binary, isolated_command, isolation_problem

PINNED = "2.1.332"
REQUIRE = os.environ.get("WF_REQUIRE_CLAUDE_CODE") == "1"  # CI can turn every skip into a failure
EXAMPLE_IDS = [C.case_id(*run) for run in C.planned()]


def _cannot_run() -> str | None:
    """Why real Claude Code cannot run here, or None."""
    binary = claude_binary()
    if binary is None:
        return f"Claude Code is not installed: run `npm ci` (package.json pins @anthropic-ai/claude-code {PINNED})"
    try:
        version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60).stdout
    except OSError as exc:
        return f"the installed claude binary cannot run on this machine: {exc}"
    if PINNED not in version:
        return f"the installed claude is {version.strip()!r}, not the pinned {PINNED}: run `npm ci`"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip is missing: cannot make a loopback-only network namespace, so Claude Code is not run"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return ("cannot create a loopback-only network namespace (`unshare -n` needs root): refusing to run "
                f"Claude Code where it could reach the network ({probe.stderr.strip()})")
    return None


# Tests that read only some example cases: test name -> the case ids one of its items needs.
_CASES_OF = {
    "test_an_agent_claude_code_refuses_fails_the_same_way_in_python":
        lambda item: {f"{item.callspec.params['example']}--own--path"},
    "test_read_only_agent_types_get_no_write_tools_in_either_target": lambda item: {"explore-agent--own--path"},
}


def _selected_cases(session: pytest.Session) -> set[str] | None:
    """The example cases the session's selected tests need, when they are only
    `test_example_runs_in_claude_code_as_in_python` items (`-k range-review--own`): then
    the driver runs those alone. None (every case) when any other test needs the runtime."""
    wanted: set[str] = set()
    for item in session.items:
        if "runtime" not in getattr(item, "fixturenames", ()):
            continue
        name = getattr(item, "originalname", None)
        if name in _CASES_OF:  # a test of a few named cases: those alone
            wanted |= _CASES_OF[name](item)
            continue
        if name != "test_example_runs_in_claude_code_as_in_python":
            return None
        wanted.add(item.callspec.params["case_id"])  # type: ignore[attr-defined]
    return wanted or None


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every case (or only those the selected tests need), run once in one driver (several
    claude processes at a time)."""
    reason = _cannot_run()
    if reason is not None:
        if REQUIRE:
            pytest.fail(reason)
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("claude-code")
    only = _selected_cases(request.session)
    controls = C.control_cases(work) if only is None else []
    all_cases = C.longest_first(C.example_cases(work, only) + controls)
    (work / "cases.json").write_text(json.dumps([c.payload for c in all_cases]), encoding="utf-8")
    started = time.monotonic()
    proc = subprocess.run(isolated_command(work / "cases.json", work / "out", jobs=3), capture_output=True,
                          text=True, timeout=900, cwd=C.ROOT, env={**os.environ, "PYTHONPATH": str(C.ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = {c.id: json.loads((work / "out" / f"{c.id}.json").read_text(encoding="utf-8")) for c in all_cases}
    return {"cases": {c.id: c for c in all_cases}, "reports": reports, "seconds": time.monotonic() - started}


# ------------------------------------------------------------------ reading a run


def agents(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The requests of each workflow subagent, by agent id, in arrival order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for request in report["requests"]:
        if request["kind"] == "agent":
            out.setdefault(request["agent_id"], []).append(request)
    return out


def calls(report: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter((turns[0]["label"], turns[0]["prompt"]) for turns in agents(report).values())


def offered(request: dict[str, Any]) -> set[str]:
    """Every tool the request offers: its tools array and the deferred tools it announces."""
    return set(request["tools"]) | set(request.get("deferred") or [])


def top_level_tool_result(report: dict[str, Any]) -> str:
    """What the Workflow tool answered the top-level turn (its launch message or error)."""
    later = [r for r in report["requests"] if r["kind"] == "top" and r["answer"] == "text"]
    return later[0]["last_user"] if later else ""


def differences(case: C.Case, report: dict[str, Any]) -> list[str]:
    """How a run differs from the Python runtime's on the same answers (empty: the same)."""
    found = []
    expected = case.expected
    assert expected is not None
    if report["rc"] != 0 or report["timed_out"]:
        found.append(f"claude exited {report['rc']} (timed out: {report['timed_out']}): {report['stderr'][-800:]}")
    if report["overrun"] or report["stand_in_errors"]:
        found.append(f"stand-in: {report['overrun']} {report['stand_in_errors'][:3]}")
    output = report.get("output")
    if output is None:
        found.append("no task output: the workflow did not complete "
                     f"({(report.get('notification') or top_level_tool_result(report))[:600]})")
        return found
    if json.dumps(output.get("result"), sort_keys=True) != json.dumps(expected.value, sort_keys=True):
        found.append(f"result differs: claude {json.dumps(output.get('result'))[:400]} "
                     f"python {json.dumps(expected.value)[:400]}")
    seen = calls(report)
    if seen != expected.calls:
        only_claude, only_python = seen - expected.calls, expected.calls - seen
        found.append(f"calls differ: only in claude {list(only_claude)[:2]}, only in python {list(only_python)[:2]}")
    return found


# ------------------------------------------------------------------ the tests


def test_package_json_pins_the_runtime_exactly() -> None:
    package = json.loads((C.ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((C.ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    assert package["devDependencies"]["@anthropic-ai/claude-code"] == PINNED  # exact, no range
    locked = lock["packages"]
    assert locked["node_modules/@anthropic-ai/claude-code"]["version"] == PINNED
    assert locked["node_modules/@anthropic-ai/claude-code-linux-x64"]["version"] == PINNED


@pytest.mark.skipif(isolation_problem() is None, reason="this machine has no network beyond loopback to refuse")
def test_the_driver_refuses_to_run_with_a_network(tmp_path: Path) -> None:
    (tmp_path / "cases.json").write_text("[]")
    cmd = isolated_command(tmp_path / "cases.json", tmp_path / "out", jobs=1)[2:]  # without `unshare -n`
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=C.ROOT,
                          env={**os.environ, "PYTHONPATH": str(C.ROOT)})
    assert proc.returncode == 3
    assert "refusing to run Claude Code" in proc.stderr
    assert not list((tmp_path / "out").glob("*.json"))


@pytest.mark.parametrize("case_id", EXAMPLE_IDS)
def test_example_runs_in_claude_code_as_in_python(runtime: dict[str, Any], case_id: str) -> None:
    case, report = runtime["cases"][case_id], runtime["reports"][case_id]
    assert not differences(case, report)
    started = len(agents(report))
    assert started <= case.expected.bound
    assert report["output"]["agentCount"] == started + len(case.expected.unstarted)
    if case.answers == "schema-shaped":
        assert started > 0  # worst-case answers take the long paths: something ran
    failing = [t for t in agents(report).values() if t[0]["answer"].startswith("fail")]
    assert len(failing) == case.expected.failed
    if case.answers == "every-third-fails":
        assert failing  # the injection did fail some agents


# What Claude Code must not offer an agent, by the capabilities the Python runtime granted it.
FORBIDDEN = {"read": {"Bash", "Edit", "Write", "NotebookEdit"}, "edit": {"Bash"}, "shell": {"Edit", "Write",
             "NotebookEdit"}, "edit,shell": set(), "none": {"Bash", "Edit", "Write", "NotebookEdit", "Read",
                                                          "Glob", "Grep", "WebFetch", "WebSearch"}}
# ... and what it must offer (nothing granted is taken away).
REQUIRED = {"read": {"Read"}, "edit": {"Read", "Edit", "Write"}, "shell": {"Read", "Bash"},
            "edit,shell": {"Read", "Edit", "Write", "Bash"}, "none": set()}


@pytest.mark.parametrize("example", [e.name for e in C.EXAMPLES + C.PORT_EXAMPLES + C.EXTRA])
def test_agents_are_offered_exactly_the_granted_capabilities(runtime: dict[str, Any], example: str) -> None:
    """Each agent is offered the Claude Code tools for what the Python runtime grants the
    same call (the header's permissions, or nothing with tools=none): defect 1 of issue 9."""
    runs = [(runtime["cases"][i], runtime["reports"][i]) for i in EXAMPLE_IDS if i.startswith(example + "--")]
    checked = 0
    for case, report in runs:
        for turns in agents(report).values():
            first = turns[0]
            granted = case.expected.grants[(first["label"], first["prompt"])]
            assert len(granted) == 1, f"one call, two grants in Python: {granted}"
            grant = next(iter(granted))
            tools = offered(first)
            assert not tools & FORBIDDEN[grant], (first["label"], grant, sorted(tools & FORBIDDEN[grant]))
            assert REQUIRED[grant] <= tools, (first["label"], grant, sorted(REQUIRED[grant] - tools))
            checked += 1
    assert checked > 0


def test_every_launch_mode_and_answer_set_ran(runtime: dict[str, Any]) -> None:
    ran = [runtime["cases"][i] for i in EXAMPLE_IDS]
    assert {c.mode for c in ran} == set(C.MODES)
    grants = {g for c in ran for granted in c.expected.grants.values() for g in granted}
    assert grants == set(FORBIDDEN), grants  # every capability combination was offered somewhere
    assert {(c.mode, c.answers) for c in ran} == {(m, a) for m in C.MODES for a in C.ANSWERS}
    assert {c.example for c in ran} == {e.name for e in C.EXAMPLES + C.PORT_EXAMPLES + C.EXTRA}


def test_the_comparison_sees_a_changed_prompt(runtime: dict[str, Any]) -> None:
    case = runtime["cases"]["control--tampered-prompt"]
    found = differences(case, runtime["reports"]["control--tampered-prompt"])
    assert len(found) == 1 and found[0].startswith("calls differ"), found
    assert "Write an announcement" in found[0]


def test_a_bad_meta_is_refused_before_any_agent(runtime: dict[str, Any]) -> None:
    report = runtime["reports"]["control--bad-meta"]
    assert report["rc"] == 0 and report["output"] is None and not agents(report)
    assert "Invalid workflow script: meta.name must be a non-empty string" in top_level_tool_result(report)


def test_a_parse_error_is_refused_before_any_agent(runtime: dict[str, Any]) -> None:
    report = runtime["reports"]["control--parse-error"]
    assert report["rc"] == 0 and report["output"] is None and not agents(report)
    assert "Invalid workflow script: Script parse error" in top_level_tool_result(report)


def test_date_now_fails_the_workflow(runtime: dict[str, Any]) -> None:
    report = runtime["reports"]["control--date-now"]
    assert "<status>failed</status>" in report["notification"] and not agents(report)
    assert "Date.now() / new Date() are unavailable in workflow scripts" in report["notification"]


def test_an_array_rooted_schema_fails_the_agent_before_it_starts(runtime: dict[str, Any]) -> None:
    report = runtime["reports"]["control--array-schema"]
    assert "<status>failed</status>" in report["notification"] and not agents(report)
    assert "the root schema must declare type: 'object'" in report["notification"]


def test_a_list_longer_than_max_items_costs_five_turns_then_the_agent(runtime: dict[str, Any]) -> None:
    """What Claude Code does with a StructuredOutput list over `maxItems` (issue 9, defect 6):
    it sends the validation error back and lets the model retry, 5 calls in all, then
    agent() rejects; a model that corrects itself on a repair turn gets its value through."""
    report = runtime["reports"]["control--over-long-list"]
    result = report["output"]["result"]
    by_label = {turns[0]["label"]: turns for turns in agents(report).values()}
    assert len(by_label["repeats"]) == 5
    repair = "Output does not match required schema: /items: must NOT have more than 2 items (got 4)"
    assert all(t["last_user"] == repair for t in by_label["repeats"][1:])
    assert result["repeats"] == ("error: agent({schema}): StructuredOutput retry cap (5) exceeded — 5 failed calls "
                                 "with no valid output — last StructuredOutput error: " + repair)
    assert len(by_label["corrects"]) == 2
    assert result["corrects"] == {"items": ["a", "b"]}


def test_claude_code_splits_each_prompt_where_the_python_runtime_marks_its_head(runtime: dict[str, Any]) -> None:
    """Every agent of every example run: the shared head Claude Code sent as its own cached
    block (from the compiled script's `sharedHeadLength`) is the head the Python runtime's
    anthropic backend marks with `cache_control` for the same call, or both send none."""
    split = 0
    for case_id in EXAMPLE_IDS:
        case, report = runtime["cases"][case_id], runtime["reports"][case_id]
        for turns in agents(report).values():
            first = turns[0]
            marked = case.expected.heads[(first["label"], first["prompt"])]
            assert marked == {first["head"]}, (case_id, first["label"], marked, first["head"])
            split += first["head"] is not None
    assert split > 0  # plan-tournament's judges and the shared-head workflow's reviewers


def test_a_shared_head_is_read_back_from_the_cache(runtime: dict[str, Any]) -> None:
    """Eight reviewers whose prompts start with the same ~3,700 characters, as compiled
    (`sharedHeadLength`) and with the option removed: the same run, but with the head as its
    own cached block every reviewer after the first reads it (tests/prompt_cache.py)."""
    with_head = runtime["reports"]["shared-head--own--path"]
    without = runtime["reports"]["control--shared-head-stripped"]
    assert not differences(runtime["cases"]["control--shared-head-stripped"], without)
    firsts = {name: [t[0] for t in agents(r).values()] for name, r in (("with", with_head), ("without", without))}
    assert len(firsts["with"]) == len(firsts["without"]) == 8
    assert all(r["head"] is not None and r["breakpoints"] == 4 for r in firsts["with"])
    assert all(r["head"] is None and r["breakpoints"] == 3 for r in firsts["without"])
    head_tokens = len(firsts["with"][0]["head"]) // 4
    read = {name: sum(r["cache_read"] for r in rs) for name, rs in firsts.items()}
    assert read["with"] >= read["without"] + 7 * head_tokens, read


# The harness's workflows whose agents Claude Code refuses before they start (issue: fidelity).
UNSTARTED = {"unknown-agent-type": {"odd"}, "worktree-outside-git": {"isolated"}}


@pytest.mark.parametrize("example", sorted(UNSTARTED))
def test_an_agent_claude_code_refuses_fails_the_same_way_in_python(runtime: dict[str, Any], example: str) -> None:
    """An agent type nobody defines, a worktree outside git: Claude Code fails the agent
    before it sends a request (its fallback stands in), and the Python runtime fails the
    same agents with the same message."""
    case_id = f"{example}--own--path"
    case, report = runtime["cases"][case_id], runtime["reports"][case_id]
    refused = {p["label"]: p["error"] for p in report["output"]["workflowProgress"] if p.get("state") == "error"}
    assert set(refused) == UNSTARTED[example]
    assert refused == case.expected.unstarted
    assert not {turns[0]["label"] for turns in agents(report).values()} & UNSTARTED[example]


def test_read_only_agent_types_get_no_write_tools_in_either_target(runtime: dict[str, Any]) -> None:
    """Explore and Plan under a workflow declaring edit and shell: Claude Code offers them no
    Edit, Write or NotebookEdit (Bash stays), and the Python runtime grants them shell only;
    general-purpose keeps both."""
    case, report = runtime["cases"]["explore-agent--own--path"], runtime["reports"]["explore-agent--own--path"]
    by_label = {turns[0]["label"]: offered(turns[0]) for turns in agents(report).values()}
    grants = {label: next(iter(g)) for (label, _), g in case.expected.grants.items()}
    assert grants == {"explore": "shell", "plan": "shell", "apply": "edit,shell"}
    for label in ("explore", "plan"):
        assert not by_label[label] & {"Edit", "Write", "NotebookEdit"} and "Bash" in by_label[label]
    assert {"Edit", "Write", "Bash"} <= by_label["apply"]
