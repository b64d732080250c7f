"""The node test host (wflang/transpiler/host.mjs): host semantics on small hand-written
scripts (tests/transpiler/host_scripts/), and exact agreement with the Python fake backend
on the fake-answer format (docs/fake-answers.md)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.test_fake_backend import _random_value, _validation_schema
from wflang.runtime.backend import AgentFailure, AgentRequest
from wflang.runtime.backends.fake import (
    FakeBackend,
    FakeFileError,
    fails_by_hash,
    js_json,
    parse_fake,
    schema_value,
)

NODE = shutil.which("node")
HOST = Path(__file__).resolve().parents[2] / "wflang" / "transpiler" / "host.mjs"
SCRIPTS = Path(__file__).resolve().parent / "host_scripts"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the node test host cannot run")


def run_host(tmp_path: Path, script: str | Path, fake: dict[str, Any] | None = None, args: Any = None,
             budget: int | None = None, expect_rc: int = 0) -> dict[str, Any]:
    """Run host.mjs and return its JSON report (checking the exit status)."""
    path = script if isinstance(script, Path) else SCRIPTS / script
    cmd = [str(NODE), str(HOST), "--script", str(path), "--out", str(tmp_path / "out.json")]
    if fake is not None:
        (tmp_path / "fake.json").write_text(json.dumps(fake))
        cmd += ["--fake", str(tmp_path / "fake.json")]
    if args is not None:
        (tmp_path / "args.json").write_text(json.dumps(args))
        cmd += ["--args", str(tmp_path / "args.json")]
    if budget is not None:
        cmd += ["--budget-total", str(budget)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == expect_rc, proc.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    report["stderr"] = proc.stderr
    return report


def by_label(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["label"]: c for c in report["calls"]}


# ---------------------------------------------------------------------------- parallel


def test_parallel_is_a_barrier_with_null_slots_in_order(tmp_path: Path) -> None:
    fake = {"rules": [{"label": "slow *", "latency": 5}, {"label": "fast *", "latency": 1},
                      {"label": "bad *", "fail": "simulated outage"}]}
    report = run_host(tmp_path, "parallel_barrier.js", fake)
    assert report["result"]["first"] == [
        "text for slow 0 #0", "text for fast 1 #0", None, None, 42, ["text for fast inner #0"]]
    assert report["result"]["after"] == "text for after #0"
    assert report["result"]["isRealmArray"] is True
    calls = by_label(report)
    assert [c["label"] for c in report["calls"]] == ["slow 0", "fast 1", "bad 3", "fast inner", "after"]
    assert calls["after"]["start"] == 5  # started only when the slowest thunk was done
    assert calls["bad 3"]["failed"] and calls["bad 3"]["error"] == "simulated outage"
    assert "parallel[2] failed: thunk exploded" in report["logs"]
    assert "parallel[3] failed: simulated outage" in report["logs"]
    assert report["virtual_time"] == 5


def test_parallel_argument_checks_and_the_item_limit(tmp_path: Path) -> None:
    result = run_host(tmp_path, "parallel_errors.js")["result"]
    errors = result["errors"]
    assert errors["notArray"] == "TypeError: parallel() expects an array of functions"
    assert errors["promises"] == ("TypeError: parallel() expects an array of functions, not promises. "
                                  "Wrap each call: () => agent(...)")
    assert errors["values"] == "TypeError: parallel() expects an array of functions"
    assert "4097" in errors["tooMany"] and "4096" in errors["tooMany"]
    assert "4097" in errors["pipelineTooMany"] and "4096" in errors["pipelineTooMany"]
    assert errors["pipelineNotArray"].startswith("TypeError: ")
    assert result["empty"] == []
    assert (result["fullLength"], result["last"], result["pipelineLast"]) == (4096, 4095, 4096)


# ---------------------------------------------------------------------------- pipeline


def test_pipeline_has_no_barrier_and_null_ends_the_item(tmp_path: Path) -> None:
    fake = {"rules": [{"label": "s1 a", "latency": 1}, {"label": "s1 d", "latency": 10},
                      {"label": "s2 *", "latency": 1}]}
    report = run_host(tmp_path, "pipeline_flow.js", fake)
    out = report["result"]["out"]
    assert out == ["text for s2 a #0", None, None, "undefined reached stage 4", None]
    # The first stage gets the item itself as prev; a null item skips every stage.
    assert report["result"]["firstPrev"] == [[0, True], [1, True], [2, True], [3, True]]
    calls = by_label(report)
    assert set(calls) == {"s1 a", "s1 d", "s2 a", "s2 d"}  # no stage 2 for b (null) or c (threw)
    assert calls["s2 a"]["prompt"] == "s2 a after text for s1 a #0"
    # No barrier: item a is in stage 2 while item d is still in stage 1.
    assert calls["s2 a"]["start"] == 1 < calls["s1 d"]["end"] == 10
    assert calls["s1 a"]["phase"] == "One" and calls["s2 a"]["phase"] == "Two"
    assert "pipeline[2] failed: stage blew up" in report["logs"]


# ---------------------------------------------------------------------------- limits


def test_the_1001st_agent_throws(tmp_path: Path) -> None:
    report = run_host(tmp_path, "agent_cap.js")
    result = report["result"]
    assert result["answered"] == 1000 and result["lastSlot"] is None
    assert result["topLevel"].startswith("WorkflowAgentCapError: Workflow agent() call cap reached (1000)")
    assert report["agents_started"] == 1000 == len(report["calls"])


def test_budget_counts_fake_output_tokens_and_stops_agents(tmp_path: Path) -> None:
    unlimited = run_host(tmp_path, "budget_guard.js")["result"]
    assert unlimited["start"] == {"total": None, "spent": 0, "unlimited": True, "frozen": True}
    assert unlimited["stopped"] is None and len(unlimited["spent"]) == 20
    # Each answer "text for b N #0" is 15-16 UTF-16 units: 4 output tokens.
    assert unlimited["spent"][:3] == [4, 8, 12]
    report = run_host(tmp_path, "budget_guard.js", budget=20)
    limited = report["result"]
    assert limited["start"]["total"] == 20 and limited["start"]["unlimited"] is False
    assert limited["spent"] == [4, 8, 12, 16, 20]
    assert limited["stopped"].startswith("WorkflowBudgetExceededError: Workflow token budget exceeded (20 / 20 output")
    assert limited["slots"] == [None] and limited["remaining"] == 0
    assert "parallel: 1 slot dropped — token budget exceeded" in report["logs"]
    assert report["agents_started"] == 5


# ---------------------------------------------------------------------------- the sandbox


def test_clock_randomness_and_code_generation_are_off(tmp_path: Path) -> None:
    out = run_host(tmp_path, "determinism.js")["result"]
    date_msg = ("Error: Date.now() / new Date() are unavailable in workflow scripts (breaks resume). "
                "Stamp results after the workflow returns, or pass timestamps via args.")
    assert out["dateNow"] == out["newDate"] == out["bareDate"] == {"error": date_msg}
    assert out["random"] == {"error": "Error: Math.random() is unavailable in workflow scripts (breaks resume). "
                                      "For N independent samples, include the index in the agent label or prompt."}
    assert out["fixedDate"] == {"ok": "1970-01-01T00:00:00.000Z"}
    assert out["dateParse"] == out["dateUtc"] == {"ok": 1577836800000}
    codegen = "EvalError: Code generation from strings disallowed for this context"
    assert out["eval"] == out["newFunction"] == {"error": codegen}
    assert out["undeclared"]["error"].startswith("ReferenceError")  # strict mode
    assert out["missing"] == {"ok": []} and out["present"] == {"ok": []}
    assert out["metaVisible"] == {"ok": "determinism"}


def test_args_are_a_deep_copy_and_undefined_when_absent(tmp_path: Path) -> None:
    assert run_host(tmp_path, "args_copy.js")["result"] == {"type": "undefined"}
    given = {"list": ["a", "é", "\ud800"], "n": 1}
    result = run_host(tmp_path, "args_copy.js", args=given)["result"]
    assert result["realmObject"] is True and result["realmArray"] is True
    assert json.loads(result["before"]) == given
    assert result["after"]["list"] == ["a", "é", "\ud800", "added in the script"]
    assert run_host(tmp_path, "args_copy.js", args="a plain string")["result"] == {
        "type": "string", "value": "a plain string"}


def test_timers_and_console_use_the_virtual_clock_and_the_log(tmp_path: Path) -> None:
    report = run_host(tmp_path, "timers.js")
    assert report["result"] == ["a", "b"]
    assert report["virtual_time"] == 2
    assert report["logs"] == ["console goes to the log { n: 1 }"]


def test_workflow_runs_a_sibling_script_one_level_deep(tmp_path: Path) -> None:
    report = run_host(tmp_path, "workflow_parent.js")
    result = report["result"]
    assert result["byName"]["r"] == "text for child 1 #0"
    assert result["byPath"]["r"] == "text for child 2 #0"
    assert "nesting is one level only" in result["byName"]["nested"]
    assert "unknown workflow" in result["unknown"]
    assert report["phases"] == ["Parent"]  # phase() does nothing in a child
    assert report["logs"] == ["[workflow-child] child running"] * 2
    assert [c["label"] for c in report["calls"]] == ["child 1", "child 2"]
    assert all(c["phase"] == "Parent" for c in report["calls"])


# ---------------------------------------------------------------------------- results and failures


def test_a_failing_top_level_agent_rejects_and_fails_the_run(tmp_path: Path) -> None:
    report = run_host(tmp_path, "top_level_throw.js", {"rules": [{"label": "bad *", "fail": "simulated outage"}]},
                      expect_rc=1)
    assert report["error"] == "Error: simulated outage"
    assert report["meta"]["name"] == "top-level-throw"
    assert [(c["label"], c["failed"]) for c in report["calls"]] == [("fine", False), ("bad one", True)]
    assert report["logs"] == ["got text for fine #0"] and report["phases"] == ["Only"]
    assert report["calls"][0]["phase"] == "Only"
    assert "simulated outage" in report["stderr"]


def test_an_error_value_is_a_normal_result(tmp_path: Path) -> None:
    report = run_host(tmp_path, "error_value.js")
    assert report["error"] is None
    assert report["result"] == {"error": "args.files: required, a list of strings"}
    assert report["meta"] == {"name": "error-value", "description": "returning an error value is a normal result"}


def test_a_script_that_never_settles_fails(tmp_path: Path) -> None:
    report = run_host(tmp_path, "never_settles.js", expect_rc=1)
    assert "never settles" in report["error"]


@pytest.mark.parametrize(("text", "message"), [
    ("export const meta = { name: 'x', description: 'y' }\nconst a = ;\n", "SyntaxError"),
    ("const a = 1\nreturn a\n", "must begin with `export const meta"),
    ("export const meta = { name: NAME, description: 'y' }\nreturn 1\n", "meta is not a pure literal"),
    ("export const meta = { description: 'y' }\nreturn 1\n", "meta.name must be a non-empty string"),
    ("export const meta = { name: 'x', description: 'y' }\nimport fs from 'node:fs'\n", "SyntaxError"),
    ("export const meta = { name: 'x', description: 'y' }\nwith (Math) { log(PI) }\n", "SyntaxError"),
    ("export const meta = { name: 'x', description: 'y' \nreturn 1\n", "never closed"),
])
def test_load_failures_exit_1_with_a_message(tmp_path: Path, text: str, message: str) -> None:
    script = tmp_path / "broken.js"
    script.write_text(text)
    report = run_host(tmp_path, script, expect_rc=1)
    assert report["error"].startswith(f"cannot load {script}: ")
    assert message in report["error"] and message in report["stderr"]
    assert report["calls"] == [] and report["meta"] is None


def test_leading_comments_are_allowed_and_line_numbers_kept(tmp_path: Path) -> None:
    script = tmp_path / "commented.js"
    script.write_text("// a header comment\n/* another */\nexport const meta = { name: 'c', description: 'd' }\n"
                      "\n\nnull.boom\n")
    report = run_host(tmp_path, script, expect_rc=1)
    assert report["meta"] == {"name": "c", "description": "d"}
    assert report["error"].startswith("TypeError")
    assert f"{script}:6" in report["stderr"]


def test_bad_command_line_and_bad_fake_file_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([str(NODE), str(HOST), "--script"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "usage" in proc.stderr
    (tmp_path / "fake.json").write_text('{"rules": [{"label": "x", "replys": [1]}]}')
    proc = subprocess.run([str(NODE), str(HOST), "--script", str(SCRIPTS / "error_value.js"),
                           "--fake", str(tmp_path / "fake.json")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f'fake file {tmp_path / "fake.json"}: rules[0]: unknown key "replys"' in proc.stderr


# ---------------------------------------------------------------------------- agreement with Python

FINDING = {"type": "object", "required": ["file", "line", "issue", "severity"], "properties": {
    "file": {"type": "string"}, "line": {"type": "integer"}, "issue": {"type": "string"},
    "severity": {"type": "string", "enum": ["low", "medium", "high"]}}}

SCHEMAS: list[dict[str, Any] | None] = [
    None,
    {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": 5, "items": FINDING}}},
    {"type": "object", "required": ["value"], "properties": {"value": {"type": "boolean"}}},
    {"type": "object", "required": ["passed", "details"],
     "properties": {"passed": {"type": "boolean"}, "details": {"type": "string"}}},
    {"type": "object", "properties": {
        "why": {"type": ["string", "null"]}, "maybe": {"anyOf": [{"type": "null"}, FINDING]},
        "count": {"type": "integer", "minimum": -3, "maximum": 40}, "score": {"type": "number", "minimum": 0.1, "maximum": 0.9},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}, "tag": {"enum": ["x", "y", 3, None]},
        "short": {"type": "string", "maxLength": 7}, "padded": {"type": "string", "minLength": 40},
        "1": {"type": "integer"}, "a/b~c": {"type": "array", "minItems": 3, "items": {"type": "integer"}},
        "grid": {"type": "array", "maxItems": 2, "items": {"type": "array", "maxItems": 3, "items": {
            "type": "object", "properties": {"k": {"enum": ["p", "q", "r", "s"]}, "n": {"type": "integer"}}}}},
        "c": {"const": {"fixed": [1, "two"]}}, "empty": {}, "nothing": {"type": "null"},
    }, "required": ["extra"]},
    {"$defs": {"F": FINDING}, "type": "object", "properties": {"f": {"$ref": "#/$defs/F"},
                                                             "fs": {"type": "array", "items": {"$ref": "#/$defs/F"}}}},
    {"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}},
    {"type": "object", "properties": {"x": {"allOf": [{"type": "string"}, {"type": "integer"}]}}},
    {"type": "object", "properties": {"flags": {"type": "array", "uniqueItems": True, "items": {"type": "boolean"}}}},
]
LABELS = ["find a.py", "verify 3.2", "fix check 1", "résumé ✓", "emoji 😀", "lone \ud800 label", ""]
PROMPTS = ["Review a.py for correctness problems.", "", "multi\nline\tprompt with `ticks` and ${x}",
           "unicode: żółć 漢字 😀", "lone surrogate: \ud800 and \udfff", "x" * 300]


def agreement_cases(n_random: int = 60) -> list[dict[str, Any]]:
    cases = [{"schema": s, "label": lb, "prompt": p}
             for s in SCHEMAS for lb in LABELS[:4] for p in PROMPTS[:3]]
    cases += [{"schema": SCHEMAS[k % len(SCHEMAS)], "label": lb, "prompt": p}
              for k, (lb, p) in enumerate((lb, p) for lb in LABELS for p in PROMPTS)]
    rng = random.Random(20240601)
    for i in range(n_random):
        schema = {"type": "object", "properties": {f"p{k}": _random_schema(rng, 3) for k in range(rng.randint(1, 4))}}
        cases.append({"schema": schema, "label": rng.choice(LABELS) + f" {i}", "prompt": rng.choice(PROMPTS) + str(i)})
    return cases


def _random_schema(rng: random.Random, depth: int) -> dict[str, Any]:
    kinds = ["string", "integer", "number", "boolean", "enum", "nullable", "anyOf", "bounded"]
    kind = rng.choice(kinds + (["array", "array", "object"] if depth else []))
    if kind == "array":
        out: dict[str, Any] = {"type": "array", "items": _random_schema(rng, depth - 1)}
        if rng.random() < 0.7:
            out["maxItems"] = rng.randint(0, 5)
        elif rng.random() < 0.5:
            out["minItems"] = rng.randint(0, 4)
        return out
    if kind == "object":
        props = {rng.choice(["k", "name", "é", "10", "x/y"]) + str(j): _random_schema(rng, depth - 1)
                 for j in range(rng.randint(0, 3))}
        return {"type": "object", "required": list(props), "properties": props, "additionalProperties": False}
    if kind == "enum":
        return {"enum": rng.sample(["a", "b", "c", 1, 2.5, True, None, [1], {"o": 1}], rng.randint(1, 6))}
    if kind == "nullable":
        return {"type": [rng.choice(["string", "integer", "number", "boolean"]), "null"]}
    if kind == "anyOf":
        return {"anyOf": [{"type": "null"}, _random_schema(rng, max(depth - 1, 0))]}
    if kind == "bounded":
        lo = rng.choice([-1e6, -7, 0, 0.25, 3, 1e9])
        span = rng.choice([0, 0.5, 1, 10, 1000])
        low_key, high_key = rng.choice([("minimum", "maximum"), ("exclusiveMinimum", "maximum"),
                                        ("minimum", "exclusiveMaximum")])
        return {"type": rng.choice(["integer", "number"]), low_key: lo, high_key: lo + span + 1}
    if kind == "string" and rng.random() < 0.4:
        return {"type": "string", rng.choice(["minLength", "maxLength"]): rng.randint(0, 30)}
    return {"type": kind}


async def python_outcomes(fake_spec: dict[str, Any], cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], FakeBackend]:
    """The Python backend's answers to the cases, sequentially, as the agree.js script reports them."""
    fake = FakeBackend(fake_spec)
    out: list[dict[str, Any]] = []
    for c in cases:
        request = AgentRequest(prompt=c["prompt"], schema=c["schema"], label=c["label"])
        try:
            out.append({"ok": True, "value": (await fake.run_agent(request, Path("."))).value})
        except AgentFailure as exc:
            out.append({"ok": False, "error": str(exc)})
    return out, fake


