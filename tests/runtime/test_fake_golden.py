"""The fake backend's answers, pinned: every value, usage figure, latency and message it
gave, before its schema-shaped values were made once per schema (docs/decisions.md, "The
fake backend's cost per agent"), for schemas of every type the language has, hand-written
edge cases and random schemas, under varied labels and prompts. The node host's fake makes
the same answers (tests/transpiler/test_node_host.py), so none of them may change.

`fake_golden.txt` holds one case a line, as a Python literal (so tuples, 1 and 1.0, and
surrogates written as two code points survive): the inputs and what the fake answered.
Regenerate it only for a deliberate change of the answers (then review the diff):

    WF_UPDATE_GOLDEN=1 python -m pytest tests/runtime/test_fake_golden.py
"""

from __future__ import annotations

import ast as pyast
import os
import random
from pathlib import Path
from typing import Any

import pytest

from wflang.runtime.backend import AgentRequest
from wflang.runtime.backends.fake import (
    FakeBackend,
    SchemaValueError,
    _plain,
    _shaped,
    fnv1a32,
    js_json,
    schema_value,
    subset_error,
)

GOLDEN = Path(__file__).parent / "fake_golden.txt"
UPDATE = os.environ.get("WF_UPDATE_GOLDEN") == "1"

# Every result type the language has, as the runtime turns it into a schema.
TYPES_WF = '''workflow golden-types:
    description: "every result type the language has"

type Fix:
    patch: str

type Skip:
    reason: str

type Bug:
    "A bug report."
    title: str max 12  "one line that names the bug"
    fixed_in?: str  "the version"
    severity: "low" | "medium" | "high"
    owner: str?
    line: int min 1 max 5000

type Plan:
    count: int min 0 max 5
    confidence: float min 0 max 1
    offset: int min -5 max 5
    ratio: float min 0.25 max 0.75
    title: str min 1 max 80
    longname: str min 40
    steps: list[str] min 1 max 10
    pairs: list[int] min 3 max 7
    maybe: list[bool] max 0

type Step:
    level: 1 | 2 | 3
    mode: true | "auto"
    half: 0.5 | 1
    result: Fix | Skip | none
    either: int | str
    payload: json
    tally: map[str, int] max 3
    few: map[str, Fix] min 1 max 2
    open: map[str, str] max 4
    deep: list[list[Bug] max 2] max 2

type R:
    n: int

r1 = agent "a" -> Bug
r2 = agent "b" -> Plan
r3 = agent "c" -> Step
r4 = agent "d" -> list[Bug] max 3
r5 = agent "e" -> int
r6 = agent "f" -> int min 10 max 12
r7 = agent "g" -> float
r8 = agent "h" -> str max 3
r9 = agent "i" -> bool
r10 = agent "j" -> "yes" | "no"
r11 = agent "k" -> json
r12 = agent "l" -> Bug?
r13 = agent "m" -> map[str, Plan] max 2
r14 = agent "n" -> list[str] max 4
r15 = agent "o" -> Fix | Skip
r16 = agent "p" -> str?
r17 = agent "q" -> list[int min 1 max 3] min 2 max 4
r18 = agent "r"
r19 = agent "s" -> R
return [r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18, r19]
'''

