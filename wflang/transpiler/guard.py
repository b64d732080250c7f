"""The proven bound as a JavaScript expression of the script's inputs, for the live guard.

The checker's formula (`wflang/dsl/sizes.py`) is built from monotone operations over the
input names (the length of a list input, the value of an int input); the compiled script
evaluates the same formula on its actual arguments right after reading them, which is the
bound `wf check --args` and `wf run` print for those arguments. A formula too large to
write out (or a node this module does not know) falls back to the worst case, which is
still a bound for every run.
"""

from __future__ import annotations

from typing import Any

from wflang.dsl import sizes as S

_MAX_NODES = 4_000  # larger formulas (deeply unrolled loops) use the worst case instead


class _TooBig(Exception):
    pass


def bound_js(bound: Any, inputs: dict[str, str]) -> str:
    """`inputs`: for each input name of the formula, the JS code of its size."""
    if bound is None or not isinstance(getattr(bound, "total", None), int):
        return "Infinity"
    total = str(bound.total)
    try:
        agents = bound.agents
        if not agents.vars():
            return total
        return _js(agents, inputs, [_MAX_NODES])
    except (_TooBig, KeyError, RecursionError, NotImplementedError, AttributeError):
        return total


def _js(s: S.Sym, inputs: dict[str, str], budget: list[int]) -> str:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    if isinstance(s, S.Const):
        out = str(s.n)
    elif isinstance(s, S.Var):
        out = inputs[s.name]
    elif isinstance(s, S.Add):
        out = "(" + " + ".join(_js(i, inputs, budget) for i in s.items) + ")"
    elif isinstance(s, S.Mul):
        out = "(" + " * ".join(_js(i, inputs, budget) for i in s.items) + ")"
    elif isinstance(s, S.Min):
        out = "Math.min(" + ", ".join(_js(i, inputs, budget) for i in s.items) + ")"
    elif isinstance(s, S.Max):
        out = "Math.max(" + ", ".join(_js(i, inputs, budget) for i in s.items) + ")"
    elif isinstance(s, S.CeilDiv):
        out = f"Math.ceil({_js(s.a, inputs, budget)} / {s.n})"
    elif isinstance(s, S.Monus):
        out = f"Math.max({_js(s.a, inputs, budget)} - {s.c}, 0)"
    elif isinstance(s, S.Step):
        out = f"({_js(s.k, inputs, budget)} >= {s.r} ? 1 : 0)"
    else:
        raise NotImplementedError(type(s).__name__)
    return out
