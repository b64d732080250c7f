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
        return _js(agents, inputs)
    except (_TooBig, KeyError, NotImplementedError, AttributeError):
        return total


def _js(root: S.Sym, inputs: dict[str, str]) -> str:
    """The formula written out as a tree (a shared part once per use), children first over
    the DAG, without recursion: an unrolled loop nests its formula hundreds deep."""
    text: dict[int, str] = {}
    size: dict[int, int] = {}  # nodes of the written-out tree below and at each node
    for s in S._postorder(root):
        kids = s.kids()
        n = 1 + sum(size[k._sid] for k in kids)
        if n > _MAX_NODES:
            raise _TooBig
        size[s._sid] = n
        parts = [text[k._sid] for k in kids]
        if isinstance(s, S.Const):
            out = str(s.n)
        elif isinstance(s, S.Var):
            out = inputs[s.name]
        elif isinstance(s, S.Add):
            out = "(" + " + ".join(parts) + ")"
        elif isinstance(s, S.Mul):
            out = "(" + " * ".join(parts) + ")"
        elif isinstance(s, S.Min):
            out = "Math.min(" + ", ".join(parts) + ")"
        elif isinstance(s, S.Max):
            out = "Math.max(" + ", ".join(parts) + ")"
        elif isinstance(s, S.CeilDiv):
            out = f"Math.ceil({parts[0]} / {s.n})"
        elif isinstance(s, S.Monus):
            out = f"Math.max({parts[0]} - {s.c}, 0)"
        elif isinstance(s, S.Step):
            out = f"({parts[0]} >= {s.r} ? 1 : 0)"
        else:
            raise NotImplementedError(type(s).__name__)
        text[s._sid] = out
    return text[root._sid]
