"""Arguments against declared inputs: types, maxima, required, defaults.

The same rules run in `wf check --args`, in `wf run` before any agent starts, and (as JS)
in the compiled script's preamble: docs/semantics.md "Arguments".
"""

from __future__ import annotations

import json
from typing import Any

from wflang.dsl import ast
from wflang.dsl.diagnostics import Diagnostic, did_you_mean


def normalize(raw: Any, program: ast.Program) -> Any:
    """What the JS preamble accepts: an object, a JSON string of one, or (for a workflow
    with exactly one input) the bare value; None means no arguments."""
    if isinstance(raw, str):
        stripped = raw.strip()
        if stripped.startswith(("{", "[")):
            try:
                raw = json.loads(stripped)
            except ValueError:
                pass
    if raw is None:
        return {}
    if not isinstance(raw, dict) and len(program.inputs) == 1:
        return {program.inputs[0].name: raw}
    return raw


def validate_args(program: ast.Program, raw: Any) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The input values for a run, defaults applied, or diagnostics saying what is wrong."""
    args = normalize(raw, program)
    diags: list[Diagnostic] = []
    if not isinstance(args, dict):
        shape = ", ".join(i.name for i in program.inputs) or "no inputs"
        return {}, [Diagnostic("WF401", f"arguments must be an object, not {_kind(args)}", None,
                               f"pass {{{shape}}} as a JSON object")]
    records = {d.name: d for d in program.types}
    declared = {d.name: d for d in program.inputs}
    values: dict[str, Any] = {}
    for name in args:
        if name not in declared:
            known = ", ".join(declared) or "none"
            guess = did_you_mean(str(name), list(declared))
            diags.append(Diagnostic("WF402", f"unknown argument `{name}`", None,
                                    (f"did you mean `{guess}`? " if guess else "")
                                    + f"this workflow's inputs are: {known}"))
    for d in program.inputs:
        if d.name not in args or args[d.name] is None and not isinstance(d.type, ast.OptionalType):
            if d.default is not None:
                values[d.name] = literal_value(d.default)
                continue
            if d.name not in args:
                diags.append(Diagnostic("WF403", f"missing argument `{d.name}`", None,
                                        f"`{d.name}` has no default (input on line {d.span.line}); pass it"))
                continue
        problem = type_problem(args[d.name], d.type, records, f"args.{d.name}")
        if problem is not None:
            diags.append(Diagnostic("WF404", problem, None, f"input `{d.name}` is declared on line "
                                    f"{d.span.line}: {_type_src(d.type)}"))
            continue
        values[d.name] = args[d.name]
    return values, diags


def sizes(program: ast.Program, values: dict[str, Any]) -> dict[str, int]:
    """The sizes the bound is evaluated at: list lengths and int values of the inputs."""
    out: dict[str, int] = {}
    for d in program.inputs:
        v = values.get(d.name)
        if isinstance(d.type, ast.ListType) and isinstance(v, list):
            out[d.name] = len(v)
        elif isinstance(d.type, ast.NamedType) and d.type.max is not None and isinstance(v, int):
            out[d.name] = max(v, 0)
    return out


def type_problem(v: Any, t: ast.TypeExpr, records: dict[str, ast.TypeDecl], path: str) -> str | None:
    """None when `v` fits `t`, else a sentence that says where and why not."""
    if isinstance(t, ast.OptionalType):
        return None if v is None else type_problem(v, t.inner, records, path)
    if v is None:
        return f"{path}: required, got null"
    if isinstance(t, ast.UnionType):
        if isinstance(v, str) and v in t.options:
            return None
        # JSON quoting, as the user writes the arguments: "fast", not 'fast'
        return f"{path}: expected one of {', '.join(json.dumps(o, ensure_ascii=False) for o in t.options)}, got {_show(v)}"
    if isinstance(t, ast.ListType):
        if not isinstance(v, list):
            return f"{path}: expected a list, got {_kind(v)}"
        if isinstance(t.max, ast.IntLit) and len(v) > t.max.value:
            return f"{path}: {len(v)} items, the workflow declares max {t.max.value}"
        for i, item in enumerate(v):
            p = type_problem(item, t.item, records, f"{path}[{i}]")
            if p is not None:
                return p
        return None
    if isinstance(t, ast.NamedType):
        if t.name == "str":
            return None if isinstance(v, str) else f"{path}: expected a string, got {_kind(v)}"
        if t.name == "bool":
            return None if isinstance(v, bool) else f"{path}: expected true or false, got {_kind(v)}"
        if t.name in ("int", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return f"{path}: expected a number, got {_kind(v)}"
            if t.name == "int" and not (isinstance(v, int) or float(v).is_integer()):
                return f"{path}: expected a whole number, got {v}"
            if t.name == "int" and isinstance(t.max, ast.IntLit) and v > t.max.value:
                return f"{path}: {v} is more than the declared max {t.max.value}"
            return None
        decl = records.get(t.name)
        if decl is None:
            return None
        if not isinstance(v, dict):
            return f"{path}: expected a {t.name} record, got {_kind(v)}"
        for f in decl.fields:
            if f.name not in v and not isinstance(f.type, ast.OptionalType):
                return f"{path}: missing field `{f.name}` of {t.name}"
            p = type_problem(v.get(f.name), f.type, records, f"{path}.{f.name}")
            if p is not None:
                return p
        return None
    return None


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
    text = json.dumps(v, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_src(t: ast.TypeExpr) -> str:
    if isinstance(t, ast.OptionalType):
        return _type_src(t.inner) + "?"
    if isinstance(t, ast.UnionType):
        return " | ".join(f'"{o}"' for o in t.options)
    if isinstance(t, ast.ListType):
        m = f" max {t.max.value}" if isinstance(t.max, ast.IntLit) else ""
        return f"list[{_type_src(t.item)}]{m}"
    if isinstance(t, ast.NamedType):
        m = f" max {t.max.value}" if isinstance(t.max, ast.IntLit) else ""
        return t.name + m
    return "?"
