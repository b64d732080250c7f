"""Builtins over maps (`map[str, T] max N`, docs/language.md §3a): reading one
(`values`, `entries`; `keys` is in lists.py) and building one (`group_by`, `count_by`,
`to_map`). A map is always in key order (sorted by code point), so every builder sorts;
its keys are at most the items it was built from. Their JS helpers are in
wflang/transpiler/prelude.js (`values`, `entries`, `groupBy`, `countBy`, `toMap`)."""

from __future__ import annotations

from typing import Any

from wflang.dsl import ast
from wflang.dsl.builtins.base import Builtin, Checking, builtin
from wflang.dsl.builtins.support import identity, items
from wflang.dsl.sizes import ZERO
from wflang.dsl.types import ANY, ERROR, INT, STR, ListT, MapT, Record, Type, is_any, is_stringy, strip_opt
from wflang.dsl.values import KeyFn, Value, text


def map_key(k: Value) -> str:
    """A value as a map key: a string as it is, anything else (a key of a type the checker
    did not know) as text() writes it, so `none` is "null"."""
    return k if isinstance(k, str) else text(k)


def view(e: ast.Call, m: MapT) -> ListT:
    """keys(m), values(m), entries(m): one item per key, so as many as the map's max."""
    why = f"{e.func}, line {e.span.line}"
    if e.func == "keys":
        return ListT(STR, m.max, why)
    if e.func == "values":
        return ListT(m.value, m.max, why)
    return ListT(entry(m.value), m.max, why)


def entry(value: Type) -> Record:
    return Record(None, {"key": STR, "value": value})


def need_map(c: Checking, e: ast.Call, args: list[Type]) -> MapT | None:
    t = strip_opt(args[0])
    if isinstance(t, MapT):
        return t
    if t != ERROR:
        c.error("WF305" if is_any(t) else "WF213",
                f"{e.func}() needs a map, not {'a value of unknown type' if is_any(t) else t.describe()}",
                e.args[0].span, "give it a map[str, T] (an input, an agent's answer, group_by(...))"
                + ("; for a record's field names use keys(r)" if isinstance(t, Record) else ""))
    return None


class _View(Builtin):
    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        m = need_map(c, e, args)
        return view(e, m) if m is not None else ListT(ANY, ZERO, "")


@builtin
class Values(_View):
    name = "values"
    usage = "values(map)"
    js = "values"

    @staticmethod
    def py(m: Value) -> list[Value]:
        return list(m.values()) if isinstance(m, dict) else []


@builtin
class Entries(_View):
    name = "entries"
    usage = "entries(map)"
    js = "entries"

    @staticmethod
    def py(m: Value) -> list[dict[str, Value]]:
        return [{"key": k, "value": v} for k, v in m.items()] if isinstance(m, dict) else []


class _Grouping(Builtin):
    """group_by / count_by: a list and a key (`by=`) whose value is a string."""

    keywords = ("by",)

    def grouped(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> ListT | None:
        lt = c.need_list(e, 0, args)
        by = self.keyword(e, "by")
        if by is None:
            c.error("WF227", f"{e.func}() needs a key: by=.field", e.span, self.usage)
            return lt
        if isinstance(by.value, ast.TupleLit):
            c.error("WF213", f"{e.func}() takes one key, not a tuple: a map's keys are strings", by.value.span,
                    "join the parts into one string: by=lambda x: \"{x.a}/{x.b}\"")
            return lt
        kt = strip_opt(c.key_orders(e, lt, by, scope)[0])
        if not is_stringy(kt) and kt != ERROR:
            fix = f"lambda x: str(x{c.source(by.value)})" if isinstance(by.value, ast.Accessor) else "lambda x: str(...)"
            c.error("WF213", f"a map's keys are strings; this key is {kt.describe()}", by.value.span,
                    f"make it a string: by={fix}")
        return lt


@builtin
class GroupBy(_Grouping):
    name = "group_by"
    usage = "group_by(xs, by=.field)"
    js = "groupBy"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = self.grouped(c, e, args, scope)
        if lt is None:
            return MapT(ListT(ANY, ZERO, ""), ZERO, "")
        why = f"group_by, line {e.span.line}"
        # at most one key per item, and a group holds at most every item
        return MapT(ListT(lt.item, lt.max, why), lt.max, why)

    @staticmethod
    def py(xs: Value, by: KeyFn | None = None) -> dict[str, list[Value]]:
        key = by or identity
        groups: dict[str, list[Value]] = {}
        for x in items(xs):
            groups.setdefault(map_key(key(x)), []).append(x)
        return {k: groups[k] for k in sorted(groups)}


@builtin
class CountBy(_Grouping):
    name = "count_by"
    usage = "count_by(xs, by=.field)"
    js = "countBy"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = self.grouped(c, e, args, scope)
        if lt is None:
            return MapT(INT, ZERO, "")
        return MapT(INT, lt.max, f"count_by, line {e.span.line}")

    @staticmethod
    def py(xs: Value, by: KeyFn | None = None) -> dict[str, int]:
        key = by or identity
        counts: dict[str, int] = {}
        for x in items(xs):
            k = map_key(key(x))
            counts[k] = counts.get(k, 0) + 1
        return {k: counts[k] for k in sorted(counts)}


@builtin
class ToMap(Builtin):
    name = "to_map"
    usage = "to_map([{key: x.name, value: x} for x in xs])"
    js = "toMap"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        lt = c.need_list(e, 0, args)
        if lt is None:
            return MapT(ANY, ZERO, "")
        item = strip_opt(lt.item)
        if is_any(item):
            return MapT(ANY, lt.max, f"to_map, line {e.span.line}")
        if not (isinstance(item, Record) and set(item.fields) == {"key", "value"}):
            c.error("WF213", f"to_map() takes a list of {{key, value}} records, not of {item.describe()}",
                    e.args[0].span, "build them: to_map([{key: x.name, value: x} for x in xs])")
            return MapT(ANY, ZERO, "")
        if not is_stringy(item.fields["key"]):
            c.error("WF213", f"a map's keys are strings; these keys are {item.fields['key'].describe()}",
                    e.args[0].span, "make them strings: {key: str(...), value: ...}")
        return MapT(item.fields["value"], lt.max, f"to_map, line {e.span.line}")

    @staticmethod
    def py(pairs: Value) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for p in items(pairs):
            if isinstance(p, dict):
                out[map_key(p.get("key"))] = p.get("value")  # a repeated key: the last one wins
        return {k: out[k] for k in sorted(out)}
