"""The checker's types: what a value can be, and for lists their maximum size.

`Any` is the type the checker gives up on (e.g. a field of a plain-text answer); it
accepts everything and is never an error by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from wflang.dsl.reprs import field_repr
from wflang.dsl.sizes import Const, Sym, smax


class Type:
    """The base of the checker's types. Their classes say `repr=False`: they share this
    `__repr__`, the text the generated one gives, made on demand (reprs.py)."""

    __repr__ = field_repr

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Prim(Type):
    """A type without parts, by name; the module's constants (STR, INT, ...) are its values."""

    name: str  # "str" | "int" | "float" | "bool" | "none" | "any"

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class Ranged(Prim):
    """An `int` or `float` with declared bounds (a field `n: int min 0 max 5`). A value of
    this type is within them: both targets refuse an answer or an argument outside
    (runtime/fit.py, fitAnswer, dsl/arguments.py). Arithmetic forgets the range (`widen`)."""

    lo: float | None = None
    hi: float | None = None

    def describe(self) -> str:
        lo = "" if self.lo is None else f" min {_num(self.lo)}"
        hi = "" if self.hi is None else f" max {_num(self.hi)}"
        return f"{self.name}{lo}{hi}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def widen(t: Type) -> Type:
    """`t` (or `t?`) without a declared range: what arithmetic on it gives."""
    if isinstance(t, Opt):
        return Opt(widen(t.inner))
    return Prim(t.name) if isinstance(t, Ranged) else t


@dataclass(frozen=True, repr=False)
class Union(Type):
    """A union of string literals (`"low" | "high"`), in declared order: the ranking
    `sort`/`top` use."""

    options: tuple[str, ...]

    def describe(self) -> str:
        return " | ".join(f'"{o}"' for o in self.options)


@dataclass(frozen=True, eq=False, repr=False)
class Record(Type):
    """A record: a declared `type` (by `name`) or a literal's shape (`name` None), field by field."""

    name: str | None
    fields: dict[str, Type]

    def describe(self) -> str:
        if self.name:
            return self.name
        return "{" + ", ".join(f"{k}: {v.describe()}" for k, v in self.fields.items()) + "}"


@dataclass(frozen=True, eq=False, repr=False)
class ListT(Type):
    """A list of `item`s, at most `max` of them (a formula over the inputs: sizes.py)."""

    item: Type
    max: Sym
    why: str = ""  # where the maximum came from, for derivations: "top, line 26"

    def describe(self) -> str:
        return f"list[{self.item.describe()}] max {self.max.show()}"


@dataclass(frozen=True, eq=False, repr=False)
class Alt(Type):
    """A union of types (`int | str`, `true | "auto"`): a value is one of `options`. Only
    what every value allows applies to it: `==`, `!=`, `in`, truth, interpolation, `str`,
    `json`, passing it on; a field that every option (all records) has. No arithmetic, no
    ordering, no iteration: nothing it holds can size a loop."""

    options: tuple[Type, ...]

    def describe(self) -> str:
        return " | ".join(o.describe() for o in self.options)


def alt(options: list[Type]) -> Type:
    """The union of `options`, flattened, repeats removed; one option is itself."""
    flat: list[Type] = []
    for o in options:
        for x in (o.options if isinstance(o, Alt) else (o,)):
            if not any(x is y or x == y for y in flat):
                flat.append(x)
    return flat[0] if len(flat) == 1 else Alt(tuple(flat))


@dataclass(frozen=True, eq=False, repr=False)
class MapT(Type):
    """`map[str, T] max N`: string keys known only at run time, at most `max` of them.
    Its keys, values and entries are lists of max `max`."""

    value: Type
    max: Sym
    why: str = ""

    def describe(self) -> str:
        return f"map[str, {self.value.describe()}] max {self.max.show()}"


@dataclass(frozen=True, repr=False)
class Opt(Type):
    """`inner` or none."""

    inner: Type

    def describe(self) -> str:
        return f"{self.inner.describe()}?"


@dataclass(frozen=True, repr=False)
class KeyFn(Type):
    """An accessor `.f` or a lambda, as a key; `result` is its value's type when known."""

    result: Type

    def describe(self) -> str:
        return "key function"


# Any JSON value (`json`): null, a boolean, a number, a string, a list, a record. Its
# fields and items are `json` too; it is never iterated and never sizes anything.
JSON = Prim("json")
STR = Prim("str")
INT = Prim("int")
FLOAT = Prim("float")
BOOL = Prim("bool")
NONE = Prim("none")
ANY = Prim("any")
# The type of a name whose definition had an error: like `any`, and never reported again.
ERROR = Prim("error")


