"""Unions of literals of any type (`1 | 2 | 3`, `true | "auto"`), unions of types
(`int | str | none`, `A | B`) and the free-form `json` type, through both targets: the
schema both send (`enum`, `anyOf`, `{}`), answers that fit and answers that do not (a
failed agent in the Python runtime and under the node host alike), the first record
option an answer fits, reading a json value with `[...]`, and arguments of these types."""

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

SOURCE = '''workflow pick:
    description: "unions and json in answers"

type Small:
    kind: "small"
    n: int

type Big:
    kind: "big"
    n: int
    extra: json

type Pick:
    level: 1 | 2 | 3
    mode: true | "auto"
    value: int | str | none
    either: Small | Big
    data: json

phase "Pick":
    p = agent "pick" -> Pick
    firsts = take(["a", "b", "c", "d"], p.level)
return {p: p, firsts: firsts, n: p.either.n, key: p.data["key"], deep: p.data["list"][1],
        same: p.mode == "auto", text: "{p.value}/{p.data}"}
'''

GOOD = {"level": 2, "mode": "auto", "value": "seven", "either": {"kind": "small", "n": 4},
        "data": {"key": [1, {"x": None}], "list": ["zero", "one"]}}


def pick_file(tmp_path: Path) -> Path:
    wf = tmp_path / "pick.wf"
    wf.write_text(SOURCE, encoding="utf-8")
    return wf


def test_the_schema_has_enum_anyof_and_an_open_json(tmp_path: Path) -> None:
    both = run_both(pick_file(tmp_path), {}, {"rules": [{"label": "p", "reply": GOOD}]}, tmp_path)
    assert_same(both)
    props = both["py_calls"][0]["schema"]["properties"]
    assert props["level"] == {"type": "integer", "enum": [1, 2, 3]}
    assert props["mode"] == {"enum": [True, "auto"]}
    assert props["value"] == {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}
    assert [o["properties"]["kind"]["enum"] for o in props["either"]["anyOf"]] == [["small"], ["big"]]
    assert props["data"] == {}
    assert both["js"]["calls"][0]["schema"] == both["py_calls"][0]["schema"]


def test_answers_that_fit_are_used_alike(tmp_path: Path) -> None:
    both = run_both(pick_file(tmp_path), {}, {"rules": [{"label": "p", "reply": GOOD}]}, tmp_path)
    assert_same(both)
    assert both["bound"] == 1
    value = both["py_value"]
    assert value["p"] == GOOD and value["firsts"] == ["a", "b"] and value["n"] == 4
    assert value["key"] == [1, {"x": None}] and value["deep"] == "one" and value["same"] is True


@pytest.mark.parametrize("change", [
    {"level": 3, "mode": True, "value": 12, "either": {"kind": "big", "n": 1, "extra": [1, "two"]}},
    {"value": None, "data": "just text"},
    {"data": None},
    {"data": [1, 2, 3]},
    {"value": 1.0, "level": 1.0},  # integral numbers are ints, in both targets
])
def test_every_kind_of_fitting_answer_reads_alike(change: dict[str, Any], tmp_path: Path) -> None:
    both = run_both(pick_file(tmp_path), {}, {"rules": [{"label": "p", "reply": {**GOOD, **change}}]}, tmp_path)
    assert_same(both)
    assert both["py_value"]["p"] is not None


@pytest.mark.parametrize("change", [
    {"level": 4}, {"level": True}, {"level": "2"}, {"mode": False}, {"mode": "Auto"}, {"mode": 1},
    {"value": 2.5}, {"value": [1]}, {"either": {"kind": "huge", "n": 1}},
    {"either": {"kind": "small", "n": 1, "extra": 2}},  # closed: Small has no extra, Big needs kind "big"
])
@pytest.mark.parametrize("validate", [True, False])
def test_answers_outside_the_union_fail_the_agent_in_both_targets(change: dict[str, Any], validate: bool,
                                                                 tmp_path: Path) -> None:
    fake = {"rules": [{"label": "p", "reply": {**GOOD, **change}}], "validate": validate}
    both = run_both(pick_file(tmp_path), {}, fake, tmp_path)
    assert_same(both)
    if "extra" in change.get("either", {}) and not validate:
        # a host that does not validate: the fit drops the undeclared field, as for any record
        assert both["py_value"]["p"]["either"] == {"kind": "small", "n": 1}
        return
    assert both["py_value"]["p"] is None and both["py_value"]["firsts"] == []


ARGS_SOURCE = '''workflow args:
    description: "unions and json as inputs"

type Small:
    n: int

input level: 1 | 2 | 3 = 1
input value: int | str | none = none
input shape: Small | list[int] max 3 = []
input config: json = none

phase "Go":
    x = agent "go {level} {value} {shape} {config}"
return {level: level, value: value, shape: shape, config: config["deep"]}
'''


@pytest.mark.parametrize("args, message", [
    ({"level": 2, "value": "x", "shape": {"n": 1}, "config": {"deep": [1]}}, None),
    ({"level": 4}, "args.level: expected one of 1, 2, 3, got 4"),
    ({"level": True}, "args.level: expected one of 1, 2, 3, got true"),
    ({"value": True}, "args.value: expected int | str, got true"),
    ({"shape": {"n": 1, "m": 2}}, "args.shape: expected Small | list[int] max 3, got {\"n\":1,\"m\":2}"),
    ({"shape": [1, 2, 3, 4]}, "args.shape: expected Small | list[int] max 3, got [1,2,3,4]"),
    ({"config": [1, "two", {"three": None}]}, None),
])
def test_union_and_json_arguments_agree_in_both_targets(args: dict[str, Any], message: str | None,
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
        both = run_both(wf, args, {"rules": [], "default": "schema"}, tmp_path)
        assert_same(both)
    else:
        assert report["error"] == f"Error: the arguments do not fit the workflow's inputs: {message}"


READ_SOURCE = '''workflow read:
    description: "every reading of a json value the checker allows"

type R:
    payload: json
    v: int | str | none
    items: list[int] max 5

phase "Read":
    r = agent "read" -> R
return {len: len(r.payload), key: r.payload["n"], first: r.payload[0], last: r.payload[-1],
        text: "{r.payload}", str: str(r.payload), json: json(r.payload), truth: not r.payload,
        has_one: 1 in r.payload, has_a: "a" in r.payload, in_v: 1 in r.v, two: r.payload == 2,
        int: int(r.payload), cut: take(r.items, int(r.payload)), same: r.v == r.payload}
'''


@pytest.mark.parametrize("payload", [None, True, 0, 2, 2.5, -1, "ab", "", [1, 2, 3], [], {"a": 1, "n": 2}, {}])
def test_every_kind_of_json_value_reads_alike(payload: Any, tmp_path: Path) -> None:
    # `in` a number or a bool is false in both targets (nothing is in it), not an error
    wf = tmp_path / "read.wf"
    wf.write_text(READ_SOURCE, encoding="utf-8")
    reply = {"payload": payload, "v": 1 if isinstance(payload, list) else "1", "items": [1, 2, 3, 4]}
    both = run_both(wf, {}, {"rules": [{"label": "r", "reply": reply}]}, tmp_path)
    assert_same(both)
    value = both["py_value"]
    assert value["json"] == json.dumps(payload, indent=2, ensure_ascii=False)
    assert value["has_one"] is (isinstance(payload, list) and 1 in payload)
    assert value["in_v"] is False
