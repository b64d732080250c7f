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

from tests.test_differential import HOST, SCHEMA_ANSWERS, assert_same, pytestmark, run_both  # noqa: F401  (skips without node)
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


# ---------------------------------------------------------------- unions and json inside maps

MAPS_SOURCE = '''workflow mixed-maps:
    description: "unions and json inside maps, a map inside a union"

type Fix:
    patch: str

type Skip:
    reason: str

type Answer:
    outcomes: map[str, Fix | Skip | none] max 4
    raw: map[str, json] max 3
    mode: map[str, true | "auto"] max 2

input levels: map[str, 1 | 2 | 3] max 5
input extra: map[str, json] max 4 = {}
input pick: map[str, int] max 3 | str = "none"

phase "Mixed":
    a = agent "Say what happened to each file of {levels}" -> Answer
    per_level = group_by(entries(levels), by=lambda e: str(e.value))
    fixes = fanout k in keys(a.outcomes):
        agent "Look again at {k}: {a.outcomes[k]}"
return {
    outcomes: a.outcomes,
    order: keys(a.outcomes),
    kinds: [str(v) for v in values(a.outcomes)],
    raw: a.raw,
    raw_n: a.raw["n"],
    raw_deep: a.raw["obj"]["b"] if "obj" in a.raw else none,
    mode: values(a.mode),
    auto: [e.key for e in entries(a.mode) if e.value == "auto"],
    levels: levels,
    per_level: keys(per_level),
    extra: extra,
    extra_x: extra["x"],
    pick: pick,
    text: "{a.outcomes} {extra} {pick} {a.raw}",
    fixes: fixes,
}
'''

MAP_ANSWER = {"outcomes": {"b.py": {"patch": "p"}, "10.py": {"reason": "r"}, "9.py": None, "a": {"patch": "q"}},
              "raw": {"n": [1, {"z": 1, "10": 2}], "obj": {"b": True, "10": None}, "x": "s"},
              "mode": {"z": True, "1": "auto"}}
MAP_ARGS = {"levels": {"b": 1, "10": 3, "9": 3}, "extra": {"x": {"k": [1], "7": 0}, "2": None},
            "pick": {"z": 1, "10": 2}}


def maps_file(tmp_path: Path) -> Path:
    wf = tmp_path / "mixed.wf"
    wf.write_text(MAPS_SOURCE, encoding="utf-8")
    return wf


def test_union_and_json_map_values_mean_the_same_in_both_targets(tmp_path: Path) -> None:
    both = run_both(maps_file(tmp_path), MAP_ARGS, {"rules": [{"label": "a", "reply": MAP_ANSWER}]}, tmp_path)
    assert_same(both)
    props = both["py_calls"][0]["schema"]["properties"]
    assert props["outcomes"]["additionalProperties"]["anyOf"][-1] == {"type": "null"}
    assert props["raw"]["additionalProperties"] == {}
    assert props["mode"]["additionalProperties"] == {"enum": [True, "auto"]}
    value = both["py_value"]
    assert value["order"] == ["10.py", "9.py", "a", "b.py"]  # the map's keys by code point
    assert value["outcomes"]["10.py"] == {"reason": "r"} and value["outcomes"]["9.py"] is None
    assert value["raw_n"] == [1, {"10": 2, "z": 1}] and value["raw_deep"] is True
    assert value["mode"] == ["auto", True] and value["auto"] == ["1"]
    assert value["per_level"] == ["1", "3"] and value["extra_x"] == {"7": 0, "k": [1]}
    assert value["pick"] == {"10": 2, "z": 1}
    # a json value inside a map keeps the key order a JS object has (array-index keys
    # first), in Python too: the interpolated text is the same, word for word
    assert value["text"] == both["js"]["result"]["text"]
    assert value["text"].endswith('"n": [\n    1,\n    {\n      "10": 2,\n      "z": 1\n    }\n  ],\n'
                                  '  "obj": {\n    "10": null,\n    "b": true\n  },\n  "x": "s"\n}')
    assert len(both["py_calls"]) == 1 + 4 <= both["bound"]


def test_union_and_json_map_values_from_the_schema_and_failures_mean_the_same(tmp_path: Path) -> None:
    for i, fake in enumerate((SCHEMA_ANSWERS, {**SCHEMA_ANSWERS, "fail_one_in": 2})):
        work = tmp_path / str(i)
        work.mkdir()
        both = run_both(maps_file(tmp_path), {"levels": {"a": 2}}, fake, work)
        assert_same(both)


