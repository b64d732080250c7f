"""Small pieces several builtins' Python meanings share."""

from __future__ import annotations

import math
from functools import cmp_to_key

from wflang.dsl.types import Opt, Type, is_any
from wflang.dsl.values import KeyFn, Orders, Value, ValueError_, compare_keys, is_number, text


def items(v: Value) -> list[Value]:
    """What a list builtin iterates: as `values.iterate`, and nothing for a non-container
    (the JS helpers are as lenient)."""
    if isinstance(v, list):
        return v
    if isinstance(v, (str, dict)):
        return list(v)
    return []


def count(v: Value, fn: str) -> int:
    """A count argument: None counts as 0, a fraction is truncated (JS slice does)."""
    if v is None:
        return 0
    if not (is_number(v) and math.isfinite(v)):
        raise ValueError_(f"{fn}() takes a number, not {text(v)}")
    return int(v)


def identity(v: Value) -> Value:
    return v


def sorted_by(xs: list[Value], key: KeyFn, orders: Orders, compound: bool, reverse: bool) -> list[Value]:
    keyed = [(key(x), x) for x in xs]
    cmp = cmp_to_key(lambda p, q: compare_keys(p[0], q[0], orders, compound))
    # Python's sort stays stable with reverse=True: equal keys keep their order.
    return [x for _, x in sorted(keyed, key=cmp, reverse=reverse)]


def extreme(args: list[Value], by: KeyFn | None, orders: Orders, compound: bool, sign: int) -> Value:
    xs = args if len(args) >= 2 else items(args[0] if args else None)
    key = by or identity
    best = None
    best_key = None
    for i, x in enumerate(xs):
        k = key(x)
        # The first of equal extremes wins, for min and for max alike.
        if i == 0 or sign * compare_keys(k, best_key, orders, compound) > 0:
            best, best_key = x, k
    return best


def optional(t: Type) -> Type:
    return t if isinstance(t, Opt) or is_any(t) else Opt(t)
