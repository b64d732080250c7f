"""Arguments against declared inputs: types, ranges, closed records, required, defaults.

The same rules run in `wf check --args`, in `wf run` before any agent starts, and (as JS)
in the compiled script's preamble: docs/semantics.md "Arguments". Records are closed: an
argument with a field its record type does not declare is refused (a `run` child's
arguments, which the caller's checked program built, have such fields dropped instead),
and every record value is rebuilt with exactly its declared fields, in declared order.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from wflang.dsl import ast, jsonread
from wflang.dsl import values as V
from wflang.dsl.diagnostics import Diagnostic, did_you_mean
from wflang.dsl.values import js_number, json_string, num

# The lower bound of an `int` input that declares no `min` (docs/language.md §3): ints
# size loops, so a negative one must be asked for.
INT_INPUT_MIN = 0
# How every target introduces argument problems (`wf run`, and the compiled script's throw).
ARGS_PROBLEM = "the arguments do not fit the workflow's inputs: "


# What a blank string is (an empty argument, `/NAME` without text): the whitespace the
# `strip` builtin removes, the same set in both targets.
_SPACE = " \t\n\r\f\v"
# A number written as text ("5", "-2.5", "1e3"): read as the number for an int or float
# input. ASCII digits only; the same pattern in the JS helper `fromText`.
_NUMBER_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def raw_input(program: ast.Program) -> ast.InputDecl | None:
    """The input declared `raw`, which a string argument (`/NAME some text`) fills."""
    return next((i for i in program.inputs if i.raw), None)


def normalize(raw: Any, program: ast.Program) -> Any:
    """What the JS preamble accepts: an object, a JSON string of one, or (for a workflow
    with exactly one input) the bare value; None means no arguments. With a `raw` input a
    string is that input's text (stripped), unless it is the JSON of an object."""
    target = raw_input(program)
    if isinstance(raw, str) and target is not None:
        text = raw.strip(_SPACE)
        parsed = _json_object(text)
        return parsed if parsed is not None else {target.name: text}
    if isinstance(raw, str):
        stripped = raw.strip()
        if stripped.startswith(("{", "[")):
            try:
                raw = jsonread.loads_capped(stripped, _TOO_DEEP)
            except ValueError:
                pass
    if raw is None:
        return {}
    if not isinstance(raw, dict) and len(program.inputs) == 1:
        return {program.inputs[0].name: raw}
    return raw


# What arguments' JSON text nested deeper than jsonread.DEPTH_LIMIT reads as. The compiled
# script's JSON.parse reads any depth; declared types nest far less than 200 levels, so
# validation stops at the same place, with the same message, on what is above the cut.
_TOO_DEEP = "\u0000wflang: nested too deeply"


def _json_object(text: str) -> dict[str, Any] | None:
    """The object `text` is the JSON of (as JS JSON.parse reads it: no NaN), else None."""
    if not text.startswith("{"):
        return None
    try:
        value = jsonread.loads_capped(text, _TOO_DEEP, parse_constant=_no_constant)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def is_blank(v: Any) -> bool:
    """An empty argument: a string of nothing but spaces, tabs and line breaks. It counts
    as `null` (docs/semantics.md "Arguments")."""
    return isinstance(v, str) and v.strip(_SPACE) == ""


def from_text(v: Any, t: ast.TypeExpr, records: dict[str, ast.TypeDecl]) -> Any:
    """`v` with every string where `t` wants a number or a bool read as one, when it is
    written as one ("5" for an int, "true" for a bool), at any depth; anything else as is,
    for `type_problem` to judge. The JS helper `fromText` reads the same strings."""
    if isinstance(t, ast.OptionalType):
        return from_text(v, t.inner, records)
    if isinstance(t, ast.ListType):
        if not isinstance(v, list):
            return v
        item = t.item
        if isinstance(item, (ast.UnionType, ast.LiteralType, ast.AnyOfType)):
            return list(v)  # read as they are (see the last lines below)
        if isinstance(item, ast.NamedType) and item.name not in records:
            # a scalar type reads only strings: one test per item, not the whole walk
            return [from_text(x, item, records) if isinstance(x, str) else x for x in v]
        return [from_text(x, item, records) for x in v]
    if isinstance(t, ast.MapType):
        return {k: from_text(x, t.value, records) for k, x in v.items()} if isinstance(v, dict) else v
    if not isinstance(t, ast.NamedType):
        return v
    if isinstance(v, str) and t.name in ("int", "float"):
        text = v.strip(_SPACE)
        if _NUMBER_TEXT.fullmatch(text):
            n = float(text)
            if math.isfinite(n):
                return num(n)
        return v
    if isinstance(v, str) and t.name == "bool":
        return {"true": True, "false": False}.get(v.strip(_SPACE), v)
    decl = records.get(t.name)
    if decl is not None and isinstance(v, dict):
        types = {f.name: f.type for f in decl.fields}
        return {k: from_text(x, types[k], records) if k in types else x for k, x in v.items()}
    return v


