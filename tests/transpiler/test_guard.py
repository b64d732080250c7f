"""The live guard's formula in JavaScript (wflang/transpiler/guard.py): the same text the
recursive writer gave, and no recursion, however deep an unrolled loop nests it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from wflang.dsl import sizes as S
from wflang.dsl.loader import load
from wflang.transpiler.guard import _MAX_NODES, bound_js

ROOT = Path(__file__).resolve().parents[2]


def _recursive(s: S.Sym, inputs: dict[str, str]) -> str:
    """The writer as it was (recursive), for small formulas."""
    if isinstance(s, S.Const):
        return str(s.n)
    if isinstance(s, S.Var):
        return inputs[s.name]
    if isinstance(s, S.Add):
        return "(" + " + ".join(_recursive(i, inputs) for i in s.items) + ")"
    if isinstance(s, S.Mul):
        return "(" + " * ".join(_recursive(i, inputs) for i in s.items) + ")"
    if isinstance(s, S.Min):
        return "Math.min(" + ", ".join(_recursive(i, inputs) for i in s.items) + ")"
    if isinstance(s, S.Max):
        return "Math.max(" + ", ".join(_recursive(i, inputs) for i in s.items) + ")"
    if isinstance(s, S.CeilDiv):
        return f"Math.ceil({_recursive(s.a, inputs)} / {s.n})"
    if isinstance(s, S.Monus):
        return f"Math.max({_recursive(s.a, inputs)} - {s.c}, 0)"
    assert isinstance(s, S.Step)
    return f"({_recursive(s.k, inputs)} >= {s.r} ? 1 : 0)"


def test_every_example_bound_is_written_as_before() -> None:
    written = 0
    for path in sorted(ROOT.glob("examples/*/*.wf")):
        loaded = load(str(path))
        bound = loaded.result.bound if loaded.result is not None else None
        if bound is None or not bound.agents.vars():
            continue
        inputs = {n: f"len({n})" for n in bound.agents.vars()}
        assert bound_js(bound, inputs) == _recursive(bound.agents, inputs)
        written += 1
    assert written >= 3


def _chain(depth: int) -> S.Sym:
    """max(min(x, 5) + 1, ...) nested `depth` deep: what an unrolled loop builds."""
    s: S.Sym = S.Var("x")
    for i in range(depth):
        s = S.Add((S.Min((s, S.Const(1000 + i))), S.Const(1)))  # unsimplified: exactly this shape
    return s


def test_a_deep_formula_is_written_without_recursion() -> None:
    deep = _chain(900)  # 1,800 levels: past Python's 1,000 frames, under the node limit
    bound = SimpleNamespace(total=deep.eval({"x": 3}), agents=deep)
    js = bound_js(bound, {"x": "X"})
    assert js.count("Math.min(") == 900 and js.startswith("(Math.min(")


def test_a_formula_past_the_node_limit_falls_back_to_the_worst_case() -> None:
    deep = _chain(_MAX_NODES)
    bound = SimpleNamespace(total=12345, agents=deep)
    assert bound_js(bound, {"x": "X"}) == "12345"
