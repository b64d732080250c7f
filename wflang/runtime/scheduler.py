"""Every agent a run starts goes through `Scheduler.run_agent`.

It owns the run's limits and its books:
- concurrency: a `trio.CapacityLimiter` (default 16, `--concurrency`, the workflow's
  `budget concurrency`), FIFO, so agents start in the order they were asked for;
- the caps: 1,000 agents per run, 4,096 items per fan-out (`check_items`);
- the workflow's budget, enforced live: an agent asked for once `budget agents` agents
  were started, or once `budget output_tokens` were spent, or past the cap, is refused
  (journaled as failed) and ends the run (`RunStopped`), as Claude Code's budget and cap
  errors end the compiled script;
- the proven bound for the actual arguments: asking for more agents than it is a wflang
  bug and stops the run (`BoundExceeded`);
- the journal: each finished agent is committed before its result is handed back, and on
  `--resume` a finished agent with the same content key is taken from the journal;
- usage per agent, per phase and per run.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import trio

from wflang.runtime.backend import AgentFailure, AgentRequest, AgentResult, Backend, Usage
from wflang.runtime.progress import RunObserver

if TYPE_CHECKING:
    from wflang.runtime.journal import Journal

AGENT_CAP = 1000
ITEM_CAP = 4096
DEFAULT_CONCURRENCY = 16


class RunError(Exception):
    """The run cannot go on (too many items, a bad value the checker could not rule out,
    a child workflow that does not load). The message is for the user, as is."""


class RunStopped(RunError):
    """The run reached the agent cap or spent its budget: it ends, as the compiled script
    ends in Claude Code (an ordinary agent failure is None and the run goes on)."""


class BoundExceeded(RunError):
    """The run asked for more agents than its proven bound: a bug in the checker or the
    interpreter, never the workflow's fault."""


@dataclass
class Limits:
    concurrency: int = DEFAULT_CONCURRENCY
    agent_cap: int = AGENT_CAP
    item_cap: int = ITEM_CAP
    budget_agents: int | None = None
    budget_output_tokens: int | None = None
    # The proven worst case for the actual arguments; None: not checked (unit tests).
    bound: int | None = None


@dataclass
class AgentStat:
    label: str
    phase: str | None
    model: str | None
    status: str  # "done" | "failed" | "refused" (cap or budget: never started)
    usage: Usage
    seconds: float  # on the trio clock (simulated time under MockClock)
    cached: bool = False
    error: str | None = None


@dataclass
class PhaseStat:
    phase: str | None
    done: int = 0
    failed: int = 0
    cached: int = 0
    usage: Usage = field(default_factory=Usage)
    agent_seconds: float = 0.0


