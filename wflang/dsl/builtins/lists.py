"""Builtins over lists (and records' keys): how each is typed, how it sizes its result,
and what it means in Python. Their JS helpers are in wflang/transpiler/prelude.js."""

from __future__ import annotations

from typing import Any

from wflang.dsl import ast
from wflang.dsl.builtins import maps
from wflang.dsl.builtins.base import Builtin, Checking, builtin
from wflang.dsl.builtins.support import count, extreme, identity, items, optional, sorted_by
from wflang.dsl.sizes import ZERO, Const, ceil_div, monus, mul, smin
from wflang.dsl.sizes import add as size_add
from wflang.dsl.types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    JSON,
    STR,
    ListT,
    MapT,
    Record,
    Type,
    is_any,
    is_numeric,
    join,
    strip_opt,
    widen,
)
from wflang.dsl.values import KeyFn, Orders, Value, ValueError_, canonical, is_number, num, truthy


def _is_int(t: Type) -> bool:
    """An int, or an optional int (None ranks below every number in max(...))."""
    return widen(strip_opt(t)) == INT


@builtin
class Len(Builtin):
    name = "len"
    usage = "len(xs)"
    js = "len"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        return INT

    def lower(self, c: Checking, e: ast.Call, scope: Any) -> int | None:
        return 0 if len(e.args) == 1 else None

    @staticmethod
    def py(x: Value) -> int:
        return len(x) if isinstance(x, (list, str, dict)) else 0


@builtin
class Flatten(Builtin):
    name = "flatten"
    usage = "flatten(xss)"
    js = "flatten"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = c.need_list(e, 0, args)
        if lt is None:
            return ListT(ANY, ZERO, "")
        inner = strip_opt(lt.item)
        if isinstance(inner, ListT):
            return ListT(inner.item, mul(lt.max, inner.max), f"flatten, line {e.span.line}")
        if is_any(inner):
            c.error("WF305", "flatten: the size of the inner lists is not known", e.args[0].span,
                    "flatten a list of lists with declared maxima (e.g. fan-out results of "
                    "`-> list[T] max N`)")
        return ListT(inner, lt.max, lt.why)

    @staticmethod
    def py(xss: Value) -> list[Value]:
        out: list[Value] = []
        for x in items(xss):
            if isinstance(x, list):
                out.extend(x)
            elif x is not None:
                out.append(x)
        return out


class _Cut(Builtin):
    """take/top: at most n items; a cut writes a log line."""
    arity = (2, 2)
    logs_cut = True

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = c.need_list(e, 0, args)
        counts = _count_type(c, e, args, self.usage)
        # A count known before the run bounds the result; any other count (computed, an
        # agent's answer) still cuts, never lengthens: at most the list's own max.
        n = c.static_size(e.args[1], self.name)
        if n is None and counts:  # a count whose type declares its range (`n: int min 0 max 5`), checked once
            n = c.declared_size(e.args[1], self.name, scope, args[1])
        c.key_orders(e, lt, self.keyword(e, "by"), scope)
        if lt is None:
            return ListT(ANY, n if n is not None else ZERO, "")
        if n is None:
            return ListT(lt.item, lt.max, f"{self.name}, line {e.span.line}")
        return ListT(lt.item, smin(lt.max, n), f"{self.name}, line {e.span.line}")

    def run(self, args: list[Value], kwargs: dict[str, Value]) -> tuple[Value, int | None]:
        value = type(self).py(*args, **kwargs)
        return value, len(items(args[0])) if args else None


def _count_type(c: Checking, e: ast.Call, args: list[Type], usage: str) -> bool:
    """Is the count a number? Reports it when not (a json value: that it sizes nothing)."""
    t = strip_opt(args[1])
    if t == JSON:
        c.error("WF213", f"{e.func}: the count must be a number, not json: a json value cannot size anything",
                e.args[1].span, f"write {usage} with an int n: read a number out of it with "
                "int(...), or ask the agent for `n: int min 0 max N`")
        return False
    if not (is_numeric(t) or is_any(t)):
        c.error("WF213", f"{e.func}: the count must be a number, not {t.describe()}", e.args[1].span,
                f"write {usage} with an int n")
        return False
    return True


