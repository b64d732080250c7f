"""`.wf` types → JSON Schema: part of the language, read by both back ends (the JS emitter and the Python runtime), which meet only through wflang/dsl.

The agent's structured output goes through a tool whose input must be an object, so a
result type that is not a record is wrapped: a list as `{"items": [...]}`, anything else
as `{"value": ...}`. `wrap_key` tells the back ends which key to unwrap. Every object is
closed (`additionalProperties: false`): a record answer has exactly its declared fields,
so `keys()` of it is what the checker counted. A map (`map[str, T] max N`) is the one
open object: `additionalProperties` is T's schema, with `maxProperties: N`. An omittable field (`name?: T`) is in
`properties` but not in `required` (Claude Code wants `required` within `properties`);
answer fitting fills it with null when it is left out. Declared bounds become
`minimum`/`maximum` (ints, floats), `minLength`/`maxLength` (strings) and
`minItems`/`maxItems` (lists), `minProperties` (maps); a type's description (the string line under `type T:`) and
a field's become `description`.
"""

from __future__ import annotations

from typing import Any

from wflang.dsl import ast

CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["passed", "details"],
    "properties": {"passed": {"type": "boolean"}, "details": {"type": "string"}},
    "additionalProperties": False,
}

_SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


class SchemaError(Exception):
    """A type that has no schema (an unknown name); the checker reports these first."""


def type_schema(t: ast.TypeExpr, records: dict[str, ast.TypeDecl],
                sizes: dict[str, int] | None = None) -> dict[str, Any]:
    """The JSON Schema of a type. `sizes` gives the values of int inputs used as list
    maxima (`list[T] max rounds`); a max that cannot be resolved is left out."""
    if isinstance(t, ast.OptionalType):
        inner = type_schema(t.inner, records, sizes)
        if list(inner) == ["anyOf"]:  # `int | str | none`: one anyOf, null last
            return {"anyOf": [*inner["anyOf"], {"type": "null"}]}
        return {"anyOf": [inner, {"type": "null"}]}
    if isinstance(t, ast.UnionType):
        return {"type": "string", "enum": list(t.options)}
    if isinstance(t, ast.LiteralType):
        return {**_literal_kind(t.options), "enum": list(t.options)}
    if isinstance(t, ast.AnyOfType):
        return {"anyOf": [type_schema(o, records, sizes) for o in t.options]}
    if isinstance(t, ast.ListType):
        out: dict[str, Any] = {"type": "array", "items": type_schema(t.item, records, sizes)}
        if isinstance(t.min, ast.IntLit) and t.min.value > 0:
            out["minItems"] = t.min.value
        n = list_max(t, sizes)
        if n is not None:
            out["maxItems"] = n
        return out
    if isinstance(t, ast.MapType):
        # run-time keys: an object whose every property is a T, at most max of them
        out = {"type": "object", "additionalProperties": type_schema(t.value, records, sizes)}
        n = list_max(t, sizes)
        if n is not None:
            out["maxProperties"] = n
        if isinstance(t.min, ast.IntLit) and t.min.value > 0:
            out["minProperties"] = t.min.value
        return out
    if isinstance(t, ast.NamedType):
        if t.name in _SCALARS:
            return {"type": _SCALARS[t.name], **_bounds(t)}
        if t.name == "json":
            return {}  # any JSON value
        decl = records.get(t.name)
        if decl is None:
            raise SchemaError(f"unknown type `{t.name}`")
        doc = {"description": decl.doc} if decl.doc is not None else {}
        return {
            "type": "object",
            **doc,
            "required": [f.name for f in decl.fields if not f.omittable],
            "properties": {f.name: field_schema(f, records, sizes) for f in decl.fields},
            "additionalProperties": False,
        }
    raise SchemaError(f"no schema for {type(t).__name__}")


def _literal_kind(options: list[Any]) -> dict[str, Any]:
    """`1 | 2 | 3` is `{"type": "integer", "enum": [...]}`; a mix of kinds has no `type`."""
    kinds = {"boolean" if isinstance(v, bool) else "string" if isinstance(v, str)
             else "integer" if isinstance(v, int) else "number" for v in options}
    if kinds == {"integer", "number"}:
        kinds = {"number"}
    return {"type": kinds.pop()} if len(kinds) == 1 else {}


def _bounds(t: ast.NamedType) -> dict[str, Any]:
    """`int`/`float` `min`/`max` as minimum/maximum; `str` ones as minLength/maxLength
    (JSON Schema counts code points, as both targets' fit does). Only literal bounds: an
    `int max rounds` names an input's size and says nothing about the answer."""
    keys = {"str": ("minLength", "maxLength"), "int": ("minimum", "maximum"),
            "float": ("minimum", "maximum")}.get(t.name)
    out: dict[str, Any] = {}
    if keys is None:
        return out
    for key, clause in zip(keys, (t.min, t.max), strict=True):
        if isinstance(clause, (ast.IntLit, ast.FloatLit)):
            out[key] = clause.value
    return out


def field_schema(f: ast.FieldDecl, records: dict[str, ast.TypeDecl],
                 sizes: dict[str, int] | None = None) -> dict[str, Any]:
    """A field's schema, with its description (the text the model reads). An omittable
    field (`name?: T`) is left out of `required` by the caller; its type is `T?`, so the
    model may also send null, and both read as `none`."""
    out = type_schema(f.type, records, sizes)
    if f.doc is not None:
        out = {**out, "description": f.doc}
    return out


def list_max(t: ast.ListType | ast.MapType, sizes: dict[str, int] | None = None) -> int | None:
    if isinstance(t.max, ast.IntLit):
        return t.max.value
    if isinstance(t.max, ast.Name) and sizes and t.max.id in sizes:
        return sizes[t.max.id]
    return None


def wrap_key(t: ast.TypeExpr | None, records: dict[str, ast.TypeDecl]) -> str | None:
    """None when the result is a record (sent and received as is) or plain text."""
    if t is None:
        return None
    if isinstance(t, ast.NamedType) and t.name in records:
        return None
    if isinstance(t, ast.ListType):
        return "items"
    return "value"


def result_schema(t: ast.TypeExpr | None, records: dict[str, ast.TypeDecl],
                  sizes: dict[str, int] | None = None) -> dict[str, Any] | None:
    """The schema an agent with result type `t` is given (object root), or None for text."""
    if t is None:
        return None
    inner = type_schema(t, records, sizes)
    key = wrap_key(t, records)
    if key is None:
        return inner
    return {"type": "object", "required": [key], "properties": {key: inner}, "additionalProperties": False}


def records_of(program: ast.Program) -> dict[str, ast.TypeDecl]:
    return {d.name: d for d in program.types}