# Schemas no `.wf` type produces but a caller of the backend may send: every branch of the
# generator and every way it can fail.
EDGE_SCHEMAS: list[Any] = [
    True, False, 5, {}, {"type": "null"}, {"type": ["null"]}, {"type": ["integer", "null"]}, {"type": [5]},
    {"type": "foo"}, {"type": []}, {"const": 5}, {"type": "string", "const": 5}, {"const": {"a": [1, 2.5]}},
    {"enum": []}, {"type": "string", "enum": [1, "a"]}, {"enum": [None, True, {"k": "v"}, [1]]},
    {"enum": "notalist"}, {"type": "integer", "minimum": 5, "maximum": 3},
    {"type": "integer", "exclusiveMinimum": 2, "exclusiveMaximum": 3},
    {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 2},
    {"type": "number", "minimum": 0.1, "maximum": 0.9}, {"type": "number", "minimum": 1.5},
    {"type": "integer", "minimum": 10**22}, {"type": "integer", "maximum": -10**22},
    {"type": "integer", "minimum": 1e300, "maximum": 1e300}, {"type": "integer", "minimum": True},
    {"type": "integer", "minimum": 2.5, "maximum": 2.7}, {"type": "number", "maximum": -0.5},
    {"type": "integer", "minimum": -3}, {"type": "integer", "exclusiveMaximum": 0},
    {"type": "string", "maxLength": -1}, {"type": "string", "maxLength": 2.5}, {"type": "string", "maxLength": 2.0},
    {"type": "string", "minLength": 5, "maxLength": 3}, {"type": "string", "minLength": 30},
    {"type": "string", "maxLength": 0}, {"type": "string", "maxLength": True},
    {"type": "array"}, {"type": "array", "minItems": 5}, {"type": "array", "maxItems": -2},
    {"type": "array", "maxItems": 2.0, "items": {"type": "integer"}}, {"type": "array", "maxItems": 2.5},
    {"type": "array", "minItems": 3, "maxItems": 1}, {"type": "array", "items": [{"type": "integer"}]},
    {"type": "array", "items": False}, {"type": "array", "maxItems": 0, "items": False},
    {"type": "array", "maxItems": 3, "uniqueItems": True, "items": {"const": 1}},
    {"type": "array", "maxItems": 3, "uniqueItems": True, "items": {"type": "integer"}},
    {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
    {"type": "array", "maxItems": 10**6, "items": {"const": 0}, "uniqueItems": True},
    {"type": "array", "maxItems": 2, "items": {"type": "array", "maxItems": 2, "items": {
        "type": "object", "properties": {"e": {"enum": ["p", "q", "r"]}, "n": {"type": "integer"},
                                         "s": {"type": "string"}}}}},
    {"properties": {"a": {"type": "integer"}}}, {"items": {"type": "integer"}, "maxItems": 1},
    {"anyOf": [{"type": "null"}, {"type": "integer"}]}, {"anyOf": [{"type": "null"}]}, {"anyOf": []},
    {"oneOf": [{"type": "integer"}, {"type": "number"}]}, {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {"type": "integer", "anyOf": [{"type": "string"}]},
    {"allOf": [{"type": "string"}, {"type": "integer"}]}, {"not": {"type": "string"}},
    {"type": "object", "required": ["x", 5, "y"], "properties": {"y": {"type": "integer"}}},
    {"type": "object", "required": ["x"], "additionalProperties": False},
    {"type": "object", "required": ["x"], "additionalProperties": {"type": "integer"}},
    {"type": "object", "properties": {"1": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
    {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 0},
    {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 2.5},
    {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": -1},
    {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 3},
    {"type": "object", "properties": {"a": {}, "b": {}, "c": {}}, "maxProperties": 2},
    {"type": "object", "properties": {"a": {}}, "minProperties": 2},
    {"type": "object", "properties": {"a~b/c": {"type": "array", "maxItems": 1, "items": {"enum": [1, 2, 3]}}}},
    {"type": "object", "properties": {"\ud83d\ude00": {"type": "string", "minLength": 30}}},
    {"type": "object", "properties": {"\ud83d\ude00": {"type": "string", "maxLength": 1}}},
    {"type": "object", "properties": {"k": {"type": "string", "enum": ["\ud83d\ude00", "x"]}}},
    {"type": "object", "properties": {"k": {"const": "\ud83d\ude00"}}},
    {"type": "object", "properties": {"x": {"$ref": "#/nope"}}}, {"$ref": 5}, {"$ref": "http://x"},
    {"$ref": "#"}, {"$defs": {"n": {"type": "integer", "maximum": 3}}, "$ref": "#/$defs/n"},
    {"$defs": {"n": {"type": "integer"}}, "type": "object", "properties": {
        "a": {"$ref": "#/$defs/n"}, "b": {"type": "array", "items": {"$ref": "#/$defs/n"}}}},
    {"items": [{"type": "integer", "minimum": 7}], "type": "object", "properties": {"x": {"$ref": "#/items/0"}}},
    {"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "maxItems": 1,
                                                              "items": {"$ref": "#/$defs/node"}}}}},
     "$ref": "#/$defs/node"},
    {"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "maxItems": 0,
                                                              "items": {"$ref": "#/$defs/node"}}}}},
     "$ref": "#/$defs/node"},
    {"type": "object", "properties": {"a": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 0.5}}},
    {"type": "object", "properties": {"f": {"type": "number", "minimum": 0.25, "maximum": 0.5}, "e": {"enum": [0.5]}}},
    {"type": "object", "properties": {"s": {"type": "string", "description": "d", "pattern": "^x$", "format": "email"}}},
]

