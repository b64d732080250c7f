"""Symbolic sizes: list maxima and agent counts as formulas over the declared inputs.

Every operation here is monotone (non-decreasing) in every variable, so evaluating a
formula at the declared maxima gives the worst case, and at the actual argument sizes
gives the bound for a run. A `Knob` remembers which literal or input a number came from,
so an error can say what to turn.

Formulas are hash-consed: structurally equal formulas share one id (`_sid`), so `==` is
one integer comparison and a formula is a DAG whose shared parts are walked once. Every
walk (eval, show, knobs, vars, subst) is a loop over that DAG, never Python recursion:
an unrolled `repeat max 200` nests a formula 200 deep, and its rounds share their parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from typing import Any

from wflang.dsl.reprs import field_repr
from wflang.dsl.span import Span

# Values beyond any literal (literals stay under 1.8e308) change no comparison with a cap,
# a budget or a loop count; saturating there keeps every number printable.
SATURATE = 10**400
# A formula's text is cut beyond this many characters (its value is still exact).
SHOW_LIMIT = 2000

_IDS: dict[tuple[Any, ...], int] = {}


def _sid_of(key: tuple[Any, ...]) -> int:
    sid = _IDS.get(key)
    if sid is None:
        sid = _IDS[key] = len(_IDS) + 1
    return sid


def _sat(n: int) -> int:
    return SATURATE if n > SATURATE else n


def show_int(n: int) -> str:
    return f"more than 10^{len(str(SATURATE)) - 1}" if n >= SATURATE else str(n)


@dataclass(frozen=True, repr=False)
class Knob:
    """A number's origin, which an error names as the thing to change."""

    __repr__ = field_repr  # the dataclass text, made on demand (reprs.py)

    what: str  # "files max 200", "by 3", "top(..., 60)"
    span: Span


class Sym:
    """A formula. Its classes say `repr=False` and share this `__repr__` (reprs.py)."""

    __repr__ = field_repr
    _sid: int

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sid", _sid_of(self._key()))

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Sym) and self._sid == other._sid)

    def __hash__(self) -> int:
        return self._sid

    def kids(self) -> tuple[Sym, ...]:
        return ()

    # ---- one node, given its children's results (the walks below do the rest)
    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        raise NotImplementedError

    def _text(self, texts: list[str], value: int | None) -> str:
        raise NotImplementedError

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return self

    # ---- whole formulas
    def eval(self, env: dict[str, int]) -> int:
        return _evaluate(self, env)

    def show(self, env: dict[str, int] | None = None) -> str:
        """The formula; with `env`, input names are replaced by their values."""
        values = _values(self, env) if env is not None else None
        texts: dict[int, str] = {}
        for x in _postorder(self):
            t = x._text([texts[k._sid] for k in x.kids()], values[x._sid] if values is not None else None)
            texts[x._sid] = t if len(t) <= SHOW_LIMIT else t[:SHOW_LIMIT] + "…"
        return texts[self._sid]

    def knobs(self) -> list[Knob]:
        """The literals and inputs this formula depends on, in source order, each once."""
        out: dict[Knob, None] = {}
        seen: set[int] = set()
        stack: list[Sym] = [self]
        while stack:
            x = stack.pop()
            if x._sid in seen:
                continue
            seen.add(x._sid)
            for k in x._own_knobs():
                out.setdefault(k, None)
            stack.extend(reversed(x.kids()))
        return list(out)

    def _own_knobs(self) -> tuple[Knob, ...]:
        return ()

    def vars(self) -> set[str]:
        return set(_names(self))

    def subst(self, env: dict[str, Sym]) -> Sym:
        done: dict[int, Sym] = {}
        for x in _postorder(self):
            done[x._sid] = x._rebuild([done[k._sid] for k in x.kids()], env)
        return done[self._sid]