def comparable_error(message: str) -> str:
    """The detail of a reply's validation error is jsonschema's text in Python and the
    host's own in node: compare those up to the JSON pointer, everything else exactly."""
    marker = "gives a reply that does not match the schema at "
    if marker in message:
        head, _, rest = message.partition(marker)
        return head + marker + rest.split(": ", 1)[0]
    return message


def assert_agree(report: dict[str, Any], expected: list[dict[str, Any]], fake: FakeBackend) -> None:
    got = report["result"]
    assert len(got) == len(expected)
    for i, (js, py) in enumerate(zip(got, expected, strict=True)):
        assert js["ok"] == py["ok"], (i, js, py)
        if py["ok"]:
            assert js["value"] == py["value"], i
        else:
            assert comparable_error(js["error"]) == comparable_error(py["error"]), i
    for js_call, py_call in zip(report["calls"], fake.calls, strict=True):
        for key in ("label", "prompt", "schema", "failed", "result", "usage"):
            assert js_call[key] == py_call[key], (key, js_call["label"])


async def test_schema_values_and_fail_one_in_agree_with_python(tmp_path: Path) -> None:
    cases = agreement_cases()
    assert any("\ud800" in c["prompt"] for c in cases) and any("😀" in c["label"] for c in cases)
    spec = {"rules": [], "default": "schema", "fail_one_in": 3}
    report = run_host(tmp_path, "agree.js", spec, args={"cases": cases})
    expected, fake = await python_outcomes(spec, cases)
    assert_agree(report, expected, fake)
    # The decisions are exactly fails_by_hash and, otherwise, schema_value.
    for c, js in zip(cases, report["result"], strict=True):
        if fails_by_hash(c["label"], c["prompt"], 3):
            assert js == {"ok": False, "error": "fake: fail_one_in=3 fails this call"}
        elif js["ok"]:
            assert js["value"] == schema_value(c["schema"], c["label"], c["prompt"])
    failed = sum(not js["ok"] for js in report["result"])
    assert 0 < failed < len(cases)
    assert any(js["ok"] is False and "cannot build" in js["error"] for js in report["result"])


