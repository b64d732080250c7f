"""The proven worst case: agent (and output-token) counts per phase and in total, each
term traced to the construct and line that produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wflang.dsl.sizes import ZERO, Knob, Sym, add, smax

AGENT_CAP = 1000
ITEM_CAP = 4096
CONCURRENCY_CAP = 16


@dataclass
class Term:
    """One agent-starting statement: `agents` worst-case agents, described by `desc`."""

    phase: str | None
    line: int
    desc: str
    agents: Sym  # the paths that go on after the statement
    tokens: Sym | None  # worst-case output tokens; None when some agent has no max_output_tokens
    # The paths that `return` inside it (an early exit), counted from its start; None if none can.
    exit: Sym | None = None
    # A top-level `if` holding phase blocks: its worst case in each phase (None: outside
    # any), and the terms of its branches' statements (for the per-phase listing).
    per_phase: dict[str | None, Sym] | None = None
    parts: list[Term] = field(default_factory=list)

    @property
    def worst(self) -> Sym:
        return self.agents if self.exit is None else smax(self.agents, self.exit)

    def shown(self) -> list[Term]:
        """The terms a per-phase listing shows: an `if` holding phases by its parts."""
        if self.per_phase is None:
            return [self]
        return [x for p in self.parts for x in p.shown()]


@dataclass
class InputSize:
    name: str
    max: int
    kind: str  # "list" | "int"
    line: int


@dataclass
class Bound:
    terms: list[Term]
    inputs: list[InputSize]
    agent_budget: int | None = None
    token_budget: int | None = None
    phase_order: list[str] = field(default_factory=list)
    # The same proof counting only tool-less agents (`tools=none`), which `wf run --batch`
    # sends through the Message Batches API; None when the program has none.
    batchable: Bound | None = None

    @property
    def worst_env(self) -> dict[str, int]:
        return {i.name: i.max for i in self.inputs}

    @property
    def agents(self) -> Sym:
        """The sum of the terms; with early exits, the larger of that and each exit path
        (the terms before it, then the paths that return inside it)."""
        total = add(*(t.agents for t in self.terms))
        exits = self.exits()
        return smax(total, *exits) if exits else total

    def exits(self) -> list[Sym]:
        out: list[Sym] = []
        before: list[Sym] = []
        for t in self.terms:
            if t.exit is not None:
                out.append(add(*before, t.exit))
            before.append(t.agents)
        return out

    def shown_terms(self) -> list[Term]:
        return [x for t in self.terms for x in t.shown()]

    @property
    def tokens(self) -> Sym | None:
        if any(t.tokens is None for t in self.terms):
            return None
        return add(*(t.tokens for t in self.terms if t.tokens is not None))

    @property
    def total(self) -> int:
        return self.evaluate(self.worst_env)

    def evaluate(self, sizes: dict[str, int]) -> int:
        """The bound for actual sizes: lengths of list inputs, values of int inputs; an
        input not given takes its declared maximum."""
        env = {**self.worst_env, **sizes}
        return self.agents.eval(env)

    def tokens_for(self, sizes: dict[str, int] | None = None) -> int | None:
        tok = self.tokens
        if tok is None:
            return None
        return tok.eval({**self.worst_env, **(sizes or {})})

    def phases(self, sizes: dict[str, int] | None = None) -> list[tuple[str, int]]:
        """(title, worst-case agents) per phase, in source order; agents outside any phase
        are listed under "(top level)"."""
        env = {**self.worst_env, **(sizes or {})}
        out: dict[str, int] = {}
        for title in self.phase_order:
            out[title] = 0
        exits: dict[str, int] = {}  # per phase, the worst run that leaves early in it
        for t in self.terms:
            if t.per_phase is None and t.exit is not None:
                key = t.phase if t.phase is not None else "(top level)"
                exits[key] = max(exits.get(key, 0), out.get(key, 0) + t.exit.eval(env))
            for phase, n in (t.per_phase or {t.phase: t.agents}).items():
                key = phase if phase is not None else "(top level)"
                out[key] = out.get(key, 0) + n.eval(env)
        return [(k, max(n, exits.get(k, 0))) for k, n in out.items()]

    def formula(self) -> str:
        """Symbolic, over the input names: `files + min(files×5, 60)×3 + 7`."""
        return self._formula(None)

    def numeric_formula(self, sizes: dict[str, int] | None = None) -> str:
        return self._formula({**self.worst_env, **(sizes or {})})

    def _formula(self, env: dict[str, int] | None) -> str:
        text = " + ".join(_term(t.agents.show(env)) for t in self.terms) if self.terms else "0"
        exits = self.exits()
        if not exits:
            return text
        # a term that only leaves early adds nothing to the run that goes on
        going = [t for t in self.terms if t.agents != ZERO]
        text = " + ".join(_term(t.agents.show(env)) for t in going) if going else "0"
        # an early `return`: the run that goes on, or one that leaves at an exit
        return "max(" + ", ".join([text, *(x.show(env) for x in exits)]) + ")"

    def knobs(self) -> list[Knob]:
        seen: dict[tuple[str, int, int], Knob] = {}
        for t in self.terms:
            for k in t.agents.knobs():
                seen.setdefault((k.what, k.span.line, k.span.col), k)
        return list(seen.values())

    def as_json(self, sizes: dict[str, int] | None = None) -> dict[str, Any]:
        env = {**self.worst_env, **(sizes or {})}
        return {
            "total": self.agents.eval(env),
            "formula": self.formula(),
            "numeric": self.numeric_formula(sizes),
            "output_tokens": self.tokens_for(sizes),
            "phases": [{"phase": p, "agents": n} for p, n in self.phases(sizes)],
            "terms": [{"phase": t.phase, "line": t.line, "agents": t.agents.eval(env),
                       "formula": t.agents.show(), "derivation": t.desc} for t in self.terms],
            "inputs": {i.name: {"max": i.max, "kind": i.kind} for i in self.inputs},
            "cap": AGENT_CAP,
            "budget": {"agents": self.agent_budget, "output_tokens": self.token_budget},
            **({"batchable": self.batchable_json(sizes)} if self.batchable is not None else {}),
        }

    def batchable_for(self, sizes: dict[str, int] | None = None) -> int:
        """Worst-case tool-less agents for these sizes (0 when there are none)."""
        return self.batchable.evaluate(sizes or {}) if self.batchable is not None else 0

    def batchable_phases(self, sizes: dict[str, int] | None = None) -> dict[str, int]:
        if self.batchable is None:
            return {}
        return dict(self.batchable.phases(sizes))

    def batchable_json(self, sizes: dict[str, int] | None = None) -> dict[str, Any]:
        b = self.batchable
        assert b is not None
        return {"total": b.evaluate({**self.worst_env, **(sizes or {})}), "formula": b.formula(),
                "phases": [{"phase": p, "agents": n} for p, n in b.phases(sizes)]}


def _term(text: str) -> str:
    """A term of a sum; a term that is itself a sum (an `if`) keeps its parentheses."""
    return f"({text})" if " + " in text and not text.startswith("(") else text