def _postorder(root: Sym, done: Callable[[Sym], bool] | None = None) -> list[Sym]:
    """Each distinct node of the DAG once, children before parents; no recursion. Nodes
    for which `done` holds are neither listed nor entered (their result is cached)."""
    order: list[Sym] = []
    seen: set[int] = set()
    stack: list[tuple[Sym, bool]] = [(root, False)]
    while stack:
        x, expanded = stack.pop()
        if expanded:
            order.append(x)
            continue
        if x._sid in seen or (done is not None and done(x)):
            continue
        seen.add(x._sid)
        stack.append((x, True))
        for k in reversed(x.kids()):
            if k._sid not in seen and (done is None or not done(k)):
                stack.append((k, False))
    return order


def _values(root: Sym, env: dict[str, int]) -> dict[int, int]:
    vals: dict[int, int] = {}
    for x in _postorder(root):
        vals[x._sid] = x._value([vals[k._sid] for k in x.kids()], env)
    return vals


_ENVS: dict[tuple[tuple[str, int], ...], int] = {}


def _evaluate(root: Sym, env: dict[str, int]) -> int:
    """The value at `env`. Each node caches its last (env, value): an unrolled loop
    evaluates round r's formula, which shares rounds 1..r−1, in the time of one round."""
    key = tuple(sorted(env.items()))
    ek = _ENVS.get(key)
    if ek is None:
        ek = _ENVS[key] = len(_ENVS) + 1
    cached = root.__dict__.get("_cache")
    if cached is not None and cached[0] == ek:
        return cached[1]

    def done(x: Sym) -> bool:
        c = x.__dict__.get("_cache")
        return c is not None and c[0] == ek

    out: dict[int, int] = {}
    for x in _postorder(root, done):
        vals = []
        for k in x.kids():
            v = out.get(k._sid)
            vals.append(v if v is not None else k.__dict__["_cache"][1])
        v = x._value(vals, env)
        out[x._sid] = v
        object.__setattr__(x, "_cache", (ek, v))
    return out[root._sid] if root._sid in out else root.__dict__["_cache"][1]


def _names(root: Sym) -> frozenset[str]:
    """The inputs a formula reads, cached on each node (they never change)."""
    got: dict[int, frozenset[str]] = {}
    for x in _postorder(root, lambda x: "_names" in x.__dict__):
        names = frozenset((x.name,)) if isinstance(x, Var) else frozenset()
        for k in x.kids():
            names |= got[k._sid] if k._sid in got else k.__dict__["_names"]
        got[x._sid] = names
        object.__setattr__(x, "_names", names)
    return got[root._sid] if root._sid in got else root.__dict__["_names"]


@dataclass(frozen=True, eq=False, repr=False)
class Const(Sym):
    """A number; `knob` is the literal (or literals, once folded) it came from."""

    n: int
    knob: Knob | tuple[Knob, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.knob, Knob):
            object.__setattr__(self, "knob", (self.knob,))
        elif self.knob == ():
            object.__setattr__(self, "knob", None)
        object.__setattr__(self, "n", _sat(self.n))
        super().__post_init__()

    def _key(self) -> tuple[Any, ...]:
        return ("C", self.n, self.knob)

    def eval(self, env: dict[str, int]) -> int:
        return self.n

    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return self.n

    def _text(self, texts: list[str], value: int | None) -> str:
        return show_int(self.n)

    def _own_knobs(self) -> tuple[Knob, ...]:
        return self.knob if isinstance(self.knob, tuple) else ()


@dataclass(frozen=True, eq=False, repr=False)
class Var(Sym):
    """The size of a list input, or the value of an int input."""

    name: str
    knob: Knob | None = None

    def _key(self) -> tuple[Any, ...]:
        return ("V", self.name, self.knob)

    def eval(self, env: dict[str, int]) -> int:
        return env[self.name]

    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return env[self.name]

    def _text(self, texts: list[str], value: int | None) -> str:
        return show_int(value) if value is not None else self.name

    def _own_knobs(self) -> tuple[Knob, ...]:
        return (self.knob,) if self.knob else ()

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return env.get(self.name, self)


@dataclass(frozen=True, eq=False, repr=False)
class _Nary(Sym):
    """A sum, product, min or max of `items` (the subclass says which)."""

    items: tuple[Sym, ...]

    def _key(self) -> tuple[Any, ...]:
        return (type(self).__name__, *(i._sid for i in self.items))

    def kids(self) -> tuple[Sym, ...]:
        return self.items


