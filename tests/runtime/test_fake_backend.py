"""The fake backend (docs/fake-answers.md): rules, replies, failures, defaults, shaping,
validation, malformed files, fail_one_in, schema-shaped values and usage."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import trio
from jsonschema import Draft202012Validator

from wflang.runtime.backend import AgentFailure, AgentRequest
from wflang.runtime.backends.fake import (
    FakeBackend,
    FakeFileError,
    fails_by_hash,
    fake_usage,
    fnv1a32,
    glob_match,
    js_json,
    parse_fake,
    schema_value,
    shape_reply,
    subset_error,
    utf16_len,
    validate_value,
)

WS = Path(".")

FINDING = {
    "type": "object",
    "required": ["file", "line", "issue", "severity"],
    "properties": {
        "file": {"type": "string"},
        "line": {"type": "integer"},
        "issue": {"type": "string"},
        "severity": {"type": "string", "enum": ["low", "medium", "high"]},
    },
}
FINDINGS_5 = {"type": "object", "required": ["items"],
              "properties": {"items": {"type": "array", "maxItems": 5, "items": FINDING}}}
CHECK = {"type": "object", "required": ["passed", "details"],
         "properties": {"passed": {"type": "boolean"}, "details": {"type": "string"}}}
BOOL = {"type": "object", "required": ["value"], "properties": {"value": {"type": "boolean"}}}


def req(label: str = "task", prompt: str = "do it", schema: dict[str, Any] | None = None, **kw: Any) -> AgentRequest:
    return AgentRequest(prompt=prompt, schema=schema, label=label, **kw)


async def ask(backend: FakeBackend, request: AgentRequest) -> Any:
    return (await backend.run_agent(request, WS)).value


async def failure(backend: FakeBackend, request: AgentRequest) -> str:
    with pytest.raises(AgentFailure) as info:
        await backend.run_agent(request, WS)
    return str(info.value)


# ---------------------------------------------------------------------------- matching


async def test_first_matching_rule_answers() -> None:
    fake = FakeBackend({"rules": [
        {"label": "find *", "prompt": r"a\.py", "reply": "both matched"},
        {"label": "find *", "reply": "label matched"},
        {"prompt": "summar", "reply": "prompt matched"},
        {"reply": "catch-all"},
    ]})
    assert await ask(fake, req("find a.py", "Review a.py now")) == "both matched"
    assert await ask(fake, req("find b.py", "Review a.py now".replace("a.py", "b.py"))) == "label matched"
    assert await ask(fake, req("report", "Please summarize this")) == "prompt matched"
    assert await ask(fake, req("other", "nothing")) == "catch-all"


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("find *", "find a.py", True),
    ("find *", "find ", True),
    ("find *", "refind a.py", False),  # the whole label must match
    ("find", "find a.py", False),
    ("v?te 1", "vote 1", True),
    ("v?te 1", "vte 1", False),
    ("verify *.*", "verify 3.2", True),
    ("[ab]", "a", False),  # brackets are literal
    ("[ab]", "[ab]", True),
    ("é?", "é😀", True),  # `?` is one code point, even outside the BMP
    ("*", "", True),
    ("a*b*c", "aXbYbZc", True),
    ("a*b", "a", False),
    ("Find *", "find x", False),  # case-sensitive
    ("x*", "x\ny", True),
])
def test_label_globs(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


async def test_replies_follow_call_order_and_the_last_repeats() -> None:
    fake = FakeBackend({"rules": [
        {"label": "fix check *", "replies": [{"passed": False, "details": "2 failing"},
                                            {"passed": False, "details": "1 failing"},
                                            {"passed": True, "details": "green"}]},
        {"label": "fix *", "replies": ["first fix", "second fix"]},
    ]})
    checks = [await ask(fake, req(f"fix check {i}", schema=CHECK)) for i in range(4)]
    assert [c["details"] for c in checks] == ["2 failing", "1 failing", "green", "green"]
    fixes = [await ask(fake, req(f"fix {i}")) for i in range(3)]
    assert fixes == ["first fix", "second fix", "second fix"]  # its own counter


async def test_replies_are_handed_out_once_each_under_concurrency() -> None:
    fake = FakeBackend({"rules": [{"label": "w *", "replies": list(range(40)) + [99]}]})
    schema = {"type": "object", "properties": {"value": {"type": "integer"}}}
    got: list[int] = []

    async def one(i: int) -> None:
        got.append((await ask(fake, req(f"w {i}", schema=schema)))["value"])

    async with trio.open_nursery() as nursery:
        for i in range(50):
            nursery.start_soon(one, i)
    assert sorted(got) == list(range(40)) + [99] * 10


async def test_replies_are_not_advanced_by_fail_one_in() -> None:
    labels = [f"c {i}" for i in range(30)]
    failing = [lb for lb in labels if fails_by_hash(lb, "p", 3)]
    assert failing and len(failing) < len(labels)
    fake = FakeBackend({"rules": [{"label": "c *", "replies": [str(i) for i in range(100)]}], "fail_one_in": 3})
    answered = []
    for lb in labels:
        try:
            answered.append(await ask(fake, req(lb, "p")))
        except AgentFailure as exc:
            assert str(exc) == "fake: fail_one_in=3 fails this call"
            assert lb in failing
    assert answered == [str(i) for i in range(len(labels) - len(failing))]


# ---------------------------------------------------------------------------- fail, latency


async def test_fail_rule_raises_agent_failure_with_its_message() -> None:
    fake = FakeBackend({"rules": [{"label": "flaky *", "fail": "simulated outage"}]})
    assert await failure(fake, req("flaky 1")) == "simulated outage"
    assert await ask(fake, req("steady 1")) == "text for steady 1 #0"


async def test_latency_is_simulated_time(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeBackend({"rules": [
        {"prompt": "summar", "reply": "short", "latency": 2.5},
        {"label": "flaky", "fail": "late failure", "latency": 4},
        {"label": "slow schema", "latency": 7},
    ]})
    t0 = trio.current_time()
    assert await ask(fake, req("s", "summarize")) == "short"
    assert trio.current_time() - t0 == pytest.approx(2.5)
    assert await failure(fake, req("flaky")) == "late failure"
    assert trio.current_time() - t0 == pytest.approx(6.5)
    # A rule with only a latency answers with the default mode after waiting.
    value = await ask(fake, req("slow schema", "p", CHECK))
    assert value == schema_value(CHECK, "slow schema", "p")
    assert trio.current_time() - t0 == pytest.approx(13.5)


# ---------------------------------------------------------------------------- defaults


async def test_empty_rules_with_schema_default_answers_every_agent() -> None:
    for spec in ({"rules": [], "default": "schema"}, {"rules": []}, {}):
        fake = FakeBackend(spec)
        assert await ask(fake, req("find a.py", "Review a.py", FINDINGS_5)) == schema_value(
            FINDINGS_5, "find a.py", "Review a.py")
        assert await ask(fake, req("report", "write it")) == "text for report #0"


async def test_default_fail_and_default_reply() -> None:
    fake = FakeBackend({"rules": [{"label": "known", "reply": "yes"}], "default": "fail"})
    assert await ask(fake, req("known")) == "yes"
    assert await failure(fake, req("stranger")) == 'fake: no rule answers the call labelled "stranger"'
    fake = FakeBackend({"default": {"reply": True}})
    assert await ask(fake, req("x", schema=BOOL)) == {"value": True}
    msg = await failure(fake, req("x", schema=CHECK))
    assert msg.startswith("fake: default gives a reply that does not match the schema at /: ")


# ---------------------------------------------------------------------------- shaping and validation


async def test_bare_lists_and_scalars_are_wrapped_wrapped_replies_kept() -> None:
    finding = {"file": "a.py", "line": 3, "issue": "bug", "severity": "high"}
    fake = FakeBackend({"rules": [
        {"label": "bare list", "reply": [finding]},
        {"label": "wrapped list", "reply": {"items": [finding, finding]}},
        {"label": "bare bool", "reply": False},
        {"label": "wrapped bool", "reply": {"value": True}},
    ]})
    assert await ask(fake, req("bare list", schema=FINDINGS_5)) == {"items": [finding]}
    assert await ask(fake, req("wrapped list", schema=FINDINGS_5)) == {"items": [finding, finding]}
    assert await ask(fake, req("bare bool", schema=BOOL)) == {"value": False}
    assert await ask(fake, req("wrapped bool", schema=BOOL)) == {"value": True}
    assert shape_reply(CHECK, {"passed": True}) == {"passed": True}  # not a wrapper schema
    assert shape_reply(FINDINGS_5, {"file": "x"}) == {"items": {"file": "x"}}  # wrapped, then invalid


async def test_replies_are_copies() -> None:
    fake = FakeBackend({"rules": [{"reply": {"items": []}}]})
    schema = {"type": "object", "properties": {"items": {"type": "array"}}}
    first = await ask(fake, req(schema=schema))
    first["items"].append("mutated")
    assert await ask(fake, req(schema=schema)) == {"items": []}


async def test_invalid_reply_is_a_failure_naming_the_rule_and_location() -> None:
    fake = FakeBackend({"rules": [
        {"label": "ok", "reply": {"passed": True, "details": "fine"}},
        {"label": "bad line", "reply": [{"file": "a.py", "line": "three", "issue": "x", "severity": "high"}]},
        {"label": "bad enum", "replies": [[{"file": "a.py", "line": 1, "issue": "x", "severity": "fatal"}]]},
        {"label": "too many", "reply": [{"file": "a", "line": 1, "issue": "x", "severity": "low"}] * 6},
        {"label": "text", "reply": {"not": "a string"}},
    ]})
    assert (await failure(fake, req("bad line", schema=FINDINGS_5))).startswith(
        "fake: rules[1] gives a reply that does not match the schema at /items/0/line: ")
    assert (await failure(fake, req("bad enum", schema=FINDINGS_5))).startswith(
        "fake: rules[2] gives a reply that does not match the schema at /items/0/severity: ")
    assert (await failure(fake, req("too many", schema=FINDINGS_5))).startswith(
        "fake: rules[3] gives a reply that does not match the schema at /items: ")
    assert await failure(fake, req("text")) == (
        "fake: rules[4] gives an object reply to a text agent, which needs a string")
    assert (await failure(fake, req("ok", schema={"type": "object", "properties": {"passed": {"type": "strin"}}}))
            ).startswith("fake: rules[0] gives a reply that does not match the schema at /: the schema cannot be used")


def test_validation_covers_the_documented_subset_and_ignores_the_rest() -> None:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"tag": {"type": "string", "pattern": "^z", "format": "email", "maxLength": 3},
                             "n": {"type": ["integer", "null"], "minimum": 1, "exclusiveMaximum": 5},
                             "xs": {"type": "array", "uniqueItems": True, "minItems": 1, "items": {"const": 1}}}}
    assert validate_value(schema, {"tag": "abc", "n": 4.0, "xs": [1]}) is None  # pattern/format ignored
    assert validate_value(schema, {"tag": "abcd"}).startswith("at /tag: ")
    assert validate_value(schema, {"n": 5}).startswith("at /n: ")
    assert validate_value(schema, {"n": True}).startswith("at /n: ")
    assert validate_value(schema, {"xs": [1, 1]}).startswith("at /xs: ")
    assert validate_value(schema, {"extra": 1}).startswith("at /: ")


# ---------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(("data", "message"), [
    ([], "fake file <dict>: top level: expected an object, got array"),
    ({"rule": []}, 'top level: unknown key "rule" (allowed: rules, default, fail_one_in, validate, comment)'),
    ({"rules": {}}, "rules: expected an array, got object"),
    ({"rules": ["find *"]}, 'rules[0]: expected an object, got string "find *"'),
    ({"rules": [{"label": "x", "replys": [1]}]},
     'rules[0]: unknown key "replys" (allowed: label, prompt, reply, replies, fail, latency, comment)'),
    ({"rules": [{"label": 3}]}, "rules[0].label: expected a string, got number 3"),
    ({"rules": [{}, {"prompt": ["a"]}]}, "rules[1].prompt: expected a string, got array"),
    ({"rules": [{"reply": 1, "fail": "x"}]}, "rules[0]: give at most one of reply, replies, fail (got reply, fail)"),
    ({"rules": [{"replies": []}]}, "rules[0].replies: expected a non-empty array, got array"),
    ({"rules": [{"replies": "abc"}]}, 'rules[0].replies: expected a non-empty array, got string "abc"'),
    ({"rules": [{"fail": ""}]}, 'rules[0].fail: expected a non-empty string (the failure message), got string ""'),
    ({"rules": [{"fail": True}]}, "rules[0].fail: expected a non-empty string (the failure message), got boolean true"),
    ({"rules": [{"latency": -1}]}, "rules[0].latency: expected a number of seconds >= 0, got number -1"),
    ({"rules": [{"latency": "2s"}]}, 'rules[0].latency: expected a number of seconds >= 0, got string "2s"'),
    ({"rules": [{"latency": -(10**400)}]}, "rules[0].latency: expected a number of seconds >= 0, got number null"),
    ({"rules": [{"prompt": "(oops"}]}, 'rules[0].prompt: invalid regular expression "(oops": '),
    ({"rules": [{"prompt": "(?i)x"}]},
     'rules[0].prompt: regular expression "(?i)x": the group syntax (?i is not in the common subset'),
    ({"rules": [{"prompt": "(?P<n>x)"}]}, "the group syntax (?P is not in the common subset"),
    ({"rules": [{"prompt": r"\Afoo"}]}, r"the escape \A is not in the common subset"),
    ({"default": "shema"}, 'default: expected "schema", "fail" or {"reply": <value>}, got string "shema"'),
    ({"default": {"reply": 1, "x": 2}}, 'default: expected "schema", "fail" or {"reply": <value>}, got object'),
    ({"fail_one_in": 0}, "fail_one_in: expected an integer >= 1, got number 0"),
    ({"fail_one_in": True}, "fail_one_in: expected an integer >= 1, got boolean true"),
    ({"fail_one_in": 2.5}, "fail_one_in: expected an integer >= 1, got number 2.5"),
    ({"comment": 5}, "comment: expected a string, got number 5"),
])
def test_malformed_files_get_a_clear_message(data: Any, message: str) -> None:
    with pytest.raises(FakeFileError) as info:
        FakeBackend(parse_fake(data))
    assert message in str(info.value)
    assert str(info.value).startswith("fake file <dict>: ")


def test_common_regex_subset_is_accepted() -> None:
    FakeBackend({"rules": [{"prompt": r"^summar(y|ize)\s+[a-z]{2,}\.py$"},
                           {"prompt": r"(?:a|b)(?=c)(?!d)(?<=x)(?<!y)\d\w\b\x41\u00e9\n\t\.\\"}]})


def test_files_from_disk(tmp_path: Path) -> None:
    good = tmp_path / "fake.json"
    good.write_text(json.dumps({"rules": [{"label": "x", "reply": "from disk"}]}))
    assert FakeBackend.load(good).spec.rules[0].reply == "from disk"
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "rules": [\n    {"label": "x" "reply": 1}\n  ]\n}\n')
    with pytest.raises(FakeFileError, match=r"^fake file .*bad\.json: invalid JSON at line 3, column 19: Expecting ','"):
        FakeBackend.load(bad)
    nan = tmp_path / "nan.json"
    nan.write_text('{"rules": [{"reply": NaN}]}')
    with pytest.raises(FakeFileError, match="NaN is not valid JSON"):
        FakeBackend.load(nan)
    with pytest.raises(FakeFileError, match="cannot read it"):
        FakeBackend.load(tmp_path / "missing.json")
    with pytest.raises(FakeFileError, match=r"fake file .*unknown\.json: rules\[0\]: unknown key"):
        (tmp_path / "unknown.json").write_text('{"rules": [{"lable": "x"}]}')
        FakeBackend.load(tmp_path / "unknown.json")


# ---------------------------------------------------------------------------- fail_one_in


def test_fnv1a32_known_vectors_and_utf16_units() -> None:
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968
    assert fnv1a32("😀") == fnv1a32("\ud83d\ude00")  # a pair is two code units either way
    h = 0x811C9DC5
    for unit in (0x61, 0xD800, 0x62):
        h = ((h ^ unit) * 0x01000193) % 2**32
    assert fnv1a32("a\ud800b") == h
    assert fnv1a32("bar", fnv1a32("foo")) == fnv1a32("foobar")


async def test_fail_one_in_is_chosen_by_content_not_order() -> None:
    calls = [req(f"item {i}", f"review file {i}.py") for i in range(300)]

    async def failed_labels(order: list[AgentRequest]) -> set[str]:
        fake = FakeBackend({"rules": [], "fail_one_in": 3})
        out = set()
        for r in order:
            try:
                await fake.run_agent(r, WS)
            except AgentFailure as exc:
                assert str(exc) == "fake: fail_one_in=3 fails this call"
                out.add(r.label)
        return out

    forward = await failed_labels(calls)
    backward = await failed_labels(list(reversed(calls)))
    assert forward == backward == {r.label for r in calls if fails_by_hash(r.label, r.prompt, 3)}
    assert 70 <= len(forward) <= 130  # roughly one in three


async def test_fail_one_in_applies_before_rules() -> None:
    victim = next(f"v {i}" for i in range(100) if fails_by_hash(f"v {i}", "p", 2))
    fake = FakeBackend({"rules": [{"reply": "rule"}], "fail_one_in": 2})
    assert await failure(fake, req(victim, "p")) == "fake: fail_one_in=2 fails this call"
    assert FakeBackend({"fail_one_in": 1}).decide(req()).error == "fake: fail_one_in=1 fails this call"


# ---------------------------------------------------------------------------- schema-shaped values


def test_schema_values_take_the_worst_case_shape() -> None:
    value = schema_value(FINDINGS_5, "find a.py", "Review a.py")
    items = value["items"]
    assert len(items) == 5  # maxItems
    assert [f["file"] for f in items] == [f"file for find a.py #{i}" for i in range(5)]
    assert len({f["line"] for f in items}) == 5  # consecutive, never collapsed by a dedupe
    lines = [f["line"] for f in items]
    assert [(b - a) % 1000 for a, b in zip(lines, lines[1:], strict=False)] == [1, 1, 1, 1]
    assert len({f["severity"] for f in items}) == 3  # enum choices rotate through the items
    assert list(items[0]) == ["file", "line", "issue", "severity"]  # properties order
    Draft202012Validator(FINDINGS_5).validate(value)
    assert schema_value(FINDINGS_5, "find a.py", "Review a.py") == value  # deterministic
    assert schema_value(FINDINGS_5, "find b.py", "Review b.py") != value


def test_schema_value_details() -> None:
    assert schema_value(None, "report", "anything") == "text for report #0"
    assert schema_value(CHECK, "fix check 2", "p") == {"passed": False, "details": "details for fix check 2 #0"}
    nested = {"type": "object", "properties": {"groups": {"type": "array", "items": {
        "type": "array", "maxItems": 3, "items": {"type": "string"}}}}}
    groups = schema_value(nested, "L", "p")["groups"]
    assert groups == [[f"groups for L #{i}.{j}" for j in range(3)] for i in range(2)]  # default 2, then maxItems
    assert len(schema_value({"type": "array", "minItems": 4}, "L", "p")) == 4
    assert schema_value({"type": "array", "maxItems": 0}, "L", "p") == []
    nullable = {"type": "object", "properties": {
        "a": {"type": ["string", "null"]}, "b": {"anyOf": [{"type": "null"}, {"type": "integer", "maximum": 3}]},
        "c": {"type": ["null", "boolean"]}, "d": {"type": "null"}, "e": {"const": {"k": [1]}},
    }}
    v = schema_value(nullable, "L", "p")
    assert v["a"] == "a for L #0" and 0 <= v["b"] <= 3 and v["c"] is False and v["d"] is None and v["e"] == {"k": [1]}
    bounded = {"type": "object", "properties": {
        "i": {"type": "integer", "minimum": 10, "maximum": 12},
        "j": {"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6},
        "k": {"type": "integer", "maximum": -5},
        "x": {"type": "number", "minimum": 0.1, "maximum": 0.9},
        "y": {"type": "number", "minimum": 0, "maximum": 1},
        "s": {"type": "string", "maxLength": 5}, "t": {"type": "string", "minLength": 12},
    }}
    v = schema_value(bounded, "L", "p")
    assert 10 <= v["i"] <= 12 and v["j"] == 5 and v["k"] == -5 and v["x"] == 0.5 and v["y"] in (0, 1)
    assert v["s"] == "s for" and v["t"] == "t for L #0.."
    Draft202012Validator(bounded).validate(v)
    recursive = {"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "maxItems": 1,
                                                                             "items": {"$ref": "#/$defs/node"}}}}},
                 "$ref": "#/$defs/node"}
    with pytest.raises(ValueError, match="nests deeper than 32 levels"):
        schema_value(recursive, "L", "p")
    ref = {"$defs": {"F": FINDING}, "type": "object", "properties": {"f": {"$ref": "#/$defs/F"}}}
    assert schema_value(ref, "L", "p")["f"]["file"] == "file for L #0"
    assert schema_value({"type": "object", "required": ["x"]}, "L", "p") == {"x": "x for L #0"}


async def test_unbuildable_schema_fails_the_call_clearly() -> None:
    fake = FakeBackend({})
    assert await failure(fake, req(schema={"type": "object", "properties": {"x": {"$ref": "#/nope"}}})) == (
        'fake: cannot build a schema-shaped value: cannot resolve $ref "#/nope"')
    assert (await failure(fake, req(schema={"type": "object", "properties": {"x": {"allOf": [
        {"type": "string"}, {"type": "integer"}]}}}))).startswith(
        "fake: the schema-shaped value does not match the schema at /x: ")


def test_random_schemas_give_valid_deterministic_values() -> None:
    rng = random.Random(7)
    for n in range(200):
        schema = {"type": "object", "properties": {f"p{k}": random_schema(rng, 3) for k in range(3)}}
        value = schema_value(schema, f"label {n}", f"prompt {n}")
        Draft202012Validator(schema).validate(value)
        assert validate_value(schema, value) is None
        assert value == schema_value(schema, f"label {n}", f"prompt {n}")


def random_schema(rng: random.Random, depth: int) -> dict[str, Any]:
    kinds = ["string", "integer", "number", "boolean", "enum", "nullable"] + (["array", "object"] if depth else [])
    kind = rng.choice(kinds)
    if kind == "array":
        out: dict[str, Any] = {"type": "array", "items": random_schema(rng, depth - 1)}
        if rng.random() < 0.6:
            out["maxItems"] = rng.randint(0, 4)
        return out
    if kind == "object":
        props = {f"f{k}": random_schema(rng, depth - 1) for k in range(rng.randint(0, 3))}
        return {"type": "object", "required": list(props), "properties": props, "additionalProperties": False}
    if kind == "enum":
        return {"type": "string", "enum": rng.sample(["a", "b", "c", "d"], rng.randint(1, 4))}
    if kind == "nullable":
        return {"type": [rng.choice(["string", "integer"]), "null"]}
    if kind in ("integer", "number") and rng.random() < 0.5:
        lo = rng.randint(-50, 50)
        return {"type": kind, "minimum": lo, "maximum": lo + rng.randint(0, 20)}
    return {"type": kind}


# ---------------------------------------------------------------------------- usage


def test_usage_counts_utf16_units() -> None:
    assert utf16_len("a😀\ud800") == 4
    u = fake_usage("12345678", "abc")
    assert (u.input_tokens, u.output_tokens) == (3, 1)
    u = fake_usage("😀😀", {"value": True})  # '{"value":true}' is 14 long
    assert (u.input_tokens, u.output_tokens) == (2, 4)


@pytest.mark.parametrize(("value", "text"), [
    ({"a": 1.0, "b": [True, None], "c": "x\ny"}, '{"a":1,"b":[true,null],"c":"x\\ny"}'),
    (0.5, "0.5"), (1e21, "1e+21"), (1e-7, "1e-7"), (1.5e-6, "0.0000015"), (123456789012345680000.0, "123456789012345680000"),
    (0.1 + 0.2, "0.30000000000000004"), (-0.0, "0"), (2.0**60, "1152921504606847000"),
    ("é😀\ud800\u0001", '"é😀\\ud800\\u0001"'),
    ([10**400, -(10**400), 10**22], "[null,null,1e+22]"),  # JS reads the first two as ±Infinity
])
def test_js_json_is_json_stringify(value: Any, text: str) -> None:
    assert js_json(value) == text


async def test_results_report_usage_and_calls_are_recorded() -> None:
    fake = FakeBackend({"rules": [{"label": "bad", "fail": "nope"}]})
    result = await fake.run_agent(req("find a.py", "Review a.py", FINDINGS_5, model="haiku", phase="Find"), WS)
    assert result.usage.input_tokens == len("Review a.py") // 4 + 1
    assert result.usage.output_tokens == len(js_json(result.value)) // 4 + 1
    assert result.model_id == "fake"
    with pytest.raises(AgentFailure):
        await fake.run_agent(req("bad"), WS)
    first, second = fake.calls
    assert first["label"] == "find a.py" and first["model"] == "haiku" and first["phase"] == "Find"
    assert first["result"] == result.value and first["failed"] is False
    assert first["usage"] == result.usage.as_dict()
    assert second["failed"] is True and second["error"] == "nope" and second["result"] is None


# ---------------------------------------------------------------------------- the two validators


def _pointer_of(message: str | None) -> str | None:
    return None if message is None else message.split(": ", 1)[0]


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["null", "bool", "int", "float", "str", "list", "dict"] if depth else ["null", "bool", "int", "str"])
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.randint(-5, 60)
    if kind == "float":
        return rng.choice([0.5, 2.0, -1.25, 3.0])
    if kind == "str":
        return rng.choice(["", "a", "b", "é😀", "x" * 12, "1"])
    if kind == "list":
        return [_random_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["p0", "p1", "f0", "x", "k"]): _random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))}


def _validation_schema(rng: random.Random, depth: int) -> dict[str, Any]:
    s = random_schema(rng, depth)
    extra = rng.choice(["none", "none", "anyOf", "oneOf", "allOf", "not", "unique", "const", "len", "bounds", "ap"])
    if extra in ("anyOf", "oneOf", "allOf"):
        return {extra: [s, random_schema(rng, max(depth - 1, 0))]}
    if extra == "not":
        return {"not": s}
    if extra == "unique":
        return {"type": "array", "uniqueItems": True, "items": s}
    if extra == "const":
        return {"const": _random_value(rng, 2)}
    if extra == "len":
        return {**s, "minLength": rng.randint(0, 3), "maxLength": rng.randint(0, 12)}
    if extra == "bounds":
        return {**s, rng.choice(["minimum", "exclusiveMinimum"]): rng.randint(-3, 20),
                rng.choice(["maximum", "exclusiveMaximum"]): rng.randint(10, 50)}
    if extra == "ap":
        return {**s, "additionalProperties": rng.choice([False, {"type": "integer"}])}
    return s


def test_subset_validator_agrees_with_jsonschema() -> None:
    """subset_error (host.mjs's validator, used for schema-shaped values) and jsonschema
    (used for replies) give the same verdict and the same first-error pointer."""
    rng = random.Random(11)
    checked = invalid = 0
    for n in range(600):
        schema = {"type": "object", "properties": {f"p{k}": _validation_schema(rng, 2) for k in range(2)},
                  "required": rng.sample(["p0", "p1"], rng.randint(0, 2))}
        candidates = [_random_value(rng, 3), {"p0": _random_value(rng, 2), "p1": _random_value(rng, 2)}]
        try:
            candidates.append(schema_value(schema, f"l{n}", "p"))
        except ValueError:
            pass
        for value in candidates:
            ours, theirs = subset_error(schema, value), validate_value(schema, value)
            assert _pointer_of(ours) == _pointer_of(theirs), (schema, value, ours, theirs)
            checked += 1
            invalid += ours is not None
    assert checked > 1500 and 300 < invalid < checked - 300


def test_a_non_object_file_is_refused_whatever_the_entry_point() -> None:
    for data in ([], "rules", 3, None):
        with pytest.raises(FakeFileError, match="top level: expected an object"):
            FakeBackend(data)  # type: ignore[arg-type]
    with pytest.raises(FakeFileError, match="top level: expected an object, got array"):
        FakeBackend.from_json("[1]")