async def test_rules_replies_shaping_and_validation_agree_with_python(tmp_path: Path, autojump_clock: Any) -> None:
    list_schema, bool_schema, check_schema = SCHEMAS[1], SCHEMAS[2], SCHEMAS[3]
    finding = {"file": "a.py", "line": 1, "issue": "x", "severity": "low"}
    spec = {"rules": [
        {"label": "find *", "prompt": r"a\.py", "reply": [finding]},
        {"label": "find *", "prompt": "^Review (b|c)", "reply": {"items": []}},
        {"label": "find *", "reply": [{**finding, "line": "one"}]},
        {"label": "check *", "replies": [{"passed": False, "details": "red"}, {"passed": True, "details": "green"}]},
        {"label": "bad *", "fail": "simulated outage", "latency": 2},
        {"label": "flag ?", "replies": [True, False, {"value": True}, "nope"]},
        {"label": "text *", "reply": "plain"},
        {"label": "textbad *", "reply": 5},
        {"prompt": "[0-9]{3}", "latency": 1},
        {"label": "é*😀", "reply": "unicode glob"},
    ], "default": {"reply": {"passed": True, "details": "by default"}}, "fail_one_in": 7}
    cases = [
        {"schema": list_schema, "label": "find a.py", "prompt": "Review a.py"},
        {"schema": list_schema, "label": "find b.py", "prompt": "Review b.py"},
        {"schema": list_schema, "label": "find z.py", "prompt": "Review z.py"},
        {"schema": bool_schema, "label": "flag 1", "prompt": "flag"},
    ]
    cases += [{"schema": check_schema, "label": f"check {i}", "prompt": f"run the tests, round {i}"} for i in range(4)]
    cases += [{"schema": bool_schema, "label": f"flag {i}", "prompt": "is it?"} for i in range(2, 7)]
    cases += [{"schema": None, "label": "text a", "prompt": "say"}, {"schema": None, "label": "textbad a", "prompt": "say"},
              {"schema": check_schema, "label": "bad x", "prompt": "p"}, {"schema": check_schema, "label": "anything", "prompt": "p"},
              {"schema": None, "label": "anything", "prompt": "p"}, {"schema": list_schema, "label": "n", "prompt": "code 123"},
              {"schema": None, "label": "ésprit 😀", "prompt": "p"}, {"schema": None, "label": "lone \ud800", "prompt": "\udfff"}]
    cases += [{"schema": check_schema, "label": f"other {i}", "prompt": f"prompt {i}"} for i in range(30)]
    report = run_host(tmp_path, "agree.js", spec, args={"cases": cases})
    expected, fake = await python_outcomes(spec, cases)
    assert_agree(report, expected, fake)
    outcomes = {(py["ok"], py.get("error", "")[:20]) for py in expected}
    assert len(outcomes) >= 5  # the cases really exercise successes and several kinds of failure