def validate_args(program: ast.Program, raw: Any, *, child: bool = False) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The input values for a run, defaults applied, or diagnostics saying what is wrong.
    `child`: the arguments of `run "x.wf"`, whose records may carry fields the child does
    not declare (they are dropped, not refused)."""
    args = _as_json(normalize(raw, program), key_order=not child)
    diags: list[Diagnostic] = []
    if not isinstance(args, dict):
        shape = ", ".join(i.name for i in program.inputs) or "no inputs"
        text = (f", or mark one `str` input `raw` to take the text of `/{program.header.name} some text`"
                if isinstance(args, str) else "")
        return {}, [Diagnostic("WF401", f"arguments must be an object, not {_kind(args)}", None,
                               f"pass {{{shape}}} as a JSON object{text}")]
    records = {d.name: d for d in program.types}
    declared = {d.name: d for d in program.inputs}
    values: dict[str, Any] = {}
    for name in sorted(args):  # by code point, as the JS helper sorts them: the same order
        if name not in declared:
            known = ", ".join(declared) or "none"
            guess = did_you_mean(str(name), list(declared))
            diags.append(Diagnostic("WF402", f"unknown argument `{name}`", None,
                                    (f"did you mean `{guess}`? " if guess else "")
                                    + f"this workflow's inputs are: {known}"))
    for d in program.inputs:
        given = args.get(d.name)
        blank = is_blank(given)  # an empty argument counts as null
        if blank:
            given = None
        if d.name not in args or given is None and not isinstance(d.type, ast.OptionalType):
            if d.default is not None:
                values[d.name] = fit_value(literal_value(d.default), d.type, records)
                continue
            if d.name not in args:
                diags.append(Diagnostic("WF403", f"missing argument `{d.name}`", None,
                                        f"`{d.name}` has no default (input on line {d.span.line}); pass it"
                                        + _raw_hint(d, program)))
                continue
            if blank:
                diags.append(Diagnostic("WF403", f"args.{d.name}: required, got an empty string", None,
                                        f"`{d.name}` has no default (input on line {d.span.line}); pass it"
                                        + _raw_hint(d, program)))
                continue
        given = from_text(given, d.type, records)
        problem = type_problem(given, d.type, records, f"args.{d.name}", closed=not child,
                               default_min=INT_INPUT_MIN)
        if problem is not None:
            diags.append(Diagnostic("WF404", problem, None, f"input `{d.name}` is declared on line "
                                    f"{d.span.line}: {_type_src(d.type, INT_INPUT_MIN)}"))
            continue
        values[d.name] = fit_value(given, d.type, records)
    return values, diags


def _as_json(args: Any, key_order: bool) -> Any:
    """The arguments with numbers as JSON means them (`V.normalize`: 2.0 is 2, as in JS)
    and, unless `key_order` is off (a child's arguments are values already), with objects
    in the key order JSON.parse gives them in the compiled script (`V.js_key_order`). An
    argument that is a list of strings, booleans, nulls and safe ints (the usual long one)
    is copied, not walked: both would give back each of its items unchanged."""
    plain = {k: list(x) for k, x in args.items() if _plain_list(x)} if isinstance(args, dict) else {}
    if not plain:
        args = V.normalize(args)
        return V.js_key_order(args) if key_order else args
    rest = {k: None if k in plain else V.normalize(x) for k, x in args.items()}
    if key_order:  # reorders the top level's keys, and walks only the other arguments
        rest = V.js_key_order(rest)
    return {k: plain[k] if k in plain else x for k, x in rest.items()}


def _plain_list(v: Any) -> bool:
    return type(v) is list and all(type(x) is str or type(x) is bool or x is None
                                   or type(x) is int and -V.MAX_SAFE_INTEGER <= x <= V.MAX_SAFE_INTEGER
                                   for x in v)


def _raw_hint(d: ast.InputDecl, program: ast.Program) -> str:
    return f" (it is the text of `/{program.header.name} some text`)" if d.raw else ""


def fit_value(v: Any, t: ast.TypeExpr, records: dict[str, ast.TypeDecl]) -> Any:
    """A value that `type_problem` accepted, with every record rebuilt as exactly its
    declared fields in declared order (a missing optional field is None); so `keys(r)` is
    the declared fields, whatever the JSON held."""
    if v is None:
        return None
    if isinstance(t, ast.OptionalType):
        return fit_value(v, t.inner, records)
    if isinstance(t, ast.AnyOfType):  # the first option it fits (closed records first), as JS picks
        for closed in (True, False):
            for option in t.options:
                if type_problem(v, option, records, "", closed=closed) is None:
                    return fit_value(v, option, records)
        return v
    if isinstance(t, ast.ListType) and isinstance(v, list):
        item = t.item
        if isinstance(item, (ast.UnionType, ast.LiteralType)) or (isinstance(item, ast.NamedType)
                                                                   and item.name not in records):
            return list(v)  # no record inside: every item stays as it is (the last line below)
        return [fit_value(x, item, records) for x in v]
    if isinstance(t, ast.MapType) and isinstance(v, dict):
        # a map iterates in key order (code point), in both targets: rebuilt sorted
        return {k: fit_value(v[k], t.value, records) for k in sorted(v)}
    if isinstance(t, ast.NamedType) and isinstance(v, dict):
        decl = records.get(t.name)
        if decl is not None:
            return {f.name: fit_value(v.get(f.name), f.type, records) for f in decl.fields}
    return v


def sizes(program: ast.Program, values: dict[str, Any]) -> dict[str, int]:
    """The sizes the bound is evaluated at: list lengths and int values of the inputs."""
    out: dict[str, int] = {}
    for d in program.inputs:
        v = values.get(d.name)
        if isinstance(d.type, ast.ListType) and isinstance(v, list):
            out[d.name] = len(v)
        elif isinstance(d.type, ast.MapType) and isinstance(v, dict):
            out[d.name] = len(v)
        elif isinstance(d.type, ast.NamedType) and d.type.max is not None and isinstance(v, int):
            # The value itself: one that can be negative (`min -5`) never sizes anything
            # (the checker refuses it as a size), so nothing needs clamping here.
            out[d.name] = v
    return out


def int_range(t: ast.NamedType, default_min: int | None) -> tuple[float | None, float | None]:
    """The declared [min, max] of an int or float type; `default_min` when it declares no min."""
    lo = t.min.value if isinstance(t.min, (ast.IntLit, ast.FloatLit)) else default_min
    hi = t.max.value if isinstance(t.max, (ast.IntLit, ast.FloatLit)) else None
    return lo, hi


def type_problem(v: Any, t: ast.TypeExpr, records: dict[str, ast.TypeDecl], path: str, *,
                 closed: bool = True, default_min: int | None = None) -> str | None:
    """None when `v` fits `t`, else a sentence that says where and why not. `closed`: a
    record with an undeclared field does not fit. `default_min` applies to `t` itself (an
    int input), not to the ints inside its lists and records."""
    if isinstance(t, ast.OptionalType):
        return None if v is None else type_problem(v, t.inner, records, path, closed=closed,
                                                   default_min=default_min)
    if isinstance(t, ast.NamedType) and t.name == "json":
        return None  # any JSON value, null included
    if v is None:
        return f"{path}: required, got null"
    if isinstance(t, ast.UnionType):
        if isinstance(v, str) and v in t.options:
            return None
        # JSON quoting, as the user writes the arguments: "fast", not 'fast'
        return f"{path}: expected one of {', '.join(json.dumps(o, ensure_ascii=False) for o in t.options)}, got {_show(v)}"
    if isinstance(t, ast.LiteralType):
        if any(_json_equal(v, o) for o in t.options):
            return None
        return f"{path}: expected one of {', '.join(_literal_text(o) for o in t.options)}, got {_show(v)}"
    if isinstance(t, ast.AnyOfType):
        if any(type_problem(v, o, records, path, closed=closed) is None for o in t.options):
            return None
        return f"{path}: expected {_type_src(t)}, got {_show(v)}"
    if isinstance(t, ast.ListType):
        if not isinstance(v, list):
            return f"{path}: expected a list, got {_kind(v)}"
        if isinstance(t.max, ast.IntLit) and len(v) > t.max.value:
            return f"{path}: {len(v)} items, the workflow declares max {t.max.value}"
        if isinstance(t.min, ast.IntLit) and len(v) < t.min.value:
            return f"{path}: {len(v)} items, the workflow declares min {t.min.value}"
        fits = _plain_fit(t.item, records)
        if fits is not None and all(map(fits, v)):
            return None  # every item passes the test that stands for the walk below
        for i, item in enumerate(v):
            p = type_problem(item, t.item, records, f"{path}[{i}]", closed=closed)
            if p is not None:
                return p
        return None
    if isinstance(t, ast.MapType):
        if not isinstance(v, dict):
            return f"{path}: expected an object (a map), got {_kind(v)}"
        if isinstance(t.max, ast.IntLit) and len(v) > t.max.value:
            return f"{path}: {len(v)} keys, the workflow declares max {t.max.value}"
        if isinstance(t.min, ast.IntLit) and len(v) < t.min.value:
            return f"{path}: {len(v)} keys, the workflow declares min {t.min.value}"
        fits = _plain_fit(t.value, records)
        if fits is not None and all(map(fits, v.values())):
            return None  # as for a list
        for k in sorted(v):  # by code point, as the JS helper: the same first problem
            p = type_problem(v[k], t.value, records, f"{path}[{json_string(k)}]", closed=closed)
            if p is not None:
                return p
        return None
    if isinstance(t, ast.NamedType):
        if t.name == "str":
            if not isinstance(v, str):
                return f"{path}: expected a string, got {_kind(v)}"
            # code points, as the JS helper counts them ([...v].length)
            if isinstance(t.max, ast.IntLit) and len(v) > t.max.value:
                return f"{path}: {len(v)} characters, the workflow declares max {t.max.value}"
            if isinstance(t.min, ast.IntLit) and len(v) < t.min.value:
                return f"{path}: {len(v)} characters, the workflow declares min {t.min.value}"
            return None
        if t.name == "bool":
            return None if isinstance(v, bool) else f"{path}: expected true or false, got {_kind(v)}"
        if t.name in ("int", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return f"{path}: expected a number, got {_kind(v)}"
            if t.name == "int" and not (isinstance(v, int) or float(v).is_integer()):
                return f"{path}: expected a whole number, got {js_number(v)}"
            if t.name == "int" or t.min is not None or t.max is not None:
                lo, hi = int_range(t, default_min if t.name == "int" else None)
                if hi is not None and v > hi:
                    return f"{path}: {js_number(v)} is more than the declared max {js_number(hi)}"
                if lo is not None and v < lo:
                    if t.min is None:
                        return (f"{path}: {js_number(v)} is less than {lo}, the least an int input "
                                "allows unless it declares `min`")
                    return f"{path}: {js_number(v)} is less than the declared min {js_number(lo)}"
            return None
        decl = records.get(t.name)
        if decl is None:
            return None
        if not isinstance(v, dict):
            return f"{path}: expected a {t.name} record, got {_kind(v)}"
        if closed:
            declared = {f.name for f in decl.fields}
            extra = sorted(k for k in v if k not in declared)
            if extra:
                return f"{path}: {_unknown_fields(extra)}; a {t.name} record has only: " + \
                    (", ".join(f.name for f in decl.fields) or "no fields")
        for f in decl.fields:
            if f.name not in v and not isinstance(f.type, ast.OptionalType):
                return f"{path}: missing field `{f.name}` of {t.name}"
            p = type_problem(v.get(f.name), f.type, records, f"{path}.{f.name}", closed=closed)
            if p is not None:
                return p
        return None
    return None


def _plain_fit(t: ast.TypeExpr, records: dict[str, ast.TypeDecl]) -> Callable[[Any], bool] | None:
    """For the item type of a list, when it is a scalar (str, bool, int, float with their
    limits, a union of strings, json): a test built once per list that is true only of a
    value `type_problem` accepts, so a long list of fitting items is not walked item by item
    (each check, each path text `args.xs[i]`). None for other types. A false answer only
    sends the list down the walk, which words the message: the messages stay the same."""
    if isinstance(t, ast.UnionType):
        options = frozenset(t.options)
        return lambda v: type(v) is str and v in options
    if not isinstance(t, ast.NamedType) or t.name in records:
        return None
    if t.name == "json":
        return lambda v: True
    if t.name == "bool":
        return lambda v: type(v) is bool
    if t.name == "str":
        lo = t.min.value if isinstance(t.min, ast.IntLit) else 0
        hi = t.max.value if isinstance(t.max, ast.IntLit) else math.inf
        return lambda v: type(v) is str and lo <= len(v) <= hi
    if t.name in ("int", "float"):
        low, high = int_range(t, None)  # an item: no implied min (see the docstring above)
        lo = -math.inf if low is None else low
        hi = math.inf if high is None else high
        if t.name == "int":
            return lambda v: type(v) is int and lo <= v <= hi
        return lambda v: (type(v) is int or type(v) is float) and lo <= v <= hi
    return None


def type_text(t: ast.TypeExpr) -> str:
    """A type as written (`int | str`), for messages both targets print alike."""
    return _type_src(t)


def _literal_text(v: Any) -> str:
    """A literal as `JSON.stringify` writes it (`1`, not `1.0`)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return js_number(v)
    return json.dumps(v, ensure_ascii=False)


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality of literals, as JS `===` sees them: `1 == 1.0`, but `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b


def _unknown_fields(names: list[str]) -> str:
    """`unknown field `x``, or the first three of many (sorted by code point, as the JS
    helper sorts them, so both targets name the same ones)."""
    shown = ", ".join(f"`{n}`" for n in names[:3])
    if len(names) == 1:
        return f"unknown field {shown}"
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"unknown fields {shown}{more}"


def literal_value(e: ast.Expr) -> Any:
    """The value of a default: a literal (checked by the checker to be one)."""
    if isinstance(e, (ast.IntLit, ast.FloatLit, ast.BoolLit)):
        return e.value
    if isinstance(e, ast.NoneLit):
        return None
    if isinstance(e, ast.StrLit):
        return e.text
    if isinstance(e, (ast.ListLit, ast.TupleLit)):
        return [literal_value(x) for x in e.items]
    if isinstance(e, ast.DictLit):
        return {k: literal_value(v) for k, v in e.entries}
    raise ValueError("not a literal")


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    return "an object"


def _show(v: Any) -> str:
    """A value as the JS helper shows it: JSON.stringify, cut after 37 UTF-16 units."""
    # the argument as JSON.parse holds it: array-index keys first
    units = V.to_json(V.js_key_order(v), indent=None).encode("utf-16-le", "surrogatepass")
    if len(units) <= 80:
        return units.decode("utf-16-le", "surrogatepass")
    return units[:74].decode("utf-16-le", "surrogatepass") + "..."


def _type_src(t: ast.TypeExpr, default_min: int | None = None) -> str:
    if isinstance(t, ast.OptionalType):
        if isinstance(t.inner, (ast.AnyOfType, ast.LiteralType)):
            return _type_src(t.inner, default_min) + " | none"  # as written: `int | str | none`
        return _type_src(t.inner, default_min) + "?"
    if isinstance(t, ast.UnionType):
        return " | ".join(f'"{o}"' for o in t.options)
    if isinstance(t, ast.LiteralType):
        return " | ".join(_literal_text(o) for o in t.options)
    if isinstance(t, ast.AnyOfType):
        return " | ".join(_type_src(o) for o in t.options)
    if isinstance(t, ast.ListType):
        m = f" max {t.max.value}" if isinstance(t.max, ast.IntLit) else ""
        if isinstance(t.min, ast.IntLit):
            m = f" min {t.min.value}" + m
        return f"list[{_type_src(t.item)}]{m}"
    if isinstance(t, ast.MapType):
        m = f" max {t.max.value}" if isinstance(t.max, ast.IntLit) else ""
        if isinstance(t.min, ast.IntLit):
            m = f" min {t.min.value}" + m
        return f"map[str, {_type_src(t.value)}]{m}"
    if isinstance(t, ast.NamedType):
        m = f" max {js_number(t.max.value)}" if isinstance(t.max, (ast.IntLit, ast.FloatLit)) else ""
        lo = t.min.value if isinstance(t.min, (ast.IntLit, ast.FloatLit)) else (
            default_min if t.name == "int" else None)
        if lo is not None:
            m = f" min {js_number(lo)}" + m
        return t.name + m
    return "?"
