"""What a builtin is: one declaration that the checker, the Python runtime and the JS
emitter all read (docs/language.md §13, /work/notes/builtins.md: how to add one).

A builtin is a subclass of `Builtin` registered with `@builtin`. It says, in one place:

- `name`, `arity` (min, max positional arguments), `keywords` (the `k=v` it takes) and
  `usage` (the hint of a misuse diagnostic);
- `check(c, e, args, scope)`: its type rule and its size rule (a list result carries its
  symbolic maximum), reporting misuse through `c.error`;
- `py(*args, **kw)`: its Python meaning (the runtime calls it; docs/semantics.md);
- `js`: the name of its helper in wflang/transpiler/prelude.js (the emitter calls it with
  the positional arguments, then the keywords in `keywords` order, unless the emitter has
  a `call_NAME` method of its own).

The checker's side is the `Checking` protocol below, so this package never imports the
checker, the runtime or the transpiler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from wflang.dsl import ast
from wflang.dsl.sizes import Sym
from wflang.dsl.span import Span
from wflang.dsl.types import ListT, Type


class Checking(Protocol):
    """What a type rule may ask of the checker."""

    def error(self, code: str, msg: str, span: Span | None, hint: str | None = None,
              notes: list[str] | None = None) -> None: ...

    def expr(self, e: ast.Expr, scope: Any) -> Type: ...

    # `scope`: a count read during the run (take, top, range), which an int whose type
    # declares its range may give (a field `n: int min 0 max 5`)
    def size_of(self, e: ast.Expr, what: str, scope: Any = None, known: Type | None = None) -> Sym: ...

    def declared_size(self, e: ast.Expr, what: str, scope: Any, known: Type | None = None) -> Sym | None:
        """The max of a count whose type declares its range; `known`: its type, when the
        caller has it (a builtin's checked argument), so it is not checked again."""
        ...

    def static_size(self, e: ast.Expr, what: str) -> Sym | None:
        """`size_of(e)` when `e` is a size known before the run, else None (no diagnostic)."""
        ...

    def need_list(self, e: ast.Call, i: int, args: list[Type]) -> ListT | None: ...

    def key_orders(self, e: ast.Call, lt: ListT | None, by: ast.Keyword | None, scope: Any) -> list[Type]: ...

    def lower_bound(self, e: ast.Expr, scope: Any) -> int | None: ...

    def checked_type(self, e: ast.Expr, scope: Any) -> Type:
        """The type a builtin's argument got when its call was checked (not checked again)."""
        ...

    def source(self, node: ast.Node) -> str: ...

    def constant(self, name: str) -> ast.Expr | None:
        """The expression a top-level constant was set to, or None if `name` is not one."""


class Builtin:
    name: ClassVar[str]
    arity: ClassVar[tuple[int, int]] = (1, 1)
    keywords: ClassVar[tuple[str, ...]] = ()
    usage: ClassVar[str]
    js: ClassVar[str]
    # `by=` may carry the checker's `key_orders` (string-union ranks) into `py`.
    keyed: ClassVar[bool] = False
    # The result may be cut to a declared maximum: `run` returns the uncut count, the
    # runtime logs `NAME (line L): kept K of N items`, and the JS helper takes that
    # `NAME (line L)` label first, then the keywords in declared order (null when absent),
    # then the positional arguments (prelude.js `cutLog`).
    logs_cut: ClassVar[bool] = False
    # The positional argument that is a regular expression of the dialect (regex_dialect.py),
    # which the emitter writes as a JS regex literal, with flag `g` when global_flag.
    pattern_at: ClassVar[int | None] = None
    global_flag: ClassVar[bool] = False
    # Keywords whose value is fixed before the run and compiled into the emitted code (the
    # pattern's `ignore_case`): the runtime passes them to `py`, the JS helper never sees them.
    static_keywords: ClassVar[tuple[str, ...]] = ()

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        raise NotImplementedError

    def lower(self, c: Checking, e: ast.Call, scope: Any) -> int | None:
        """A number the call's int value never goes below, known before the run (the
        lower-bound rule of docs/language.md §13), or None."""
        return None

    py: ClassVar[Callable[..., Any]]

    def run(self, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, int | None]:
        """The value of a call, and for a cut the number of items before it (else None)."""
        return type(self).py(*args, **kwargs), None

    @staticmethod
    def keyword(e: ast.Call, name: str) -> ast.Keyword | None:
        return next((k for k in e.kwargs if k.name == name), None)


REGISTRY: dict[str, Builtin] = {}


def builtin(cls: type[Builtin]) -> type[Builtin]:
    """Register one builtin under its name (a second one of the same name is a bug)."""
    assert cls.name not in REGISTRY, cls.name
    REGISTRY[cls.name] = cls()
    return cls
