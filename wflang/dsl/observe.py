"""The checker's public observer seam: what a reader of the checked tree (`wf graph`) may
watch while the checker walks a program, without reaching into the checker itself.

`check_program(program, observer=...)` calls these hooks in walk order. The checker
walks a loop body once per repetition *kind*, not per repetition, so an observer that
wants whole-run counts multiplies by the factors it is told about:

- `repeated(times)` ... `done()`: the code walked in between runs `times` times for each
  run of the code around it (a fan-out body: the list's max; a review body: items ×
  reviewers; a vote body: the voters; a tournament body: the matches; a fix's check: K+1).
- `rounds(k)` ... `done()`: a `repeat`/`fix` body of at most k rounds; `round(r)` starts
  each walk of the body. The checker walks it once when every round costs the same, or
  once per round when list sizes grow (then round r runs only when k reaches r).
- `construct(e, agents)`: an agent-starting construct (agent, check, fanout, for, review,
  vote, tournament, repeat, fix, run) was checked: `agents` is its worst case for one run
  of the code around it.

Nothing is reported during the checker's silent trial passes (the join rule of loops).
"""

from __future__ import annotations

from wflang.dsl import ast
from wflang.dsl.sizes import Sym


class CheckObserver:
    """Every hook does nothing: subclass and override what you need."""

    def repeated(self, times: Sym) -> None:
        pass

    def rounds(self, k: Sym) -> None:
        pass

    def round(self, r: int) -> None:
        pass

    def done(self) -> None:
        """Ends the innermost `repeated` or `rounds`."""

    def construct(self, e: ast.Expr, agents: Sym) -> None:
        pass


NULL_OBSERVER = CheckObserver()