@builtin
class Take(_Cut):
    name = "take"
    usage = "take(xs, n)"
    js = "take"

    @staticmethod
    def py(xs: Value, n: Value) -> list[Value]:
        return list(items(xs)[: max(0, count(n, "take"))])


@builtin
class Top(_Cut):
    name = "top"
    keywords = ("by",)
    usage = "top(xs, n, by=.field)"
    js = "top"
    keyed = True

    @staticmethod
    def py(xs: Value, n: Value, by: KeyFn | None = None, orders: Orders = None,
           compound: bool = False) -> list[Value]:
        out = sorted_by(items(xs), by or identity, orders, compound, reverse=True)
        return out[: max(0, count(n, "top"))]


@builtin
class Sort(Builtin):
    name = "sort"
    keywords = ("by", "reverse")
    usage = "sort(xs, by=.field, reverse=false)"
    js = "sort"
    keyed = True

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = c.need_list(e, 0, args)
        c.key_orders(e, lt, self.keyword(e, "by"), scope)
        return lt if lt is not None else ListT(ANY, ZERO, "")

    @staticmethod
    def py(xs: Value, by: KeyFn | None = None, reverse: Value = False, orders: Orders = None,
           compound: bool = False) -> list[Value]:
        return sorted_by(items(xs), by or identity, orders, compound, reverse=truthy(reverse))


@builtin
class Unique(Sort):
    name = "unique"
    keywords = ("by",)
    usage = "unique(xs, by=.field)"
    js = "unique"
    keyed = False

    @staticmethod
    def py(xs: Value, by: KeyFn | None = None) -> list[Value]:  # type: ignore[override]
        key = by or identity
        seen: set[str] = set()
        out = []
        for x in items(xs):
            k = canonical(key(x))
            if k not in seen:
                seen.add(k)
                out.append(x)
        return out


@builtin
class Min(Builtin):
    name = "min"
    arity = (1, 99)
    keywords = ("by",)
    usage = "min(xs, by=.field) or min(a, b)"
    js = "min"
    keyed = True
    sign = -1

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        if len(args) == 1:
            lt = c.need_list(e, 0, args)
            c.key_orders(e, lt, self.keyword(e, "by"), scope)
            return optional(lt.item) if lt is not None else ANY
        item = args[0]
        for a in args[1:]:
            item = join(item, a)
        c.key_orders(e, ListT(item, Const(len(args)), ""), self.keyword(e, "by"), scope)
        return item

    def lower(self, c: Checking, e: ast.Call, scope: Any) -> int | None:
        """min(...) of known lower bounds; max(...) of ints with one known."""
        if len(e.args) < 2:
            return None
        if not all(_is_int(c.checked_type(a, scope)) for a in e.args):
            return None
        known = [c.lower_bound(a, scope) for a in e.args]
        if self.sign < 0:
            return None if any(k is None for k in known) else min(k for k in known if k is not None)
        found = [k for k in known if k is not None]
        return max(found) if found else None

    @staticmethod
    def py(*args: Value, by: KeyFn | None = None, orders: Orders = None, compound: bool = False) -> Value:
        return extreme(list(args), by, orders, compound, -1)


@builtin
class Max(Min):
    name = "max"
    usage = "max(xs, by=.field) or max(a, b)"
    js = "max"
    sign = 1

    @staticmethod
    def py(*args: Value, by: KeyFn | None = None, orders: Orders = None, compound: bool = False) -> Value:
        return extreme(list(args), by, orders, compound, 1)


@builtin
class Sum(Builtin):
    name = "sum"
    usage = "sum(xs)"
    js = "sum"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = c.need_list(e, 0, args)
        # a sum leaves the items' declared range
        return widen(lt.item) if lt is not None and is_numeric(lt.item) and not is_any(lt.item) else FLOAT

    @staticmethod
    def py(xs: Value) -> Value:
        total: int | float = 0
        for x in items(xs):
            if is_number(x):  # None (and anything else) is skipped
                total += x
        return num(total)