class Scheduler:
    def __init__(
        self,
        backend: Backend,
        workspace: Path | str = ".",
        limits: Limits | None = None,
        *,
        journal: Journal | None = None,
        run_id: str | None = None,
        resume: bool = False,
        permissions: frozenset[str] = frozenset(),
        observer: RunObserver | None = None,
    ) -> None:
        self.backend = backend
        self.workspace = Path(workspace)
        self.limits = limits or Limits()
        self.journal = journal
        self.run_id = run_id
        self.resume = resume
        self.permissions = permissions
        self.observer = observer or RunObserver()
        if journal is not None and run_id is None:
            raise ValueError("a journaled run needs its run id")
        self.limiter = trio.CapacityLimiter(max(1, self.limits.concurrency))
        self.requested = 0  # agents asked for, cached and refused ones included
        self.started = 0  # agents handed to the backend
        self.in_flight = 0
        self.max_in_flight = 0
        self.usage = Usage()
        self.agents: list[AgentStat] = []
        self.phases: dict[str | None, PhaseStat] = {}
        self._occurrence: dict[str, int] = defaultdict(int)
        self._noted: set[str] = set()

    # ------------------------------------------------------------ budget, as the workflow sees it

    @property
    def budget_total(self) -> int | None:
        return self.limits.budget_output_tokens

    def budget_remaining(self) -> int | None:
        total = self.limits.budget_output_tokens
        return None if total is None else max(0, total - self.usage.output_tokens)

    # ------------------------------------------------------------ limits on items and logs

    def check_items(self, n: int, what: str) -> None:
        if n > self.limits.item_cap:
            raise RunError(f"{what} has {n} items; one fan-out takes at most {self.limits.item_cap}")

    def log(self, phase: str | None, message: str) -> None:
        if self.journal is not None:
            assert self.run_id is not None
            self.journal.add_log(self.run_id, phase, message)
        self.observer.log(phase, message)

    def _note_once(self, key: str, message: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.observer.note(message)

    # ------------------------------------------------------------ agents

    def _phase(self, phase: str | None) -> PhaseStat:
        stat = self.phases.get(phase)
        if stat is None:
            stat = self.phases[phase] = PhaseStat(phase)
        return stat

    def _refusal(self, tokens_only: bool = False) -> str | None:
        """Why a new agent may not start now, or None. The counts of agents are checked
        when an agent is asked for; the tokens spent also when it gets its slot."""
        lim = self.limits
        if not tokens_only and self.requested > lim.agent_cap:
            self._note_once("cap", f"the run reached the cap of {lim.agent_cap} agents; the run stops")
            return f"the run reached the cap of {lim.agent_cap} agents"
        if not tokens_only and lim.budget_agents is not None and self.requested > lim.budget_agents:
            self._note_once("agents", f"the workflow's budget of {lim.budget_agents} agents is spent; "
                                      "the run stops")
            return f"the workflow's budget of {lim.budget_agents} agents is spent"
        if lim.budget_output_tokens is not None and self.usage.output_tokens >= lim.budget_output_tokens:
            self._note_once("tokens", f"the workflow's budget of {lim.budget_output_tokens} output tokens "
                                      "is spent; the run stops")
            return f"the workflow's budget of {lim.budget_output_tokens} output tokens is spent"
        return None

    async def run_agent(self, request: AgentRequest) -> AgentResult | None:
        """The agent's result, or None when it failed or may not run."""
        self.requested += 1
        bound = self.limits.bound
        if bound is not None and self.requested > bound:
            raise BoundExceeded(
                f"internal error: the run asked for agent {self.requested} ({request.label!r}), above its "
                f"proven bound of {bound} for these arguments. This is a wflang bug; please report it.")
        self.observer.agent_queued(request.phase, request.label)
        refusal = self._refusal()
        if refusal is not None:
            self._refuse(request, refusal)
        key = None
        if self.journal is not None:
            from wflang.runtime.journal import content_key

            key = content_key(request)
            occurrence = self._occurrence[key]
            self._occurrence[key] += 1
            if self.resume:
                assert self.run_id is not None
                hit = self.journal.cached(self.run_id, key, occurrence)
                if hit is not None:
                    return self._from_journal(request, hit.as_result())
        async with self.limiter:
            # Live: tokens spent while this agent waited for a slot count too.
            refusal = self._refusal(tokens_only=True)
            if refusal is not None:
                self._refuse(request, refusal, key)
            return await self._call(request, key)

    async def _call(self, request: AgentRequest, key: str | None) -> AgentResult | None:
        self.started += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.observer.agent_started(request.phase, request.label)
        wall0, t0 = time.time(), trio.current_time()
        result: AgentResult | None = None
        error: str | None = None
        spent: Usage | None = None
        try:
            try:
                result = await self.backend.run_agent(request, self.workspace)
                spent = result.usage
            except AgentFailure as exc:
                error = str(exc) or type(exc).__name__
                spent = getattr(exc, "usage", None)
            except Exception as exc:  # a broken backend fails this agent, not the run
                error = f"{type(exc).__name__}: {exc}"
            if result is not None and not isinstance(result, AgentResult):
                error, result = f"the backend returned {type(result).__name__}, not an AgentResult", None
        finally:
            self.in_flight -= 1
        seconds = trio.current_time() - t0
        spent = spent or Usage()
        status = "done" if result is not None else "failed"
        if self.journal is not None:
            assert self.run_id is not None and key is not None
            # Committed before the result is used: a run killed now resumes without this call.
            self.journal.record_agent(self.run_id, key, request, status, result, error, spent, wall0, time.time())
        self._account(request, status, spent, seconds, source="backend", error=error)
        return result

    def _from_journal(self, request: AgentRequest, result: AgentResult) -> AgentResult:
        self._account(request, "done", result.usage, 0.0, source="journal", error=None)
        return result

    def _refuse(self, request: AgentRequest, reason: str, key: str | None = None) -> NoReturn:
        if self.journal is not None:
            from wflang.runtime.journal import content_key

            assert self.run_id is not None
            now = time.time()
            self.journal.record_agent(self.run_id, key or content_key(request), request, "failed", None, reason,
                                      Usage(), now, now)
        self._account(request, "refused", Usage(), 0.0, source="refused", error=reason)
        raise RunStopped(f"the run stopped: {reason} ({request.label!r} was not started)")

    def _account(self, request: AgentRequest, status: str, usage: Usage, seconds: float, *, source: str,
                 error: str | None) -> None:
        self.usage.add(usage)
        phase = self._phase(request.phase)
        phase.usage.add(usage)
        phase.agent_seconds += seconds
        if status == "done":
            phase.done += 1
        else:
            phase.failed += 1
        if source == "journal":
            phase.cached += 1
        self.agents.append(AgentStat(request.label, request.phase, request.model, status, usage, seconds,
                                     source == "journal", error))
        self.observer.agent_finished(request.phase, request.label, "done" if status == "done" else "failed",
                                     usage, error, source)