LABELS = ["task", "r 3", "find a.py", "fix check 2", "résumé ✓", "emoji 😀", "pair \ud83d\ude00 split",
          "lone \ud800 label", "lone end \udfff", "", "x" * 120]
PROMPTS = ["do it", "item 3", "", "Review a.py for correctness problems.", "unicode: żółć 漢字 😀",
           "pair \ud83d\ude00 split", "lone surrogate: \ud800 and \udfff", "x" * 300]

SPECS: list[dict[str, Any]] = [
    {"rules": [], "default": "schema"},
    {"rules": [], "default": "schema", "fail_one_in": 3},
    {"rules": [{"label": "fix *", "latency": 2.5}, {"prompt": "^item", "latency": 1}], "default": "schema"},
]

HASHED = ["", "a", "foobar", "é", "😀", "\ud83d\ude00", "\ud800", "a\udfffb", "task\ndo it\n", "x" * 1000,
          "漢字\n/grid/0/*/e"]


def _language_schemas() -> list[Any]:
    from wflang.dsl import ast
    from wflang.dsl.loader import load
    from wflang.dsl.schema import records_of, result_schema

    loaded = load("golden-types.wf", TYPES_WF)
    assert loaded.ok, loaded.diagnostics
    records = records_of(loaded.program)
    return [result_schema(n.result, records) for n in ast.walk(loaded.program) if isinstance(n, ast.Agent)]


def _random_schemas() -> list[Any]:
    from tests.runtime.test_fake_backend import _validation_schema, random_schema
    from tests.transpiler.test_node_host import _random_schema

    rng = random.Random(20261201)
    out: list[Any] = []
    for k in range(60):
        make = (random_schema, _random_schema, _validation_schema)[k % 3]
        out.append({"type": "object", "properties": {f"p{j}": make(rng, 3) for j in range(rng.randint(1, 4))}})
    return out


def _requests() -> tuple[list[Any], list[tuple[int, str, str]]]:
    """The schemas, and (schema index, label, prompt) for every case: each schema under a
    few labels and prompts, and every label and prompt under a few schemas."""
    schemas = [None, *_language_schemas(), *EDGE_SCHEMAS, *_random_schemas()]
    out = []
    for i in range(len(schemas)):
        out += [(i, LABELS[(i + k) % len(LABELS)], PROMPTS[(i + 2 * k) % len(PROMPTS)]) for k in range(3)]
    for i, label in enumerate(LABELS):
        for j, prompt in enumerate(PROMPTS):
            out.append(((7 * i + j) % len(schemas), label, prompt))
    return schemas, out


def _answer(backend: FakeBackend, schema: Any, label: str, prompt: str) -> dict[str, Any]:
    a = backend.decide(AgentRequest(prompt=prompt, schema=schema, label=label))
    usage = None if a.usage is None else (a.usage.input_tokens, a.usage.output_tokens)
    return {"latency": a.latency, "value": a.value, "error": a.error, "usage": usage}


def _schema_value(schema: Any, label: str, prompt: str) -> Any:
    try:
        return ("value", schema_value(schema, label, prompt))
    except Exception as exc:
        return ("raises", type(exc).__name__, str(exc))