class Add(_Nary):
    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return _sat(sum(vals))

    def _text(self, texts: list[str], value: int | None) -> str:
        return " + ".join(texts)

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return add(*kids)


class Mul(_Nary):
    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        out = 1
        for v in vals:
            out = _sat(out * v)
        return out

    def _text(self, texts: list[str], value: int | None) -> str:
        return "×".join(f"({t})" if isinstance(i, Add) else t for i, t in zip(self.items, texts, strict=True))

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return mul(*kids)


class Min(_Nary):
    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return min(vals)

    def _text(self, texts: list[str], value: int | None) -> str:
        return show_int(value) if value is not None else "min(" + ", ".join(texts) + ")"

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return smin(*kids)


class Max(_Nary):
    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return max(vals)

    def _text(self, texts: list[str], value: int | None) -> str:
        return show_int(value) if value is not None else "max(" + ", ".join(texts) + ")"

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return smax(*kids)


@dataclass(frozen=True, eq=False, repr=False)
class CeilDiv(Sym):
    """⌈a / n⌉ for a constant n ≥ 1: the number of chunks."""

    a: Sym
    n: int

    def _key(self) -> tuple[Any, ...]:
        return ("D", self.a._sid, self.n)

    def kids(self) -> tuple[Sym, ...]:
        return (self.a,)

    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return -(-vals[0] // self.n)

    def _text(self, texts: list[str], value: int | None) -> str:
        return show_int(value) if value is not None else f"⌈{texts[0]}/{self.n}⌉"

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return ceil_div(kids[0], self.n)


@dataclass(frozen=True, eq=False, repr=False)
class Monus(Sym):
    """max(a − c, 0): a tournament over n items runs n − 1 judges."""

    a: Sym
    c: int

    def _key(self) -> tuple[Any, ...]:
        return ("M", self.a._sid, self.c)

    def kids(self) -> tuple[Sym, ...]:
        return (self.a,)

    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return max(vals[0] - self.c, 0)

    def _text(self, texts: list[str], value: int | None) -> str:
        inner = texts[0]
        if isinstance(self.a, (Add, Mul)):
            inner = f"({inner})"
        return f"{inner}−{self.c}"

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        return monus(kids[0], self.c)


@dataclass(frozen=True, eq=False, repr=False)
class Step(Sym):
    """1 when k ≥ r, else 0: round r of a loop whose count k is an input."""

    k: Sym
    r: int

    def _key(self) -> tuple[Any, ...]:
        return ("S", self.k._sid, self.r)

    def kids(self) -> tuple[Sym, ...]:
        return (self.k,)

    def _value(self, vals: list[int], env: dict[str, int]) -> int:
        return 1 if vals[0] >= self.r else 0

    def _text(self, texts: list[str], value: int | None) -> str:
        return show_int(value) if value is not None else f"[{texts[0]}≥{self.r}]"

    def _rebuild(self, kids: list[Sym], env: dict[str, Sym]) -> Sym:
        k = kids[0]
        if isinstance(k, Const):
            return Const(1 if k.n >= self.r else 0)
        return Step(k, self.r)


ZERO = Const(0)
ONE = Const(1)


def _merged(consts: list[Sym]) -> tuple[Knob, ...]:
    """The knobs of folded constants, each once (`seen + seen` must not double them)."""
    return tuple(dict.fromkeys(k for c in consts for k in c._own_knobs()))


def _split_coefficient(x: Sym) -> tuple[int, Sym]:
    """`3×s` → (3, s) when the 3 is a plain number (no knob to report); else (1, x)."""
    if isinstance(x, Mul) and isinstance(x.items[0], Const) and x.items[0].knob is None and len(x.items) > 1:
        rest = x.items[1:]
        return x.items[0].n, rest[0] if len(rest) == 1 else Mul(rest)
    return 1, x


def add(*xs: Sym) -> Sym:
    items = [y for x in xs for y in (x.items if isinstance(x, Add) else (x,))]
    if items and all(isinstance(y, Const) for y in items):
        return Const(sum(y.n for y in items), _merged(items))  # type: ignore[attr-defined]
    # Like terms merge: s + s = 2×s, 2×s + s = 3×s (exact, and it keeps `seen + seen`
    # from doubling the formula every round).
    coef: dict[Sym, int] = {}
    total = 0
    for y in items:
        if isinstance(y, Const) and y.knob is None:
            total += y.n
        elif not (isinstance(y, Const) and y.n == 0):
            c, base = _split_coefficient(y)
            coef[base] = coef.get(base, 0) + c
    flat: list[Sym] = []
    for base, c in coef.items():
        flat.append(base if c == 1 else mul(Const(c), base))
    if total:
        flat.append(Const(total))
    if not flat:
        return ZERO
    return flat[0] if len(flat) == 1 else Add(tuple(flat))


def mul(*xs: Sym) -> Sym:
    flat: list[Sym] = []
    for x in xs:
        for y in x.items if isinstance(x, Mul) else (x,):
            if isinstance(y, Const) and y.n == 0:
                return ZERO
            if isinstance(y, Const) and y.n == 1 and y.knob is None:
                continue
            flat.append(y)
    if not flat:
        return ONE
    if all(isinstance(y, Const) for y in flat) and len(flat) > 1:
        return Const(_sat(prod(y.n for y in flat)), _merged(flat))  # type: ignore[attr-defined]
    return flat[0] if len(flat) == 1 else Mul(tuple(flat))


def _terms(x: Sym) -> dict[Sym, int]:
    """A sum as {term: coefficient}; plain numbers count under ONE."""
    out: dict[Sym, int] = {}
    for t in x.items if isinstance(x, Add) else (x,):
        if isinstance(t, Const) and t.knob is None:
            out[ONE] = out.get(ONE, 0) + t.n
        else:
            c, base = _split_coefficient(t)
            out[base] = out.get(base, 0) + c
    return out


def _covers(big: Sym, small: Sym) -> bool:
    """Is `big` ≥ `small` term by term (`2×s + t` ≥ `s`)? Terms are never negative."""
    if big is small or not isinstance(big, (Add, Mul)):
        return False
    tb = _terms(big)
    return all(tb.get(base, 0) >= c for base, c in _terms(small).items())


def _fold(kind: type[_Nary], pick: Callable[..., Any], xs: tuple[Sym, ...]) -> Sym:
    flat: list[Sym] = []
    for x in xs:
        flat.extend(x.items if isinstance(x, kind) else (x,))
    consts = [x for x in flat if isinstance(x, Const)]
    rest = [x for x in flat if not isinstance(x, Const)]
    if consts:
        best = pick(consts, key=lambda c: c.n)
        rest.append(Const(best.n, _merged(consts)))
    uniq = list(dict.fromkeys(rest))
    if 1 < len(uniq) <= 16:
        # max(s + t, s) = s + t and min(s + t, s) = s: drop the terms that cannot win
        # (pairwise, so only for short lists: a long one costs more than it saves).
        if kind is Max:
            uniq = [x for x in uniq if not any(_covers(y, x) for y in uniq)] or uniq
        else:
            uniq = [x for x in uniq if not any(_covers(x, y) for y in uniq)] or uniq
    return uniq[0] if len(uniq) == 1 else kind(tuple(uniq))


def smin(*xs: Sym) -> Sym:
    return _fold(Min, min, xs)


def smax(*xs: Sym) -> Sym:
    # Sizes are never negative, so a 0 among other terms changes nothing.
    nonzero = tuple(x for x in xs if not (isinstance(x, Const) and x.n == 0))
    return _fold(Max, max, nonzero) if nonzero else ZERO


def ceil_div(a: Sym, n: int) -> Sym:
    if isinstance(a, Const):
        return Const(-(-a.n // n), a.knob)
    return a if n == 1 else CeilDiv(a, n)


def monus(a: Sym, c: int) -> Sym:
    if isinstance(a, Const):
        return Const(max(a.n - c, 0), a.knob)
    return Monus(a, c)