@pytest.mark.parametrize("change", [
    {"outcomes": {"a": {"patch": 1}}},  # fits neither record
    {"outcomes": {"a": {"patch": "p", "reason": "r"}}},  # both fields: neither closed record
    {"mode": {"a": False}},  # outside the literal union
    {"raw": {"a": 1, "b": 2, "c": 3, "d": 4}, "mode": {"x": "manual"}},
])
def test_a_map_value_outside_its_union_fails_the_agent_in_both_targets(change: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    both = run_both(maps_file(tmp_path), {"levels": {}}, {"rules": [{"label": "a", "reply": {**MAP_ANSWER, **change}}]},
                    tmp_path)
    assert_same(both)
    assert both["py_value"]["outcomes"] is None and both["py_value"]["fixes"] == []


@pytest.mark.parametrize("args, message", [
    (MAP_ARGS, None),
    ({"levels": {"a": 4}}, 'args.levels["a"]: expected one of 1, 2, 3, got 4'),
    ({"levels": {"a": True}}, 'args.levels["a"]: expected one of 1, 2, 3, got true'),
    ({"levels": {}, "pick": {"a": 1, "b": 2, "c": 3, "d": 4}},
     'args.pick: expected map[str, int] max 3 | str, got {"a":1,"b":2,"c":3,"d":4}'),
    # shown as JSON.parse holds it: the array-index key first
    ({"levels": {}, "pick": {"b": "x", "10": 1}}, 'args.pick: expected map[str, int] max 3 | str, got {"10":1,"b":"x"}'),
    ({"levels": {}, "pick": 3}, "args.pick: expected map[str, int] max 3 | str, got 3"),
    ({"levels": {}, "pick": "all"}, None),
    ({"levels": {}, "extra": {str(n): n for n in range(5)}}, "args.extra: 5 keys, the workflow declares max 4"),
    ({"levels": {}, "extra": {"a": {"10": 1, "b": [None], "2": 3}, "b": "x"}}, None),
])
def test_union_and_json_map_arguments_agree_in_both_targets(args: dict[str, Any], message: str | None,
                                                            tmp_path: Path) -> None:
    wf = maps_file(tmp_path)
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    _, problems = validate_args(loaded.program, args)
    assert [d.message for d in problems] == ([message] if message else [])
    script = tmp_path / "mixed.js"
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name), encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps(args), encoding="utf-8")
    proc = subprocess.run(["node", str(HOST), "--script", str(script), "--args", str(tmp_path / "a.json")],
                          capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout)
    if message is None:
        assert report["error"] is None
        both = run_both(wf, args, {"rules": [], "default": "schema"}, tmp_path)
        assert_same(both)
        assert both["py_value"]["text"] == both["js"]["result"]["text"]
    else:
        assert report["error"] == f"Error: the arguments do not fit the workflow's inputs: {message}"


OPS_SOURCE = '''workflow ops:
    description: "json and unions against maps"

type R:
    j: json
    u: int | str
    m: map[str, int] max 3

phase "P":
    r = agent "r" -> R
return {j_in_m: r.j in r.m, u_in_m: r.u in r.m, m_is_j: r.m == r.j, j_is_m: r.j == r.m,
        x_in_j: "x" in r.j, sizes: len(r.m) + len(r.j), first: entries(r.m)[0].value}
'''


@pytest.mark.parametrize("j, u, expected", [
    ([1], 1, {"j_in_m": False, "u_in_m": False, "m_is_j": False}),
    ({"10": 1, "a": 2}, "a", {"j_in_m": False, "u_in_m": True, "m_is_j": True}),  # a map equals its object
    ({"a": 2, "10": 1}, 1, {"j_in_m": False, "u_in_m": False, "m_is_j": True}),  # in any key order
    ("a", "zz", {"j_in_m": True, "u_in_m": False, "m_is_j": False}),
    (None, "10", {"j_in_m": False, "u_in_m": True, "m_is_j": False}),
    (2, 3, {"j_in_m": False, "u_in_m": False, "m_is_j": False}),
])
def test_json_and_union_values_meet_maps_alike(j: Any, u: Any, expected: dict[str, bool], tmp_path: Path) -> None:
    wf = tmp_path / "ops.wf"
    wf.write_text(OPS_SOURCE, encoding="utf-8")
    reply = {"j": j, "u": u, "m": {"a": 2, "10": 1}}
    both = run_both(wf, {}, {"rules": [{"label": "r", "reply": reply}]}, tmp_path)
    assert_same(both)
    value = both["py_value"]
    assert {k: value[k] for k in expected} == expected
    assert value["j_is_m"] is value["m_is_j"] and value["x_in_j"] is False and value["first"] == 1


def test_a_json_value_keeps_the_key_order_of_a_javascript_object() -> None:
    from wflang.dsl.values import js_key_order
    from wflang.runtime.fit import fit

    v = {"b": 1, "10": {"z": 0, "2": 1}, "9": [{"x": 1, "0": 2}], "01": 3, "4294967295": 4, "4294967294": 5}
    assert json.dumps(js_key_order(v)) == json.dumps(
        {"9": [{"0": 2, "x": 1}], "10": {"2": 1, "z": 0}, "4294967294": 5, "b": 1, "01": 3, "4294967295": 4})
    node = subprocess.run(["node", "-e", f"process.stdout.write(JSON.stringify(JSON.parse({json.dumps(json.dumps(v))})))"],
                          capture_output=True, text=True, timeout=60)
    assert node.stdout == json.dumps(js_key_order(v), separators=(",", ":"))
    assert json.dumps(fit(v, {})) == json.dumps(js_key_order(v))


def test_a_map_and_a_json_value_passed_to_a_json_input_read_alike(tmp_path: Path) -> None:
    # a map stays in code point order ("10" before "9"), a json object in JS order
    (tmp_path / "child.wf").write_text('''workflow child:
    description: "a json input"

input j: json

phase "C":
    x = agent "child sees {j}"
return {text: "{j}"}
''', encoding="utf-8")
    wf = tmp_path / "parent.wf"
    wf.write_text('''workflow parent:
    description: "passes a map and a json value on"

type A:
    m: map[str, int] max 4
    raw: json

phase "P":
    a = agent "a" -> A
    one = run "child.wf" with {j: a.m}
    two = run "child.wf" with {j: a.raw}
return {one: one.text, two: two.text}
''', encoding="utf-8")
    reply = {"m": {"b": 1, "10": 2, "9": 3}, "raw": {"b": 1, "9": 3, "10": 2}}
    both = run_both(wf, {}, {"rules": [{"label": "a", "reply": reply}]}, tmp_path)
    assert_same(both)
    assert both["py_value"] == {"one": '{\n  "10": 2,\n  "9": 3,\n  "b": 1\n}',
                                "two": '{\n  "9": 3,\n  "10": 2,\n  "b": 1\n}'}
