"""The `def` functions of a program as JavaScript functions (docs/language.md §13b).

Each becomes a plain (synchronous) `function` with the same parameters, written before
the code that calls it. A local name is declared `const` where it is assigned once at the
top of the body, `let` where it is assigned again, and `let x = null` before the `if`
that first assigns it, as the Python runtime starts every local at None
(wflang/runtime/functions.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wflang.dsl import ast

if TYPE_CHECKING:
    from wflang.transpiler.emit import _Ctx, _Emitter


def declare_functions(em: _Emitter, program: ast.Program) -> None:
    """Give each function of `program` its JS name (before any call is written)."""
    for fn in program.functions:
        em.fn_js[(id(program), fn.name)] = em.namer.fresh(fn.name)


def function_lines(em: _Emitter, program: ast.Program, ctx: _Ctx) -> list[str]:
    """The JS of every function of `program`, under one comment."""
    if not program.functions:
        return []
    declare_functions(em, program)
    lines = ["// ---- functions: pure, they start no agents ----"]
    for fn in program.functions:
        lines += _function(em, fn, program, ctx)
    return lines


def _function(em: _Emitter, fn: ast.FunctionDef, program: ast.Program, ctx: _Ctx) -> list[str]:
    from dataclasses import replace

    from wflang.transpiler.emit import _indent, _Scope, _strip_parens

    names = {p.name: em.namer.js(p.name) for p in fn.params}
    for n in ast.walk(fn.body):
        if isinstance(n, ast.Assign):
            for t in n.targets:
                names.setdefault(t, em.namer.js(t))
    inner = replace(ctx, scope=_Scope(names), program=program, phase=None, indices=(), copy=None, answer=None,
                    top_level=False, stop=None, item=None)
    counts: dict[str, int] = {}
    for n in ast.walk(fn.body):
        if isinstance(n, ast.Assign):
            for t in n.targets:
                counts[t] = counts.get(t, 0) + 1
    declared = {p.name for p in fn.params}

    def block(stmts: list[ast.Stmt], top: bool) -> list[str]:
        out: list[str] = []
        for s in stmts:
            if isinstance(s, ast.Assign):
                name = s.targets[0]
                value = em.expr(s.value, inner, top=True)
                if top and name not in declared:
                    declared.add(name)
                    out.append(f"{'const' if counts[name] == 1 else 'let'} {names[name]} = {value}")
                else:
                    out.append(f"{names[name]} = {value}")
            elif isinstance(s, ast.Return):
                out.append(f"return {em.expr(s.value, inner, top=True)}")
            elif isinstance(s, ast.If):
                if top:
                    for t in dict.fromkeys(x for n in ast.walk(s) if isinstance(n, ast.Assign) for x in n.targets):
                        if t not in declared:
                            declared.add(t)
                            out.append(f"let {names[t]} = null")
                out.append(f"if ({_strip_parens(em.cond(s.cond, inner))}) {{")
                out += _indent(block(s.then, False))
                orelse = s.orelse
                while len(orelse) == 1 and isinstance(orelse[0], ast.If):
                    out.append(f"}} else if ({_strip_parens(em.cond(orelse[0].cond, inner))}) {{")
                    out += _indent(block(orelse[0].then, False))
                    orelse = orelse[0].orelse
                if orelse:
                    out.append("} else {")
                    out += _indent(block(orelse, False))
                out.append("}")
            else:  # the checker refuses every other statement in a function
                from wflang.transpiler.emit import CompileError

                raise CompileError(f"a {type(s).__name__} cannot stand in a function", s)
        return out

    src = em.lines(program)
    head = src[fn.span.line - 1].strip() if 0 < fn.span.line <= len(src) else f"def {fn.name}"
    params = ", ".join(names[p.name] for p in fn.params)
    return ["", f"// line {fn.span.line}: {head.rstrip(':')}",
            f"function {em.fn_js[(id(program), fn.name)]}({params}) {{", *_indent(block(fn.body, True)), "}"]

