"""Calling a `def` of the program (docs/language.md §13b): its body, run synchronously.

A function's body holds only assignments, `if`/`elif`/`else` and `return` over pure
expressions (the checker refuses anything else, wflang/dsl/functions.py), so a call is
evaluated where it stands, like a builtin's. Its scope holds its parameters and its own
names, each set to None before the body runs (the compiled script declares them so too);
it sees nothing of the workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wflang.dsl import ast
from wflang.dsl import values as V

Value = Any


class _Returned(Exception):
    def __init__(self, value: Value) -> None:
        self.value = value


def local_names(body: list[ast.Stmt]) -> list[str]:
    """The names a body assigns (in `if` branches too), in order of first appearance."""
    out: dict[str, None] = {}
    for n in ast.walk(body):
        if isinstance(n, ast.Assign):
            out.update(dict.fromkeys(n.targets))
    return list(out)


def call_function(fn: ast.FunctionDef, args: list[Value], scope_of: Callable[[dict[str, Value]], Any],
                  ev: Callable[[ast.Expr, Any], Value]) -> Value:
    """`fn(args)`: `scope_of(vars)` makes the interpreter's scope, `ev(e, scope)` evaluates
    an expression in it (nested calls come back here through `ev`)."""
    names: dict[str, Value] = dict.fromkeys(local_names(fn.body))
    names.update({p.name: a for p, a in zip(fn.params, args, strict=True)})
    scope = scope_of(names)
    try:
        _block(fn.body, scope, ev)
    except _Returned as r:
        return r.value
    return None  # not reached: the checker proves every path returns


def _block(stmts: list[ast.Stmt], scope: Any, ev: Callable[[ast.Expr, Any], Value]) -> None:
    for s in stmts:
        if isinstance(s, ast.Assign):
            scope.vars[s.targets[0]] = ev(s.value, scope)
        elif isinstance(s, ast.If):
            _block(s.then if V.truthy(ev(s.cond, scope)) else s.orelse, scope, ev)
        elif isinstance(s, ast.Return):
            raise _Returned(ev(s.value, scope))
        else:  # the checker refuses every other statement in a function
            raise V.ValueError_(f"a {type(s).__name__} cannot run in a function")
