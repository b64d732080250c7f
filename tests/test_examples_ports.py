"""The ports' other paths (examples/*/README.md "What the port kept"): the early exits the
original workflows take (`return` inside `if`) and an agent's fallback (`agent ... else`),
each on fake answers that lead there, in the Python runtime and under the node host alike:
the same agents (by label), the same result, and no more agents than the proven bound."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_examples import EXAMPLES_DIR, ROOT, args_of, bound_with_args, loaded, wf_path


def own_rules(name: str) -> list[dict[str, Any]]:
    return json.loads((EXAMPLES_DIR / name / "fake.json").read_text(encoding="utf-8"))["rules"]


def run_both(name: str, rules: list[dict[str, Any]], tmp_path: Path) -> tuple[Any, list[str]]:
    """(the result, the agents' labels) of `name` on these rules, the same in both targets."""
    fake_mod = pytest.importorskip("wflang.runtime.backends.fake")
    interpreter = pytest.importorskip("wflang.runtime.interpreter")
    scheduler = pytest.importorskip("wflang.runtime.scheduler")
    emit = pytest.importorskip("wflang.transpiler.emit")
    import trio

    from wflang.dsl.arguments import validate_args

    spec = {"rules": rules, "default": "fail"}  # a call no rule answers fails: no placeholder answers
    fake = tmp_path / "fake.json"
    fake.write_text(json.dumps(spec), encoding="utf-8")
    prog = loaded(name)
    values, diags = validate_args(prog.program, args_of(name))
    assert not diags
    backend = fake_mod.FakeBackend.load(fake)
    (tmp_path / "py").mkdir()
    sched = scheduler.Scheduler(backend, tmp_path / "py", scheduler.Limits(),
                                permissions=frozenset({"edit", "shell"}))
    outcome = trio.run(interpreter.run_program, prog.program, values, sched)
    labels = sorted(c["label"] for c in backend.calls)
    assert len(labels) <= bound_with_args(name)
    host = ROOT / "wflang" / "transpiler" / "host.mjs"
    if shutil.which("node") is None or not host.is_file():
        pytest.skip("node or the node host is not available")
    script = tmp_path / f"{name}.js"
    script.write_text(emit.compile_js(prog.program, bound=prog.result.bound, source_name=str(wf_path(name))),
                      encoding="utf-8")
    done = subprocess.run(["node", str(host), "--script", str(script), "--fake", str(fake),
                           "--args", str(EXAMPLES_DIR / name / "args.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    js = json.loads(done.stdout)
    assert js["error"] is None
    assert sorted(c["label"] for c in js["calls"]) == labels
    assert json.dumps(js["result"], sort_keys=True) == json.dumps(outcome.value, sort_keys=True)
    return outcome.value, labels


def test_range_review_is_clean_when_no_area_finds_anything(tmp_path: Path) -> None:
    rules = [{"label": "review:*", "reply": {"findings": [], "audited_clean": ["every changed file"],
                                             "not_audited": []}}]
    result, labels = run_both("range-review", rules, tmp_path)
    assert result["verdict"] == "CLEAN" and result["audited_clean"] == ["every changed file"] * 5
    assert len(labels) == 5  # the reviewers only: no skeptic, architect or final call


def test_range_review_is_clean_after_verify_when_every_finding_is_refuted(tmp_path: Path) -> None:
    refute = {"label": "verify:*", "reply": {"refuted": True, "confidence": "high",
                                             "reasoning": "A guard two lines up already prevents it."}}
    result, labels = run_both("range-review", [refute, *own_rules("range-review")], tmp_path)
    assert result["verdict"] == "CLEAN-AFTER-VERIFY" and len(result["refuted"]) == 4
    assert len(labels) == 5 + 4 and not any(label.startswith("architect") for label in labels)


def test_proven_bug_hunt_ends_after_an_empty_hunt(tmp_path: Path) -> None:
    result, labels = run_both("proven-bug-hunt", [{"label": "hunt:*", "reply": {"findings": []}}], tmp_path)
    assert result == {"bugs_proven": 0, "prs": []}
    assert labels == sorted(f"hunt:{k}:r1" for k in ("concurrency", "error-paths", "boundaries",
                                                       "state-integrity", "security"))


def test_proven_bug_hunt_ends_when_no_claim_is_proven(tmp_path: Path) -> None:
    unproven = {"label": "prove:*", "reply": {"proven": False, "reason": "The test passes on the current code."}}
    result, labels = run_both("proven-bug-hunt", [unproven, *own_rules("proven-bug-hunt")], tmp_path)
    assert result == {"claims": 4, "bugs_proven": 0, "prs": []}
    assert not any(label in ("curate",) or label.startswith("fix:") for label in labels)


def test_proven_bug_hunt_plans_nothing_when_the_curator_fails(tmp_path: Path) -> None:
    failing = {"label": "curate", "fail": "simulated outage"}
    result, labels = run_both("proven-bug-hunt", [failing, *own_rules("proven-bug-hunt")], tmp_path)
    # the fallback plan `{bugs: [], dropped_count: 0}` keeps the run going, with no fix agent
    assert result == {"claims": 4, "bugs_proven": 3, "prs": [], "no_pr": [], "dropped": 0}
    assert "curate" in labels and not any(label.startswith("fix:") for label in labels)


def test_research_to_pr_stops_at_a_failed_draft(tmp_path: Path) -> None:
    draft = {"label": "draft:*", "reply": {"slides": 9, "gates_passed": False,
                                           "summary": "check-doc.mjs reports two slides without a source."}}
    result, labels = run_both("research-to-pr", [draft], tmp_path)
    assert result["stopped_at"] == "draft" and result["draft"]["slides"] == 9
    assert labels == ["draft:raft-log-compaction"]


def test_grounded_research_answers_a_quick_question_with_two_agents(tmp_path: Path) -> None:
    rules = [{"label": "triage", "reply": {"kind": "QUICK_ANSWER", "reason": "One fact from one source."}},
             {"label": "quick-answer", "reply": "Tokio's default worker count is the number of CPU cores "
                                                "(docs.rs/tokio, runtime::Builder::worker_threads)."}]
    result, labels = run_both("grounded-research", rules, tmp_path)
    assert result["kind"] == "QUICK_ANSWER" and result["answer"].startswith("Tokio")
    assert labels == ["quick-answer", "triage"]


def test_security_audit_keeps_a_finding_whose_verifier_failed_as_unverified(tmp_path: Path) -> None:
    failing = {"label": "verify:*", "prompt": "raw SQL string", "fail": "simulated outage"}
    result, labels = run_both("security-audit", [failing, *own_rules("security-audit")], tmp_path)
    # the fallback `{is_real: false, confidence: "low", ...}` drops the SQL injection from the
    # report, as the original's `verification?.is_real || false` does, and the run goes on
    summary = result["summary"]
    assert summary["total_files_scanned"] == 5 and summary["total_findings"] == 6
    assert summary["verified_findings"] == 3 and summary["by_severity"]["critical"] == 0
    assert len(labels) == 1 + 6 + 6


def test_security_audit_counts_the_non_blank_lines_of_the_discovery_answer(tmp_path: Path) -> None:
    listing = {"label": "find-changed-files", "reply": "apps/a.ts\n\n  \napps/b.ts\r\npackages/c.ts\n"}
    result, _ = run_both("security-audit", [listing, *own_rules("security-audit")], tmp_path)
    assert result["summary"]["total_files_scanned"] == 3


def test_dimension_review_drops_a_finding_whose_verifier_failed(tmp_path: Path) -> None:
    failing = {"label": "verify:security:*", "fail": "simulated outage"}
    result, labels = run_both("dimension-review", [failing, *own_rules("dimension-review")], tmp_path)
    # `else none` keeps the item with no verdict; the filter of confirmed findings drops it
    assert result["confirmed_count"] == 2 and "security" not in [f["dimension"] for f in result["findings"]]
    assert any(label.startswith("verify:security:") for label in labels)  # it ran, and failed


def test_support_triage_runs_an_empty_inbox_when_the_inbox_agent_fails(tmp_path: Path) -> None:
    failing = {"label": "inbox", "fail": "simulated outage"}
    result, labels = run_both("support-triage", [failing, *own_rules("support-triage")], tmp_path)
    # `else {ids: []}`: no ticket flows, and the graph check still runs
    assert result["tickets"] == 0 and result["written"] == 0
    assert labels == ["inbox", "verify"]


def test_category_audit_disposes_of_fixes_before_issues_in_one_fan_out(tmp_path: Path) -> None:
    rules = own_rules("category-audit")
    synth = next(r for r in rules if r.get("label") == "synthesize")
    rows = synth["reply"]["rows"]
    # the issue row first: the dispositions still list the fixes first, as parallel([...fixRows, ...issueRows])
    reordered = {**synth, "reply": {**synth["reply"], "rows": [rows[2], rows[3], rows[0], rows[1]]}}
    result, labels = run_both("category-audit", [reordered, *rules], tmp_path)
    assert [(d["id"], d["kind"]) for d in result["dispositions"]] == [
        ("EH-V1.46.1-1", "fix"), ("DOC-V1.46.1-1", "fix"), ("PF-V1.46.1-1", "issue")]
    assert "issue-draft:PF-V1.46.1-1" in labels and not any(label.endswith("PF-V1.46.1-2") for label in labels)
