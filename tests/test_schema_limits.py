"""Declared limits inside answer types (`int min 0 max 5`, `float min 0 max 1`,
`str min 1 max 20`, `list[T] min 1 max 3`) and type descriptions, through both targets:
the schema both send carries them, an answer within them is used as is, an answer outside
them fails the agent (a schema violation, like any other) in the Python runtime and under
the node host alike, and a field's declared range bounds a `range`/`take` it sizes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_differential import HOST, assert_same, pytestmark, run_both  # noqa: F401  (skips without node)
from wflang.dsl.arguments import validate_args
from wflang.dsl.loader import load
from wflang.transpiler.emit import compile_js

SOURCE = '''workflow plan:
    description: "limits inside answer types"

type Plan:
    "A plan of at most five steps."
    count: int min 0 max 5  "how many steps to run"
    confidence: float min 0 max 1
    title: str min 1 max 20
    tags: list[str] min 1 max 3
    steps: list[str] max 10

phase "Plan":
    p = agent "plan the work" -> Plan
    done = fanout i in range(p.count):
        agent "do step {i}: {p.steps[i]}"
    first = take(p.steps, p.count)
return {p: p, done: len(done), first: first}
'''

GOOD = {"count": 2, "confidence": 0.5, "title": "ünïcode ok", "tags": ["a"],
        "steps": ["one", "two", "three"]}


def plan_file(tmp_path: Path) -> Path:
    wf = tmp_path / "plan.wf"
    wf.write_text(SOURCE, encoding="utf-8")
    return wf


def test_the_schema_carries_the_limits_and_the_type_description(tmp_path: Path) -> None:
    both = run_both(plan_file(tmp_path), {}, {"rules": [{"label": "p", "reply": GOOD}]}, tmp_path)
    assert_same(both)
    schema = next(c["schema"] for c in both["py_calls"] if c["label"] == "p")
    assert schema["description"] == "A plan of at most five steps."
    props = schema["properties"]
    assert props["count"] == {"type": "integer", "minimum": 0, "maximum": 5,
                              "description": "how many steps to run"}
    assert props["confidence"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert props["title"] == {"type": "string", "minLength": 1, "maxLength": 20}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3}
    js_schema = next(c["schema"] for c in both["js"]["calls"] if c["label"] == "p")
    assert js_schema == schema


def test_an_answer_within_its_limits_is_used_and_sizes_the_loop(tmp_path: Path) -> None:
    both = run_both(plan_file(tmp_path), {}, {"rules": [{"label": "p", "reply": GOOD}]}, tmp_path)
    assert_same(both)
    assert both["bound"] == 6  # 1 + range(p.count) with p.count ≤ 5
    assert both["py_value"] == {"p": GOOD, "done": 2, "first": ["one", "two"]}
    assert len(both["py_calls"]) == 3


@pytest.mark.parametrize("field, value", [
    ("count", 6), ("count", -1), ("confidence", 1.5), ("title", ""), ("title", "x" * 21),
    ("tags", []), ("tags", ["a", "b", "c", "d"]),
])
@pytest.mark.parametrize("validate", [True, False])
def test_an_answer_outside_its_limits_fails_the_agent_in_both_targets(
        field: str, value: Any, validate: bool, tmp_path: Path) -> None:
    """Validated (a host that enforces the schema, as Claude Code does) or not (the fit),
    the agent fails: `p` is none, so the loop has no items. An over-long list is the one
    limit a host that does not validate gets cut to its max, as for any list."""
    reply = {**GOOD, field: value}
    fake = {"rules": [{"label": "p", "reply": reply}], "validate": validate}
    both = run_both(plan_file(tmp_path), {}, fake, tmp_path)
    assert_same(both)
    if field == "tags" and len(value) > 3 and not validate:
        assert both["py_value"]["p"]["tags"] == ["a", "b", "c"]
        return
    assert both["py_value"] == {"p": None, "done": 0, "first": []}
    assert len(both["py_calls"]) == 1


ARGS_SOURCE = '''workflow args:
    description: "limits on inputs"

input title: str min 1 max 10
input files: list[str] min 1 max 20
input threshold: float min 0.5 max 1 = 0.8

phase "Go":
    x = agent "about {title}, {files}, {threshold}"
return x
'''


@pytest.mark.parametrize("args, message", [
    ({"title": "x" * 11, "files": ["a"]}, "args.title: 11 characters, the workflow declares max 10"),
    # a blank value counts as missing (docs/semantics.md), before any length limit
    ({"title": "", "files": ["a"]}, "args.title: required, got an empty string"),
    ({"title": "x", "files": ["a"], "threshold": 2}, "args.threshold: 2 is more than the declared max 1"),
    ({"title": "🙂" * 10, "files": ["a"]}, None),  # code points, not UTF-16 units
    ({"title": "t", "files": []}, "args.files: 0 items, the workflow declares min 1"),
    ({"title": "t", "files": ["a"], "threshold": 0.25}, "args.threshold: 0.25 is less than the declared min 0.5"),
    ({"title": "t", "files": ["a"], "threshold": 2}, "args.threshold: 2 is more than the declared max 1"),
])
def test_input_limits_give_the_same_message_in_both_targets(args: dict[str, Any], message: str | None,
                                                           tmp_path: Path) -> None:
    wf = tmp_path / "args.wf"
    wf.write_text(ARGS_SOURCE, encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    _, problems = validate_args(loaded.program, args)
    assert [d.message for d in problems] == ([message] if message else [])
    script = tmp_path / "args.js"
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name),
                      encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps(args), encoding="utf-8")
    proc = subprocess.run(["node", str(HOST), "--script", str(script), "--args", str(tmp_path / "a.json")],
                          capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout)
    if message is None:
        assert report["error"] is None
    else:
        assert report["error"] == f"Error: the arguments do not fit the workflow's inputs: {message}"