def _outcomes(backends: list[FakeBackend], schema: Any, label: str, prompt: str) -> dict[str, Any]:
    """Each spec's answer, and schema_value's; "same" for one equal to the first answer
    (or to its value), which keeps the file short."""
    first, *others = [_answer(b, schema, label, prompt) for b in backends]
    value = _schema_value(schema, label, prompt)
    same_value = first["error"] is None and _exact(value) == _exact(("value", first["value"]))
    return {"answers": [first, *("same" if _exact(a) == _exact(first) else a for a in others)],
            "schema_value": "same" if same_value else value}


def _cases() -> list[dict[str, Any]]:
    schemas, requests = _requests()
    backends = [FakeBackend(spec) for spec in SPECS]
    cases: list[dict[str, Any]] = [{"kind": "schemas", "schemas": schemas}]
    for n, label, prompt in requests:
        cases.append({"kind": "request", "schema": n, "label": label, "prompt": prompt,
                      "out": _outcomes(backends, schemas[n], label, prompt)})
    cases += [{"kind": "fnv1a32", "text": t, "out": fnv1a32(t)} for t in HASHED]
    cases += _validation_cases()
    return cases


def _validation_cases() -> list[dict[str, Any]]:
    """subset_error's verdict and message on random schemas and values (the messages of a
    schema-shaped value that does not fit are the fake's own)."""
    from tests.runtime.test_fake_backend import _random_value, _validation_schema

    rng = random.Random(11)
    out = []
    for _ in range(120):
        schema = {"type": "object", "properties": {f"p{k}": _validation_schema(rng, 2) for k in range(2)},
                  "required": rng.sample(["p0", "p1"], rng.randint(0, 2))}
        for value in (_random_value(rng, 3), {"p0": _random_value(rng, 2), "p1": _random_value(rng, 2)}):
            out.append({"kind": "subset_error", "schema": schema, "value": value, "out": subset_error(schema, value)})
    return out


def _recompute(case: dict[str, Any], schemas: list[Any], backends: list[FakeBackend]) -> Any:
    kind = case["kind"]
    if kind == "request":
        return _outcomes(backends, schemas[case["schema"]], case["label"], case["prompt"])
    if kind == "fnv1a32":
        return fnv1a32(case["text"])
    assert kind == "subset_error"
    return subset_error(case["schema"], case["value"])


def _exact(value: Any) -> str:
    """A text that tells apart what == does not: 1 / 1.0 / True, lists / tuples, key order."""
    return repr(value)


