"""An agent's answer, fitted to its JSON Schema (docs/semantics.md "Agents", result type).

A backend may hand over an answer that its schema does not quite admit (a model that
ignores `additionalProperties`, a host that does not check `maxItems`). The bound counts
only what the types declare, so both targets fit every answer the same way: undeclared
properties are dropped and records rebuilt in declared order (an omittable field left
out is filled with None, so it reads as `none` and `keys()` stays the declared fields),
lists are cut to their
`maxItems` (maps, objects with a schema as `additionalProperties`, to their
`maxProperties`, keys in code point order), and anything else that does not match (a
wrong type, a missing field, a null where none is allowed, a string outside its enum, a
number outside its declared `minimum`/`maximum`, a string outside its length limits, a
list shorter than its `minItems`, a map with fewer keys than its `minProperties`) makes
the whole answer a failure.
The JS helper `fitAnswer` in wflang/transpiler/prelude.js is the same function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from wflang.dsl.values import js_key_order
from wflang.runtime.by_identity import ByIdentity

NOT_FIT: Any = object()  # the answer does not fit: the agent counts as failed


def fit(v: Any, schema: Mapping[str, Any]) -> Any:
    """`v` fitted to `schema` (the subset wflang's schemas use), or NOT_FIT."""
    alternatives = schema.get("anyOf")
    if alternatives is not None:
        for alt in alternatives:
            out = fit(v, alt)
            if out is not NOT_FIT:
                return out
        return NOT_FIT
    options = schema.get("enum")
    if options is not None and not any(_json_equal(v, o) for o in options):
        return NOT_FIT  # a literal union (`1 | 2 | 3`, `true | "auto"`)
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(v, dict):
            return NOT_FIT
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping):
            return _fit_map(v, values, schema.get("maxProperties"), schema.get("minProperties", 0))
        props: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        out_obj: dict[str, Any] = {}
        for name, sub in props.items():
            if name not in v:
                if name in required:
                    return NOT_FIT
                out_obj[name] = None  # an omittable field left out reads as none
                continue
            item = fit(v[name], sub)
            if item is NOT_FIT:
                return NOT_FIT
            out_obj[name] = item
        return out_obj
    if kind == "array":
        if not isinstance(v, list):
            return NOT_FIT
        most = schema.get("maxItems")
        items = v[: max(0, most)] if isinstance(most, int) else v
        if len(items) < schema.get("minItems", 0):
            return NOT_FIT
        sub = schema.get("items")
        if sub is None:
            return list(items)
        out_list = []
        for x in items:
            y = fit(x, sub)
            if y is NOT_FIT:
                return NOT_FIT
            out_list.append(y)
        return out_list
    if kind == "string":
        if not isinstance(v, str):
            return NOT_FIT
        options = schema.get("enum")
        if options is not None and v not in options:
            return NOT_FIT
        # code points, as JSON Schema counts (and the JS helper, with [...v].length)
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", math.inf):
            return NOT_FIT
        return v
    if kind == "integer":
        return v if _is_number(v) and float(v).is_integer() and _in_range(v, schema) else NOT_FIT
    if kind == "number":
        return v if _is_number(v) and _in_range(v, schema) else NOT_FIT
    if kind == "boolean":
        return v if isinstance(v, bool) else NOT_FIT
    if kind == "null":
        return None if v is None else NOT_FIT
    # `{}` (`json`) or an enum of mixed kinds (checked above): as it is, its objects' keys
    # in the order the JS helper's objects hold them
    return js_key_order(v)


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality of scalars, as JS `===` sees them: `1 == 1.0`, but `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return type(a) is type(b) and a == b
    return _is_number(a) and _is_number(b) and a == b


def _fit_map(v: dict[str, Any], values: Mapping[str, Any], most: Any, least: int) -> Any:
    """A map answer: its keys in code point order (how maps iterate in both targets),
    the first `maxProperties` of them kept (then at least `minProperties`), every value
    fitted."""
    names = sorted(v)
    if isinstance(most, int):
        names = names[: max(0, most)]
    if len(names) < least:
        return NOT_FIT
    out: dict[str, Any] = {}
    for name in names:
        item = fit(v[name], values)
        if item is NOT_FIT:
            return NOT_FIT
        out[name] = item
    return out


def _in_range(v: float, schema: Mapping[str, Any]) -> bool:
    return schema.get("minimum", -math.inf) <= v <= schema.get("maximum", math.inf)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ---------------------------------------------------------------- one fitter per schema

Fitter = Callable[[Any], Any]
_fitters = ByIdentity()


def fitter(schema: Mapping[str, Any]) -> Fitter:
    """`lambda v: fit(v, schema)`, with the schema read once: every agent of a site has
    the same schema object, and `fit` would look up its keywords again for each answer.
    One per schema object (keyed by identity; the entry keeps the object alive, so no id is
    reused). Schemas are never changed once made."""
    return _fitters.get(schema, _compiled)


def _compiled(schema: Mapping[str, Any]) -> Fitter:
    """The fitter of `schema`: the same tests as `fit`, in the same order."""
    alternatives = schema.get("anyOf")
    if alternatives is not None:
        alts = [_compiled(alt) for alt in alternatives]

        def any_of(v: Any) -> Any:
            for alt in alts:
                out = alt(v)
                if out is not NOT_FIT:
                    return out
            return NOT_FIT

        return any_of
    kind = _compiled_kind(schema)
    options = schema.get("enum")
    if options is None:
        return kind

    def one_of(v: Any) -> Any:
        if not any(_json_equal(v, o) for o in options):
            return NOT_FIT  # a literal union (`1 | 2 | 3`, `true | "auto"`)
        return kind(v)

    return one_of


def _compiled_kind(schema: Mapping[str, Any]) -> Fitter:
    kind = schema.get("type")
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping):
            return _compiled_map(values, schema.get("maxProperties"), schema.get("minProperties", 0))
        return _compiled_record(schema)
    if kind == "array":
        return _compiled_list(schema)
    if kind == "string":
        return _compiled_string(schema)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
        whole = kind == "integer"

        def number(v: Any) -> Any:
            if _is_number(v) and (not whole or float(v).is_integer()) and low <= v <= high:
                return v
            return NOT_FIT

        return number
    if kind == "boolean":
        return lambda v: v if isinstance(v, bool) else NOT_FIT
    if kind == "null":
        return lambda v: None if v is None else NOT_FIT
    return js_key_order


def _compiled_record(schema: Mapping[str, Any]) -> Fitter:
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fields = [(name, _compiled(sub), name in required) for name, sub in props.items()]

    def record(v: Any) -> Any:
        if not isinstance(v, dict):
            return NOT_FIT
        out: dict[str, Any] = {}
        for name, fit_field, needed in fields:
            if name not in v:
                if needed:
                    return NOT_FIT
                out[name] = None  # an omittable field left out reads as none
                continue
            item = fit_field(v[name])
            if item is NOT_FIT:
                return NOT_FIT
            out[name] = item
        return out

    return record


def _compiled_map(values: Mapping[str, Any], most: Any, least: int) -> Fitter:
    fit_value = _compiled(values)

    def map_(v: Any) -> Any:
        if not isinstance(v, dict):
            return NOT_FIT
        names = sorted(v)
        if isinstance(most, int):
            names = names[: max(0, most)]
        if len(names) < least:
            return NOT_FIT
        out: dict[str, Any] = {}
        for name in names:
            item = fit_value(v[name])
            if item is NOT_FIT:
                return NOT_FIT
            out[name] = item
        return out

    return map_


def _compiled_list(schema: Mapping[str, Any]) -> Fitter:
    most = schema.get("maxItems")
    least = schema.get("minItems", 0)
    sub = schema.get("items")
    fit_item = _compiled(sub) if sub is not None else None

    def list_(v: Any) -> Any:
        if not isinstance(v, list):
            return NOT_FIT
        items = v[: max(0, most)] if isinstance(most, int) else v
        if len(items) < least:
            return NOT_FIT
        if fit_item is None:
            return list(items)
        out = []
        for x in items:
            y = fit_item(x)
            if y is NOT_FIT:
                return NOT_FIT
            out.append(y)
        return out

    return list_


def _compiled_string(schema: Mapping[str, Any]) -> Fitter:
    options = schema.get("enum")
    shortest, longest = schema.get("minLength", 0), schema.get("maxLength", math.inf)

    def string(v: Any) -> Any:
        if not isinstance(v, str):
            return NOT_FIT
        if options is not None and v not in options:
            return NOT_FIT
        # code points, as JSON Schema counts (and the JS helper, with [...v].length)
        if len(v) < shortest or len(v) > longest:
            return NOT_FIT
        return v

    return string
