"""Maps (`map[str, T] max N`): run-time string keys, bounded by a declared maximum, read
with `m[k]`, `keys`, `values` and `entries`, in key order (by code point) in both
targets. JavaScript objects would put integer-like keys first, so the compiled script
holds maps as `Map`s; these tests use such keys on purpose."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.test_differential import HOST, SCHEMA_ANSWERS, assert_same, pytestmark, run_both  # noqa: F401
from wflang.dsl import ast
from wflang.dsl.arguments import validate_args
from wflang.dsl.checker import check_program
from wflang.dsl.parser import parse
from wflang.dsl.schema import records_of, result_schema
from wflang.dsl.types import INT, ListT, MapT, Opt, Record
from wflang.runtime.fit import NOT_FIT, fit
from wflang.transpiler.emit import compile_js

SOURCE = '''workflow tag-counts:
    description: "maps in, maps out, in key order"

input tags: map[str, int] max 12
input owners: map[str, list[str] max 3] max 4 = {}

type Tally:
    counts: map[str, int] max 11
    note: str

phase "Count":
    t = agent "Count the findings per file in {tags}" -> Tally
    counts = t.counts
    per_tag = fanout k in keys(tags):
        agent "Look at tag {k}, weight {tags[k]}, owners {owners[k]}"
    log "counts {counts}; compact {json(counts)}"
    big = [e.key for e in entries(counts) if e.value > 2]
return {
    counts: counts,
    keys: keys(counts),
    values: values(counts),
    entries: entries(owners),
    missing: counts["nope"],
    ten: counts["10"],
    big: big,
    sorted: sort(values(tags)),
    has: "9" in tags,
    size: len(tags),
    nonempty: true if owners else false,
    same: counts == counts,
    per_tag: per_tag,
    text: "{tags}",
}
'''

TAGS = {"b": 1, "10": 2, "9": 3, "a": 4, "é": 5, "\U0001f600": 6, "\uffff": 7}
ANSWER = {"counts": {"b": 2, "10": 1, "9": 3, "2": 5, "x": 0}, "note": "n"}


def load(src: str) -> Any:
    program = parse(src, "maps.wf")
    result = check_program(program)
    assert result.ok, [d.message for d in result.diagnostics]
    return program, result


def test_the_checker_sizes_a_map_by_its_declared_max() -> None:
    program, result = load(SOURCE)
    assert result.bound is not None
    # one counting agent, one per key of `tags` (at most 12)
    assert result.bound.formula() == "1 + tags"
    assert result.bound.evaluate({"tags": 3}) == 4
    assert result.bound.total == 13


def test_keys_values_entries_and_lookup_have_the_map_s_types() -> None:
    src = SOURCE.split("phase")[0] + '''k = keys(tags)
v = values(tags)
e = entries(owners)
x = tags["a"]
return {k: k, v: v, e: e, x: x}
'''
    program, result = load(src)
    from wflang.dsl.checker import _Checker, _Ctx, _Scope

    checker = _Checker(program)
    scope = _Scope()
    checker.declare_types()
    checker.declare_inputs(scope)
    tags = scope.vars["tags"]
    assert isinstance(tags, MapT) and tags.value == INT
    for s in program.body[:-1]:
        checker.stmt(s, scope, _Ctx(None), top=True)
    k, v, e = scope.vars["k"], scope.vars["v"], scope.vars["e"]
    assert isinstance(k, ListT) and k.max.show() == "tags"
    assert isinstance(v, ListT) and v.item == INT and v.max.show() == "tags"
    assert isinstance(e, ListT) and isinstance(e.item, Record) and list(e.item.fields) == ["key", "value"]
    assert e.max.show() == "owners"
    assert scope.vars["x"] == Opt(INT)  # a missing key reads as none


def test_a_map_answer_has_an_open_object_schema_with_max_properties() -> None:
    program, _ = load(SOURCE)
    t = ast.MapType(ast.NamedType("str"), ast.NamedType("int"), ast.IntLit(7))
    schema = result_schema(t, records_of(program))
    assert schema == {"type": "object", "required": ["value"], "additionalProperties": False, "properties": {
        "value": {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 7}}}


def test_fitting_sorts_keys_by_code_point_cuts_to_the_max_and_checks_every_value() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 3}
    assert list(fit({"b": 1, "10": 2, "9": 3, "a": 4}, schema)) == ["10", "9", "a"]
    assert fit({"a": "x"}, schema) is NOT_FIT
    assert fit([1], schema) is NOT_FIT
    assert fit({}, schema) == {}


def test_a_map_argument_is_checked_and_rebuilt_in_key_order() -> None:
    program, _ = load(SOURCE)
    values, problems = validate_args(program, {"tags": TAGS})
    assert not problems
    assert list(values["tags"]) == sorted(TAGS)
    assert values["owners"] == {}
    _, problems = validate_args(program, {"tags": {str(i): i for i in range(13)}})
    assert [p.message for p in problems] == ["args.tags: 13 keys, the workflow declares max 12"]
    _, problems = validate_args(program, {"tags": {"b": "x", "a": "y"}})
    assert [p.message for p in problems] == ['args.tags["a"]: expected a number, got a string']
    _, problems = validate_args(program, {"tags": ["a"]})
    assert [p.message for p in problems] == ["args.tags: expected an object (a map), got a list"]


def run(tmp_path: Path, args: Any, fake: dict[str, Any]) -> dict[str, Any]:
    wf = tmp_path / "maps.wf"
    wf.write_text(SOURCE, encoding="utf-8")
    both = run_both(wf, args, fake, tmp_path)
    assert_same(both)
    return both


def test_maps_iterate_in_the_same_key_order_in_both_targets(tmp_path: Path) -> None:
    args = {"tags": TAGS, "owners": {"2": ["ana"], "10": [], "b": ["bo", "cy"]}}
    both = run(tmp_path, args, {"rules": [{"label": "t", "reply": ANSWER}], "default": "schema"})
    value = both["py_value"]
    order = sorted(ANSWER["counts"])  # by code point: "10" before "2" before "9"
    assert value["keys"] == order == ["10", "2", "9", "b", "x"]
    assert value["values"] == [ANSWER["counts"][k] for k in order]
    assert value["entries"] == [{"key": "10", "value": []}, {"key": "2", "value": ["ana"]},
                                {"key": "b", "value": ["bo", "cy"]}]
    assert value["missing"] is None and value["ten"] == 1
    assert value["big"] == ["2", "9"]
    assert value["sorted"] == [1, 2, 3, 4, 5, 6, 7]
    assert value["has"] is True and value["size"] == 7 and value["nonempty"] is True and value["same"] is True
    # text(map) keeps key order, identical in both targets (assert_same compared the logs)
    assert list(json.loads(value["text"])) == sorted(TAGS)
    assert both["py_logs"][0].startswith('counts {\n  "10": 1,\n  "2": 5,\n  "9": 3,')
    # the fan-out over keys(tags) ran once per key, item i on the i-th key in key order
    for calls in (both["py_calls"], both["js"]["calls"]):
        by_item = {c["label"]: c["prompt"].split()[3].rstrip(",") for c in calls if c["label"] != "t"}
        assert [by_item[f"per_tag · k {i}"] for i in range(1, len(TAGS) + 1)] == sorted(TAGS)
    assert len(both["py_calls"]) == 1 + len(TAGS) <= both["bound"]


def test_schema_shaped_and_failing_answers_mean_the_same(tmp_path: Path) -> None:
    for i, fake in enumerate((SCHEMA_ANSWERS, {**SCHEMA_ANSWERS, "fail_one_in": 2})):
        work = tmp_path / str(i)
        work.mkdir()
        both = run(work, {"tags": TAGS}, fake)
        if i == 0:  # the schema-shaped map has maxProperties keys, "1".."11": "10" sorts before "2"
            assert both["py_value"]["keys"] == sorted(str(n) for n in range(1, 12))


def test_a_map_answer_over_its_max_fails_the_agent_in_both_targets(tmp_path: Path) -> None:
    many = {"counts": {str(n): n for n in range(12)}, "note": "n"}
    both = run(tmp_path, {"tags": {"a": 1}}, {"rules": [{"label": "t", "reply": many}], "default": "schema"})
    assert both["py_value"]["counts"] is None  # `t` failed: 12 keys, the schema allows 11


def test_a_map_argument_over_its_max_fails_the_compiled_script_as_wf_run_does(tmp_path: Path) -> None:
    program, result = load(SOURCE)
    script = tmp_path / "maps.js"
    script.write_text(compile_js(program, bound=result.bound, source_name="maps.wf"), encoding="utf-8")
    for args, message in (({"tags": {str(i): i for i in range(13)}}, "args.tags: 13 keys, the workflow declares max 12"),
                          ({"tags": {"b": "x", "a": "y"}}, 'args.tags["a"]: expected a number, got a string')):
        (tmp_path / "args.json").write_text(json.dumps(args), encoding="utf-8")
        proc = subprocess.run(["node", str(HOST), "--script", str(script), "--args", str(tmp_path / "args.json")],
                              capture_output=True, text=True, timeout=60)
        report = json.loads(proc.stdout)
        assert proc.returncode == 1 and report["agents_started"] == 0
        assert report["error"] == f"Error: the arguments do not fit the workflow's inputs: {message}"
        _, problems = validate_args(program, args)
        assert [p.message for p in problems] == [message]


BUILT = '''workflow grouped:
    description: "maps built with group_by, count_by and to_map"

type Finding:
    file: str
    line: int
    severity: "low" | "high"

input files: list[str] max 6

phase "Find":
    found = fanout f in files:
        agent "Find bugs in {f}" -> list[Finding] max 3
    every = flatten(found)
    per_file = group_by(every, by=.file)
    per_severity = count_by(every, by=.severity)
    by_line = to_map([{key: str(x.line), value: x.file} for x in every])
    fixes = fanout f in keys(per_file):
        agent "Fix the {len(per_file[f])} bugs in {f}: {per_file[f]}"
return {
    files: keys(per_file),
    sizes: [len(g) for g in values(per_file)],
    severity: per_severity,
    lines: entries(by_line),
    fixes: fixes,
    text: "{per_severity} {by_line}",
}
'''


def test_group_by_has_at_most_one_key_per_item_and_each_group_at_most_every_item() -> None:
    program, result = load(BUILT)
    assert result.bound is not None
    # 6 finders, then one fixer per key of per_file: at most 6 × 3 = 18 keys
    assert result.bound.total == 6 + 18
    assert result.bound.evaluate({"files": 2}) == 2 + 6


def test_group_by_count_by_and_to_map_mean_the_same_in_both_targets(tmp_path: Path) -> None:
    wf = tmp_path / "grouped.wf"
    wf.write_text(BUILT, encoding="utf-8")
    found = {"items": [{"file": "b.py", "line": 10, "severity": "high"},
                       {"file": "10.py", "line": 9, "severity": "low"},
                       {"file": "b.py", "line": 2, "severity": "low"}]}
    fake = {"rules": [{"label": "found*", "reply": found}], "default": "schema"}
    both = run_both(wf, {"files": ["x", "y"]}, fake, tmp_path)
    assert_same(both)
    value = both["py_value"]
    assert value["files"] == ["10.py", "b.py"]  # code point order
    assert value["sizes"] == [2, 4]  # each item of both files' answers, grouped
    assert value["severity"] == {"high": 2, "low": 4}
    assert value["lines"] == [{"key": "10", "value": "b.py"}, {"key": "2", "value": "b.py"},
                              {"key": "9", "value": "10.py"}]
    assert value["text"].startswith('{\n  "high": 2,\n  "low": 4\n} {\n  "10": "b.py",\n  "2": "b.py",')
    for i, fake in enumerate((SCHEMA_ANSWERS, {**SCHEMA_ANSWERS, "fail_one_in": 3})):
        work = tmp_path / str(i)
        work.mkdir()
        both = run_both(wf, {"files": ["a", "b", "c"]}, fake, work)
        assert_same(both)
        assert len(both["py_calls"]) <= both["bound"]


def test_builders_refuse_keys_that_are_not_strings() -> None:
    src = BUILT.replace("by=.severity", "by=.line")
    result = check_program(parse(src, "g.wf"))
    assert [d.code for d in result.diagnostics] == ["WF213"]
    assert "by=lambda x: str(x.line)" in (result.diagnostics[0].hint or "")


LIMITED = '''workflow limited:
    description: "maps with limits: a min number of keys, values that are limited types"

input scores: map[str, int min 0 max 9] min 1 max 5
input notes: map[str, str max 4] max 3 = {}

type Votes:
    per_option: map[str, int min 0 max 3] min 2 max 4

phase "Vote":
    v = agent "Vote on {json(scores, indent=0)}" -> Votes
return {
    votes: v.per_option,
    compact: json(scores, indent=0),
    wide: json(v.per_option, indent=4),
    notes: notes,
}
'''


def test_a_map_s_min_and_limited_values_reach_its_json_schema() -> None:
    program, result = load(LIMITED)
    assert result.bound is not None and result.bound.total == 1
    t = next(d for d in program.types if d.name == "Votes").fields[0].type
    schema = result_schema(t, records_of(program))["properties"]["value"]
    assert schema == {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 3},
                      "maxProperties": 4, "minProperties": 2}
    schema = {"type": "object", "additionalProperties": {"type": "integer", "maximum": 3},
              "maxProperties": 3, "minProperties": 2}
    assert fit({"a": 1}, schema) is NOT_FIT  # too few keys
    assert fit({"a": 1, "b": 4}, schema) is NOT_FIT  # a value over its max
    assert fit({"d": 1, "c": 1, "b": 1, "a": 1}, schema) == {"a": 1, "b": 1, "c": 1}  # cut, then enough


def test_a_map_s_min_is_checked_like_a_list_s() -> None:
    for spelling, code in (("min 6 max 5", "WF308"), ("min -1 max 5", "WF303")):
        result = check_program(parse(LIMITED.replace("min 1 max 5", spelling), "m.wf"))
        assert [d.code for d in result.diagnostics] == [code], [d.message for d in result.diagnostics]
    result = check_program(parse(LIMITED.replace("map[str, int min 0", "map[str min 1, int min 0", 1), "m.wf"))
    assert [d.code for d in result.diagnostics] == ["WF212"]


def test_a_map_argument_outside_its_limits_is_refused_in_both_targets(tmp_path: Path) -> None:
    program, result = load(LIMITED)
    script = tmp_path / "limited.js"
    script.write_text(compile_js(program, bound=result.bound, source_name="limited.wf"), encoding="utf-8")
    for args, message in (({"scores": {}}, "args.scores: 0 keys, the workflow declares min 1"),
                          ({"scores": {"b": 1, "a": 12}}, 'args.scores["a"]: 12 is more than the declared max 9'),
                          ({"scores": {"a": 1}, "notes": {"a": "too long"}},
                           'args.notes["a"]: 8 characters, the workflow declares max 4')):
        _, problems = validate_args(program, args)
        assert [p.message for p in problems] == [message]
        (tmp_path / "args.json").write_text(json.dumps(args), encoding="utf-8")
        proc = subprocess.run(["node", str(HOST), "--script", str(script), "--args", str(tmp_path / "args.json")],
                              capture_output=True, text=True, timeout=60)
        report = json.loads(proc.stdout)
        assert proc.returncode == 1 and report["agents_started"] == 0
        assert report["error"] == f"Error: the arguments do not fit the workflow's inputs: {message}"


def test_limited_maps_mean_the_same_in_both_targets(tmp_path: Path) -> None:
    wf = tmp_path / "limited.wf"
    wf.write_text(LIMITED, encoding="utf-8")
    args = {"scores": {"9": "3", "10": 2, "b": " 7 "}}  # numbers as text, as for any int
    for i, (answer, votes) in enumerate((
            ({"per_option": {"x": 1, "10": 3, "9": 0}}, {"10": 3, "9": 0, "x": 1}),
            ({"per_option": {"x": 1}}, None),  # fewer keys than its min: the agent fails
            ({"per_option": {"x": 1, "y": 4}}, None))):  # a value over its max
        work = tmp_path / str(i)
        work.mkdir()
        both = run_both(wf, args, {"rules": [{"label": "v", "reply": answer}]}, work)
        assert_same(both)
        value = both["py_value"]
        assert value["votes"] == votes
        assert value["compact"] == both["js"]["result"]["compact"] == '{"10":2,"9":3,"b":7}'
        if votes is not None:
            assert value["wide"] == '{\n    "10": 3,\n    "9": 0,\n    "x": 1\n}'
    both = run_both(wf, args, SCHEMA_ANSWERS, tmp_path)  # schema-shaped: keys "1".."4", values in range
    assert_same(both)
    assert both["py_value"]["votes"] is not None and len(both["py_value"]["votes"]) == 4