async def test_reply_validation_agrees_with_jsonschema(tmp_path: Path) -> None:
    """The host's validator against Python's jsonschema, on random schemas and replies:
    the same verdict and the same first-error pointer."""
    rng = random.Random(5)
    rules, cases = [], []
    for n in range(300):
        schema = {"type": "object", "properties": {f"p{k}": _validation_schema(rng, 2) for k in range(2)},
                  "required": rng.sample(["p0", "p1"], rng.randint(0, 2))}
        reply = _random_value(rng, 3) if n % 3 == 0 else {"p0": _random_value(rng, 2), "p1": _random_value(rng, 2)}
        if n % 3 == 2:
            try:
                reply = schema_value(schema, f"case {n}", "p")
            except ValueError:
                pass
        rules.append({"label": f"case {n}", "reply": reply})
        cases.append({"schema": schema, "label": f"case {n}", "prompt": "p"})
    spec = {"rules": rules}
    report = run_host(tmp_path, "agree.js", spec, args={"cases": cases})
    expected, fake = await python_outcomes(spec, cases)
    assert_agree(report, expected, fake)
    assert 50 < sum(not py["ok"] for py in expected) < 250, sum(not py["ok"] for py in expected)


def test_js_json_matches_json_stringify(tmp_path: Path) -> None:
    values: list[Any] = [0.1 + 0.2, 1.0, -0.0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123456789.125, 2**53,
                         "quote \" backslash \\ \b\f\n\r\t \u0000\u001f\u007f \u2028 é 😀 \ud800 \udfff\ud800",
                         {"k\n": [True, False, None, {"": 1.5}]}, [], {}, ""]
    rng = random.Random(3)
    values += ["".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0, 0xFFFF), rng.randint(0x10000, 0x10FFFF)]))
                       for _ in range(20)) for _ in range(50)]
    values += [rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30) for _ in range(100)]
    (tmp_path / "values.json").write_text(json.dumps(values))
    code = ("const fs = require('fs'); const vs = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));"
            "process.stdout.write(JSON.stringify(vs.map((v) => JSON.stringify(v))))")
    proc = subprocess.run([str(NODE), "-e", code, str(tmp_path / "values.json")], capture_output=True, text=True,
                          timeout=30, check=True)
    assert json.loads(proc.stdout) == [js_json(v) for v in json.loads(json.dumps(values))]