def _load() -> list[dict[str, Any]]:
    if UPDATE:
        GOLDEN.write_text("".join(repr(c) + "\n" for c in _cases()), encoding="utf-8")
    assert GOLDEN.exists(), f"no {GOLDEN.name}: run with WF_UPDATE_GOLDEN=1"
    return [pyast.literal_eval(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def test_the_fake_gives_the_golden_answers() -> None:
    header, *cases = _load()
    assert header["kind"] == "schemas"
    schemas = header["schemas"]
    # Replies and fail_one_in do not advance per call here, so one backend per spec will do;
    # the cases are replayed in order all the same.
    backends = [FakeBackend(spec) for spec in SPECS]
    assert {c["kind"] for c in cases} == {"request", "fnv1a32", "subset_error"}
    for case in cases:
        assert _exact(_recompute(case, schemas, backends)) == _exact(case["out"]), case


def test_the_golden_cases_reach_every_outcome() -> None:
    """The cases are worth pinning: values, fail_one_in failures, generator errors, values
    that do not fit their schema, latencies, non-ASCII and non-plain JSON."""
    answers = [a for c in _load() if c["kind"] == "request" for a in c["out"]["answers"] if a != "same"]
    errors = [a["error"] for a in answers if a["error"] is not None]
    assert sum(a["error"] is None for a in answers) > 500
    assert any(e.startswith("fake: fail_one_in=3") for e in errors)
    assert any(e.startswith("fake: cannot build a schema-shaped value: ") for e in errors)
    assert any(e.startswith("fake: the schema-shaped value does not match the schema at ") for e in errors)
    assert any("nests deeper than 32 levels" in e for e in errors)
    assert {a["latency"] for a in answers} >= {0.0, 1.0, 2.5}
    values = [a["value"] for a in answers if a["error"] is None]
    assert any(isinstance(v, dict) and any(isinstance(x, float) for x in v.values()) for v in values)
    assert any(not js_json(v).isascii() for v in values)


@pytest.mark.parametrize("text", HASHED)
def test_fnv1a32_is_the_documented_hash(text: str) -> None:
    """docs/fake-answers.md: FNV-1a-32 over the UTF-16 code units, one XOR per unit."""
    h = 0x811C9DC5
    units = text.encode("utf-16-le", "surrogatepass")
    for k in range(0, len(units), 2):
        h = ((h ^ int.from_bytes(units[k:k + 2], "little")) * 0x01000193) % 2**32
    assert fnv1a32(text) == h


# ---------------------------------------------------------------------------- plans
# A schema's values are made by a plan built once per schema; the plan says when every value
# it makes fits (the fake then skips checking it) and when every value is plain JSON (its
# text is then written without looking at it first). Both must be true when claimed.


def _all_schemas() -> list[Any]:
    from tests.runtime.test_fake_backend import _validation_schema, random_schema
    from tests.transpiler.test_node_host import SCHEMAS, _random_schema

    rng = random.Random(5)
    randoms = [{"type": "object", "properties": {f"p{j}": make(rng, 3) for j in range(rng.randint(1, 4))}}
               for k in range(900) for make in [(random_schema, _random_schema, _validation_schema)[k % 3]]]
    every = [*_language_schemas(), *EDGE_SCHEMAS, *SCHEMAS, *randoms]
    return [s for s in every if s is not None]  # None: a text agent, no schema


def test_a_plan_claims_only_what_is_true() -> None:
    proven = plain = 0
    for n, schema in enumerate(_all_schemas()):
        for label, prompt in ((LABELS[n % len(LABELS)], PROMPTS[n % len(PROMPTS)]), ("r · 3", "item 3")):
            try:
                value, plan = _shaped(schema, label, prompt)
            except SchemaValueError:
                continue
            assert plan is not None
            if plan.proven:
                assert subset_error(schema, value) is None, (schema, value)
                proven += 1
            if plan.plain:
                assert _plain(value), (schema, value)
                plain += 1
    assert proven > 1000 and plain > 1000  # the claims are made, not only withheld


def test_every_language_schema_is_proven() -> None:
    """Every `.wf` result type gets values the fake need not check; a type without floats
    gets values known to be plain JSON (a float, as in `half: 0.5 | 1`, may not be)."""
    plains = []
    for schema in filter(None, _language_schemas()):  # None: a text agent, no schema
        value, plan = _shaped(schema, "r · 3", "item 3")
        assert plan is not None and plan.proven, schema
        assert _plain(value) or not plan.plain
        plains.append(plan.plain)
    assert plains.count(False) == 3 and len(plains) == 18  # Plan (ratio 0.5), Step (half), map of Plan


def test_the_fake_plans_once_per_schema_and_checks_only_what_is_not_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    from wflang.runtime.backends import fake

    planned: list[Any] = []
    checked: list[Any] = []
    plan_of, check = fake._plan_of, fake.subset_error
    monkeypatch.setattr(fake, "_plan_of", lambda root, s, *rest: planned.append(s) or plan_of(root, s, *rest))
    monkeypatch.setattr(fake, "subset_error", lambda schema, value: checked.append(value) or check(schema, value))
    record = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}, "additionalProperties": False}
    contradictory = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 3}}}
    backend = FakeBackend({"rules": [], "default": "schema"})
    for i in range(50):
        assert backend.decide(AgentRequest(prompt=f"item {i}", schema=record, label=f"r · {i}")).error is None
    assert len(planned) == 2 and checked == []  # the record and its one field, once; nothing checked
    answer = backend.decide(AgentRequest(prompt="p", schema=contradictory, label="L"))
    assert answer.error == "fake: the schema-shaped value does not match the schema at /n: 5 is greater than the maximum 3"
    assert checked == [{"n": 5}]