def strip_opt(t: Type) -> Type:
    return t.inner if isinstance(t, Opt) else t


def is_any(t: Type) -> bool:
    return isinstance(strip_opt(t), Prim) and strip_opt(t).name in ("any", "error")  # type: ignore[attr-defined]


def is_numeric(t: Type) -> bool:
    t = strip_opt(t)
    return is_any(t) or (isinstance(t, Prim) and t.name in ("int", "float"))


def is_stringy(t: Type) -> bool:
    t = strip_opt(t)
    return is_any(t) or isinstance(t, Union) or (isinstance(t, Prim) and t.name == "str")


def join(a: Type, b: Type) -> Type:
    """The type of a value that is either an `a` or a `b` (branches, list items)."""
    if a is b:
        return a
    if isinstance(a, Prim) and a.name == "none":
        return b if isinstance(b, Opt) or is_any(b) else Opt(b)
    if isinstance(b, Prim) and b.name == "none":
        return join(b, a)
    if isinstance(a, Opt) or isinstance(b, Opt):
        inner = join(strip_opt(a), strip_opt(b))
        return inner if is_any(inner) else Opt(inner)
    if isinstance(a, Alt) or isinstance(b, Alt):
        return alt([a, b])
    if a == JSON or b == JSON:
        return JSON if a == b else alt([a, b])
    if isinstance(a, Ranged) or isinstance(b, Ranged):
        if isinstance(a, Ranged) and isinstance(b, Ranged) and a.name == b.name:
            return Ranged(a.name, _hull(a.lo, b.lo, min), _hull(a.hi, b.hi, max))
        return join(widen(a), widen(b))
    if isinstance(a, ListT) and isinstance(b, ListT):
        return ListT(join_items(a, b), smax(a.max, b.max), a.why if a.why == b.why else "")
    if isinstance(a, MapT) and isinstance(b, MapT):
        return MapT(join(a.value, b.value), smax(a.max, b.max), a.why if a.why == b.why else "")
    if isinstance(a, Record) and isinstance(b, Record):
        if a.name and a.name == b.name:
            return a
        fields = dict(a.fields)
        for k, v in b.fields.items():
            fields[k] = join(fields[k], v) if k in fields else v
        return Record(None, fields)
    if isinstance(a, Union) and isinstance(b, Union):
        return Union(tuple(dict.fromkeys(a.options + b.options)))
    if is_stringy(a) and is_stringy(b) and not is_any(a) and not is_any(b):
        return STR
    if is_numeric(a) and is_numeric(b) and not is_any(a) and not is_any(b):
        return FLOAT if FLOAT in (a, b) else INT
    if a == b:
        return a
    return ANY


def _hull(x: float | None, y: float | None, pick) -> float | None:  # type: ignore[no-untyped-def]
    return None if x is None or y is None else pick(x, y)


def join_items(a: ListT, b: ListT) -> Type:
    """The item type of a list that is `a` or `b` (or both, joined with `+`). An
    always-empty list (`[]`, max 0) has no items, so it says nothing about their type:
    `seen = []` then `seen = seen + found` keeps the items' record type (and with it the
    declared order of their string unions, which `top`/`sort` rank by)."""
    if _always_empty(a):
        return b.item
    if _always_empty(b):
        return a.item
    return join(a.item, b.item)


def _always_empty(t: ListT) -> bool:
    return isinstance(t.max, Const) and t.max.n == 0


def assignable(value: Type, target: Type) -> bool:
    """May a value of type `value` stand where `target` is declared (inputs' defaults)?"""
    if is_any(value) or is_any(target):
        return True
    if strip_opt(target) == JSON:
        return True
    if isinstance(value, Prim) and value.name == "none":
        return isinstance(target, Opt)
    target = strip_opt(target)
    value = strip_opt(value)
    if isinstance(value, Alt):
        return all(assignable(o, target) for o in value.options)
    if isinstance(target, Alt):
        return any(assignable(value, o) for o in target.options)
    if value == JSON:
        return False
    if isinstance(target, Union):
        return isinstance(value, Union) and set(value.options) <= set(target.options)
    if isinstance(target, Prim):
        if target.name == "str":
            return is_stringy(value)
        if target.name == "float":
            return is_numeric(value)
        return isinstance(value, Prim) and value.name == target.name
    if isinstance(target, ListT):
        return isinstance(value, ListT) and assignable(value.item, target.item)
    if isinstance(target, MapT):
        return isinstance(value, MapT) and assignable(value.value, target.value)
    if isinstance(target, Record):
        return isinstance(value, Record) and all(
            k in value.fields and assignable(value.fields[k], t) for k, t in target.fields.items())
    return False