@pytest.mark.parametrize("data", [
    {"rule": []},
    {"rules": [{"label": 3}]},
    {"rules": [{"reply": 1, "replies": [1]}]},
    {"rules": [{"replies": []}]},
    {"rules": [{"fail": ""}]},
    {"rules": [{"latency": -1}]},
    {"rules": [{"prompt": "(?i)abc"}]},
    {"rules": [{"prompt": r"\Aabc"}]},
    {"rules": [{}, {"prompt": "(?<name>x)"}]},
    {"default": "shema"},
    {"fail_one_in": 0},
    [1, 2],
])
def test_malformed_fake_files_get_the_same_message(tmp_path: Path, data: Any) -> None:
    fake_path = tmp_path / "fake.json"
    fake_path.write_text(json.dumps(data))
    with pytest.raises(FakeFileError) as info:
        parse_fake(data, str(fake_path))
    proc = subprocess.run([str(NODE), str(HOST), "--script", str(SCRIPTS / "error_value.js"), "--fake", str(fake_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"host: {info.value}"


@pytest.mark.parametrize("text", ['{\n  "rules": [\n    {"label": "x" "reply": 1}\n  ]\n}\n', '{"rules": [', "{\n\n  ]"])
def test_bad_json_is_located_alike(tmp_path: Path, text: str) -> None:
    fake_path = tmp_path / "fake.json"
    fake_path.write_text(text)
    with pytest.raises(FakeFileError) as info:
        FakeBackend.load(fake_path)
    proc = subprocess.run([str(NODE), str(HOST), "--script", str(SCRIPTS / "error_value.js"), "--fake", str(fake_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    where = str(info.value).split(": ", 2)[1]  # "invalid JSON at line L, column C"
    assert where.startswith("invalid JSON at line ")
    assert proc.stderr.startswith(f"host: fake file {fake_path}: {where}: ")
