"""Symbolic sizes: list maxima and agent counts as formulas over the declared inputs.

Every operation here is monotone (non-decreasing) in every variable, so evaluating a
formula at the declared maxima gives the worst case, and at the actual argument sizes
gives the bound for a run. A `Knob` remembers which literal or input a number came from,
so an error can say what to turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from wflang.dsl.span import Span


@dataclass(frozen=True)
class Knob:
    what: str  # "files max 200", "by 3", "top(..., 60)"
    span: Span


class Sym:
    def eval(self, env: dict[str, int]) -> int:
        raise NotImplementedError

    def show(self, env: dict[str, int] | None = None) -> str:
        """The formula; with `env`, input names are replaced by their values."""
        raise NotImplementedError

    def knobs(self) -> list[Knob]:
        return []

    def vars(self) -> set[str]:
        return set()

    def subst(self, env: dict[str, Sym]) -> Sym:
        return self


@dataclass(frozen=True)
class Const(Sym):
    """A number; `knob` is the literal (or literals, once folded) it came from."""

    n: int
    knob: Knob | tuple[Knob, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.knob, Knob):
            object.__setattr__(self, "knob", (self.knob,))
        elif self.knob == ():
            object.__setattr__(self, "knob", None)

    def eval(self, env: dict[str, int]) -> int:
        return self.n

    def show(self, env: dict[str, int] | None = None) -> str:
        return str(self.n)

    def knobs(self) -> list[Knob]:
        return list(self.knob) if isinstance(self.knob, tuple) else []


@dataclass(frozen=True)
class Var(Sym):
    """The size of a list input, or the value of an int input."""

    name: str
    knob: Knob | None = None

    def eval(self, env: dict[str, int]) -> int:
        return env[self.name]

    def show(self, env: dict[str, int] | None = None) -> str:
        return str(env[self.name]) if env is not None else self.name

    def knobs(self) -> list[Knob]:
        return [self.knob] if self.knob else []

    def vars(self) -> set[str]:
        return {self.name}

    def subst(self, env: dict[str, Sym]) -> Sym:
        return env.get(self.name, self)


@dataclass(frozen=True)
class _Nary(Sym):
    items: tuple[Sym, ...]

    def knobs(self) -> list[Knob]:
        return [k for i in self.items for k in i.knobs()]

    def vars(self) -> set[str]:
        return set().union(*(i.vars() for i in self.items))


class Add(_Nary):
    def eval(self, env: dict[str, int]) -> int:
        return sum(i.eval(env) for i in self.items)

    def show(self, env: dict[str, int] | None = None) -> str:
        return " + ".join(i.show(env) for i in self.items)

    def subst(self, env: dict[str, Sym]) -> Sym:
        return add(*(i.subst(env) for i in self.items))


class Mul(_Nary):
    def eval(self, env: dict[str, int]) -> int:
        return prod(i.eval(env) for i in self.items)

    def show(self, env: dict[str, int] | None = None) -> str:
        return "×".join(f"({i.show(env)})" if isinstance(i, Add) else i.show(env) for i in self.items)

    def subst(self, env: dict[str, Sym]) -> Sym:
        return mul(*(i.subst(env) for i in self.items))


class Min(_Nary):
    def eval(self, env: dict[str, int]) -> int:
        return min(i.eval(env) for i in self.items)

    def show(self, env: dict[str, int] | None = None) -> str:
        if env is not None:
            return str(self.eval(env))
        return "min(" + ", ".join(i.show(env) for i in self.items) + ")"

    def subst(self, env: dict[str, Sym]) -> Sym:
        return smin(*(i.subst(env) for i in self.items))


class Max(_Nary):
    def eval(self, env: dict[str, int]) -> int:
        return max(i.eval(env) for i in self.items)

    def show(self, env: dict[str, int] | None = None) -> str:
        if env is not None:
            return str(self.eval(env))
        return "max(" + ", ".join(i.show(env) for i in self.items) + ")"

    def subst(self, env: dict[str, Sym]) -> Sym:
        return smax(*(i.subst(env) for i in self.items))


@dataclass(frozen=True)
class CeilDiv(Sym):
    """⌈a / n⌉ for a constant n ≥ 1: the number of chunks."""

    a: Sym
    n: int

    def eval(self, env: dict[str, int]) -> int:
        return -(-self.a.eval(env) // self.n)

    def show(self, env: dict[str, int] | None = None) -> str:
        if env is not None:
            return str(self.eval(env))
        return f"⌈{self.a.show(env)}/{self.n}⌉"

    def knobs(self) -> list[Knob]:
        return self.a.knobs()

    def vars(self) -> set[str]:
        return self.a.vars()

    def subst(self, env: dict[str, Sym]) -> Sym:
        return ceil_div(self.a.subst(env), self.n)


@dataclass(frozen=True)
class Monus(Sym):
    """max(a − c, 0): a tournament over n items runs n − 1 judges."""

    a: Sym
    c: int

    def eval(self, env: dict[str, int]) -> int:
        return max(self.a.eval(env) - self.c, 0)

    def show(self, env: dict[str, int] | None = None) -> str:
        inner = self.a.show(env)
        if isinstance(self.a, (Add, Mul)):
            inner = f"({inner})"
        return f"{inner}−{self.c}"

    def knobs(self) -> list[Knob]:
        return self.a.knobs()

    def vars(self) -> set[str]:
        return self.a.vars()

    def subst(self, env: dict[str, Sym]) -> Sym:
        return monus(self.a.subst(env), self.c)


@dataclass(frozen=True)
class Step(Sym):
    """1 when k ≥ r, else 0: round r of a loop whose count k is an input."""

    k: Sym
    r: int

    def eval(self, env: dict[str, int]) -> int:
        return 1 if self.k.eval(env) >= self.r else 0

    def show(self, env: dict[str, int] | None = None) -> str:
        if env is not None:
            return str(self.eval(env))
        return f"[{self.k.show(env)}≥{self.r}]"

    def knobs(self) -> list[Knob]:
        return self.k.knobs()

    def vars(self) -> set[str]:
        return self.k.vars()

    def subst(self, env: dict[str, Sym]) -> Sym:
        k = self.k.subst(env)
        if isinstance(k, Const):
            return Const(1 if k.n >= self.r else 0)
        return Step(k, self.r)


ZERO = Const(0)
ONE = Const(1)


def _merged(consts: list[Sym]) -> tuple[Knob, ...]:
    return tuple(k for c in consts for k in c.knobs())


def add(*xs: Sym) -> Sym:
    items = [y for x in xs for y in (x.items if isinstance(x, Add) else (x,))]
    if items and all(isinstance(y, Const) for y in items):
        return Const(sum(y.n for y in items), _merged(items))  # type: ignore[attr-defined]
    flat: list[Sym] = []
    total = 0
    for x in xs:
        for y in x.items if isinstance(x, Add) else (x,):
            if isinstance(y, Const) and y.knob is None:
                total += y.n
            elif not (isinstance(y, Const) and y.n == 0):
                flat.append(y)
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
        return Const(prod(y.n for y in flat), _merged(flat))  # type: ignore[attr-defined]
    return flat[0] if len(flat) == 1 else Mul(tuple(flat))


def _fold(kind: type[_Nary], pick, xs: tuple[Sym, ...]) -> Sym:
    flat: list[Sym] = []
    for x in xs:
        flat.extend(x.items if isinstance(x, kind) else (x,))
    consts = [x for x in flat if isinstance(x, Const)]
    rest = [x for x in flat if not isinstance(x, Const)]
    if consts:
        best = pick(consts, key=lambda c: c.n)
        rest.append(Const(best.n, _merged(consts)))
    uniq: list[Sym] = []
    for x in rest:
        if x not in uniq:
            uniq.append(x)
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
