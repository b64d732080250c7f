"""The shared `__repr__` (wflang/dsl/reprs.py) gives, for every class that uses it, the text
the `@dataclass`-generated one gave: the tree, the checker's types, the size formulas,
spans, the backend's requests and results."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wflang.dsl import ast, sizes, span, types
from wflang.dsl.builtins import regex_dialect
from wflang.dsl.loader import load
from wflang.dsl.reprs import field_repr
from wflang.runtime import backend

ROOT = Path(__file__).resolve().parents[2]
MODULES = (ast, types, sizes, span, backend, regex_dialect)
# What the examples do not write: literal and type unions, maps, a float input, `def`, `fail`,
# branches whose agent counts join in a max.
MORE = '''workflow reprs:
    description: "constructs the examples do not use"

type Pick:
    level: 1 | 2 | 3
    value: int | str
    tags: map[str, int] max 4

input xs: list[int] max 5
input ratio: float = 0.5

def double(n: int) -> int:
    return n * 2

if len(xs) == 0:
    fail "no items"

if ratio > 0.7:
    a = agent "one {double(1)}" -> Pick
else:
    b = fanout x in xs:
        agent "item {x}" -> Pick
return ratio
'''


def _generated(cls: type) -> Callable[[Any], str]:
    """The `__repr__` @dataclass writes for `cls` (a subclass adds no field; `self.__class__`
    names the class in both)."""
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    probe = type(cls.__name__, (cls,), {"__qualname__": cls.__qualname__, "__module__": cls.__module__})
    return dataclasses.dataclass(eq=False, frozen=params.frozen, repr=True)(probe).__repr__  # type: ignore[no-any-return]


def _objects(root: Any) -> Iterator[Any]:
    """Every object reachable from `root` through fields, lists, tuples and dicts."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            yield x
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x))


def _samples() -> dict[type, list[Any]]:
    found: dict[type, list[Any]] = {}
    paths = sorted([*(ROOT / "examples").rglob("*.wf"), *(ROOT / "tests" / "dsl" / "valid").glob("*.wf")])
    for loaded in [load(str(p)) for p in paths] + [load("more.wf", MORE)]:
        if loaded.result is None:
            continue
        bound = loaded.result.bound
        roots = [loaded.result.program, loaded.result.result, bound and vars(bound)]
        for x in _objects(roots):
            if type(x).__repr__ is field_repr:
                found.setdefault(type(x), [])
                if len(found[type(x)]) < 4:
                    found[type(x)].append(x)
    made = [types.Ranged("int", 0, 5), types.Alt((types.INT, types.STR)), types.KeyFn(types.BOOL),
            types.MapT(types.INT, sizes.Const(3)), types.Union(("a", "b")),
            sizes.CeilDiv(sizes.Var("n"), 2), sizes.Monus(sizes.Var("n"), 1), sizes.Step(sizes.Var("k"), 2),
            sizes.add(sizes.Var("a"), sizes.Var("b")), sizes.mul(sizes.Var("a"), sizes.Var("b")),
            backend.AgentRequest("hi", {"type": "object"}, "l", permissions=frozenset({"edit"}), order=(1, 2)),
            backend.AgentResult({"x": 1}, backend.Usage(1, 2, 3, 4), "m"), regex_dialect.translate("a+b", True)]
    for x in _objects(made):
        found.setdefault(type(x), []).append(x)
    return found


SAMPLES = _samples()


def test_every_dataclass_of_these_modules_uses_the_shared_repr() -> None:
    classes = {c for m in MODULES for c in vars(m).values()
               if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == m.__name__}
    assert classes and all(c.__repr__ is field_repr for c in classes), \
        sorted(c.__name__ for c in classes if c.__repr__ is not field_repr)
    # and the samples reach most of them (the rest are bases never instantiated alone)
    missing = {c.__name__ for c in classes} - {c.__name__ for c in SAMPLES}
    assert missing <= {"Node", "TypeExpr", "Expr", "Stmt", "_Nary"}, missing


@pytest.mark.parametrize("cls", sorted(SAMPLES, key=lambda c: (c.__module__, c.__qualname__)),
                         ids=lambda c: f"{c.__module__.rsplit('.', 1)[-1]}.{c.__qualname__}")
def test_the_shared_repr_is_the_generated_one(cls: type) -> None:
    generated = _generated(next(c for c in cls.__mro__ if "__dataclass_fields__" in vars(c)))
    for x in SAMPLES[cls]:
        assert repr(x) == generated(x)


def test_a_node_that_contains_itself_shows_dots_as_before() -> None:
    items: list[ast.Expr] = []
    node = ast.ListLit(items)
    items.append(node)
    # a generated repr, for the same shape: the node inside itself is `...`
    shape = dataclasses.make_dataclass("ListLit", [("span", Any), ("items", list)], eq=False)
    same = shape(ast.NOWHERE, [])
    same.items.append(same)
    assert repr(node) == repr(same) == f"ListLit(span={ast.NOWHERE!r}, items=[...])"
