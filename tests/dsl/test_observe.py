"""The checker's public observer seam (wflang/dsl/observe.py): `wf graph` reads the
checker through it, never through the private `_Checker`."""

from __future__ import annotations

import ast as pyast
import textwrap
from pathlib import Path

from wflang.dsl import ast
from wflang.dsl.checker import check_program
from wflang.dsl.loader import load
from wflang.dsl.observe import CheckObserver
from wflang.dsl.parser import parse
from wflang.dsl.sizes import Sym
from wflang.graph import construct_counts

ROOT = Path(__file__).resolve().parents[2]
HEADER = 'workflow t:\n    description: "d"\n'


class Log(CheckObserver):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def repeated(self, times: Sym) -> None:
        self.events.append(("repeated", times.show()))

    def rounds(self, k: Sym) -> None:
        self.events.append(("rounds", k.show()))

    def round(self, r: int) -> None:
        self.events.append(("round", r))

    def done(self) -> None:
        self.events.append(("done",))

    def construct(self, e: ast.Expr, agents: Sym) -> None:
        self.events.append((type(e).__name__, agents.show()))


def test_the_hooks_come_in_walk_order_with_their_factors() -> None:
    log = Log()
    check_program(parse(HEADER + textwrap.dedent("""
        input xs: list[str] max 5
        r = fanout x in xs:
            v = vote 3:
                agent "is {x} ok?" -> bool
            v
        acc = none
        repeat max 2 as k:
            acc = agent "round {k} after {acc}"
    """), "t.wf"), observer=log)
    assert log.events == [
        ("repeated", "xs"), ("repeated", "3"), ("Agent", "1"), ("done",), ("Vote", "3"), ("done",),
        ("Fanout", "xs×3"),
        # the join rule's trial pass over the repeat body reports nothing
        # (round 1 starts with acc: str?, and leaves str: the rounds are walked one by one)
        ("rounds", "2"), ("round", 1), ("Agent", "1"), ("round", 2), ("Agent", "1"), ("done",),
        ("Repeat", "2"),
    ]


def test_wf_graph_does_not_reach_into_the_private_checker() -> None:
    tree = pyast.parse((ROOT / "wflang" / "graph.py").read_text(encoding="utf-8"))
    names = {a.name for n in pyast.walk(tree) if isinstance(n, pyast.ImportFrom) for a in n.names}
    assert "_Checker" not in names and "CheckObserver" in names
    assert not any(isinstance(n, pyast.ClassDef) and any(getattr(b, "id", "") == "_Checker" for b in n.bases)
                   for n in pyast.walk(tree))


def test_graph_counts_are_not_doubled_by_the_trial_pass() -> None:
    loaded = load("t.wf", HEADER + textwrap.dedent("""
        input xs: list[str] max 4
        acc = none
        repeat max 3 as r:
            got = fanout x in xs:
                agent "try {x} {r}"
            acc = got if acc == none else acc + got
        return acc
    """))
    counts = {type(n).__name__: c for n, c in construct_counts(loaded).items()}
    assert counts == {"Agent": 12, "Fanout": 12, "Repeat": 12} and loaded.result.bound.total == 12
