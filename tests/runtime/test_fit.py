"""`fitter(schema)`, the fitter made once per schema, is `fit(v, schema)` exactly: the
same value (types, key order) or NOT_FIT, for schemas of every keyword fit reads."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wflang.runtime.fit import NOT_FIT, fit, fitter

_names = st.sampled_from(["a", "b", "10", "9", "n"])
_scalars = st.none() | st.booleans() | st.integers(-4, 4) | st.floats(-3, 3) | st.sampled_from(["", "s", "ab", "a"])
values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names, inner, max_size=4),
                      max_leaves=12)


def _optional(draw: st.DrawFn, schema: dict[str, Any], key: str, strategy: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        schema[key] = draw(strategy)


@st.composite
def schemas(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kinds = ["integer", "number", "string", "boolean", "null", "json", "enum"]
    if depth < 3:
        kinds += ["object", "map", "array", "anyOf"]
    kind = draw(st.sampled_from(kinds))
    small = st.integers(-1, 3)
    if kind == "anyOf":
        return {"anyOf": draw(st.lists(schemas(depth + 1), min_size=1, max_size=3))}
    if kind == "enum":
        return {"enum": draw(st.lists(_scalars, min_size=1, max_size=3))}
    if kind == "json":
        return {}
    schema: dict[str, Any] = {"type": kind if kind != "map" else "object"}
    if kind == "object":
        props = draw(st.dictionaries(_names, schemas(depth + 1), max_size=3))
        schema["properties"] = props
        schema["required"] = draw(st.lists(st.sampled_from(sorted(props) or ["a"]), unique=True, max_size=3))
        schema["additionalProperties"] = False
    elif kind == "map":
        schema["additionalProperties"] = draw(schemas(depth + 1))
        _optional(draw, schema, "maxProperties", small)
        _optional(draw, schema, "minProperties", small)
    elif kind == "array":
        _optional(draw, schema, "items", schemas(depth + 1))
        _optional(draw, schema, "maxItems", small)
        _optional(draw, schema, "minItems", small)
    elif kind == "string":
        _optional(draw, schema, "enum", st.lists(st.sampled_from(["", "s", "ab"]), min_size=1, max_size=2))
        _optional(draw, schema, "minLength", small)
        _optional(draw, schema, "maxLength", small)
    elif kind in ("integer", "number"):
        _optional(draw, schema, "minimum", st.integers(-3, 3))
        _optional(draw, schema, "maximum", st.integers(-3, 3))
    if kind != "json" and draw(st.integers(0, 5)) == 0:
        schema["enum"] = draw(st.lists(_scalars, min_size=1, max_size=3))
    return schema


def _same(a: Any, b: Any) -> bool:
    """Equal as values, with the same types (1 is not 1.0, True is not 1) and key order."""
    if a is NOT_FIT or b is NOT_FIT:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)


@settings(max_examples=400, deadline=None)
@given(schemas(), st.lists(values, min_size=1, max_size=4))
def test_the_fitter_of_a_schema_is_fit(schema: dict[str, Any], answers: list[Any]) -> None:
    made = fitter(schema)
    for v in answers:
        assert _same(made(v), fit(v, schema)), (schema, v)
    assert fitter(schema) is made  # made once per schema object


def test_a_record_answer_is_fitted_in_declared_order() -> None:
    schema = {"type": "object", "properties": {"b": {"type": "integer"}, "a": {"type": "string"}},
              "required": ["b"], "additionalProperties": False}
    assert list(fitter(schema)({"a": "x", "b": 2.0, "c": 1})) == ["b", "a"]
    assert fitter(schema)({"a": "x"}) is NOT_FIT