@builtin
class Any_(Builtin):
    name = "any"
    usage = "any(xs)"
    js = "any"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        c.need_list(e, 0, args)
        return BOOL

    @staticmethod
    def py(xs: Value) -> bool:
        return any(truthy(x) for x in items(xs))


@builtin
class All(Any_):
    name = "all"
    usage = "all(xs)"
    js = "all"

    @staticmethod
    def py(xs: Value) -> bool:
        return all(truthy(x) for x in items(xs))


@builtin
class Range(Builtin):
    name = "range"
    arity = (1, 2)
    usage = "range(n) or range(a, b)"
    js = "range"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        if len(e.args) == 1:
            n = c.size_of(e.args[0], "range", scope, args[0])
        else:
            n = c.size_of(e.args[1], "range", scope, args[1])
            lo = c.lower_bound(e.args[0], scope)
            if lo is None:
                c.error("WF309", "the start of range(a, b) must have a lower bound known before the run",
                        e.args[0].span,
                        "range(a, b) has b − a items, so a must not be able to go below a known "
                        f"number: write range(max({c.source(e.args[0])}, 0), ...), or start "
                        "from a number, len(...) or an int input")
            elif lo < 0:
                n = size_add(n, Const(-lo))  # b − a ≤ b + |lo|
            elif lo > 0:
                n = monus(n, lo)  # b − a ≤ max(b − lo, 0): exact for a literal start
        return ListT(INT, n, f"range, line {e.span.line}")

    @staticmethod
    def py(*args: Value) -> list[int]:
        if not 1 <= len(args) <= 2:
            raise ValueError_("range() takes 1 or 2 arguments")
        return list(range(*[count(a, "range") for a in args]))


@builtin
class Chunks(Builtin):
    name = "chunks"
    arity = (2, 2)
    usage = "chunks(xs, n)"
    js = "chunks"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = c.need_list(e, 0, args)
        size = e.args[1]
        if isinstance(size, ast.IntLit) and size.value < 1:
            c.error("WF303", "chunks(xs, n) needs n as a number, 1 or more", size.span,
                    "write chunks(xs, 10)")
            return ListT(ANY, ZERO, "")
        _count_type(c, e, args, self.usage)
        if lt is None:
            return ListT(ANY, ZERO, "")
        why = f"chunks, line {e.span.line}"
        if isinstance(size, ast.IntLit):
            n = size.value
            return ListT(ListT(lt.item, smin(lt.max, Const(n)), why), ceil_div(lt.max, n), why)
        # Any other size: each chunk has at most n items (when n is known before the run)
        # and at most |xs|; there are at most ⌈|xs| / k⌉ chunks, k the least n can be
        # (its lower bound; a size below 1 counts as 1).
        upper = c.static_size(size, "chunks")
        least = max(c.lower_bound(size, scope) or 1, 1)
        inner = lt.max if upper is None else smin(lt.max, upper)
        return ListT(ListT(lt.item, inner, why), ceil_div(lt.max, least), why)

    @staticmethod
    def py(xs: Value, n: Value) -> list[list[Value]]:
        xs = items(xs)
        size = max(1, count(n, "chunks"))
        return [xs[i : i + size] for i in range(0, len(xs), size)]


@builtin
class Keys(Builtin):
    name = "keys"
    usage = "keys(record) or keys(map)"
    js = "keys"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        rec = strip_opt(args[0])
        if isinstance(rec, MapT):
            return maps.view(e, rec)  # one per key: the map's max
        if isinstance(rec, Record):
            return ListT(STR, Const(len(rec.fields)), f"keys, line {e.span.line}")
        c.error("WF305", "keys() needs a record whose fields are known", e.args[0].span,
                "give the value a record type")
        return ListT(STR, ZERO, "")

    @staticmethod
    def py(r: Value) -> list[str]:
        return list(r) if isinstance(r, dict) else []
