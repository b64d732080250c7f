"""Every agent a run starts goes through `Scheduler.run_agent`.

It owns the run's limits and its books:
- concurrency: `OrderedSlots` (default 16, `--concurrency`, the workflow's `budget
  concurrency`), FIFO, and agents asked for in the same moment start in program order
  (item order), so a run's start order and makespan do not vary between runs;
- the caps: 1,000 agents per run, 4,096 items per fan-out (`check_items`);
- the workflow's budget, enforced live: an agent asked for once `budget agents` agents
  were started, or once `budget output_tokens` were spent, or past the cap, is refused
  (journaled as failed) and ends the run (`RunStopped`), as Claude Code's budget and cap
  errors end the compiled script;
- the proven bound for the actual arguments: asking for more agents than it is a wflang
  bug and stops the run (`BoundExceeded`);
- the journal: each finished agent is committed before its result is handed back, off
  the event loop and together with the agents that finished in the same moment
  (`GroupCommit`); on `--resume` a finished agent with the same content key is taken from
  the journal, whatever else changed in the workflow or its arguments;
- usage per agent, per phase and per run.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import trio

from wflang.dsl.agent_types import Spawns
from wflang.dsl.guard import guard_message
from wflang.runtime.backend import (
    AgentFailure,
    AgentRequest,
    AgentResult,
    AuthenticationFailure,
    Backend,
    Usage,
)
from wflang.runtime.progress import RunObserver
from wflang.runtime.slots import OrderedSlots

if TYPE_CHECKING:
    from wflang.runtime.journal import AgentRecord, Journal

AGENT_CAP = 1000
ITEM_CAP = 4096
DEFAULT_CONCURRENCY = 16


class RunError(Exception):
    """The run cannot go on (too many items, a bad value the checker could not rule out,
    a child workflow that does not load). The message is for the user, as is."""


class RunFailed(RunError):
    """A `fail MESSAGE` statement ran: the workflow ended its run as failed on purpose.
    The message is the workflow's own text, as is (the compiled script throws it)."""


class RunStopped(RunError):
    """The run reached the agent cap or spent its budget: it ends, as the compiled script
    ends in Claude Code (an ordinary agent failure is None and the run goes on)."""


class BoundExceeded(RunError):
    """The run asked for more agents than its proven bound: a bug in the checker or the
    interpreter, never the workflow's fault (the live guard; wflang/dsl/guard.py)."""

    def __init__(self, message: str, n: int = 0, bound: int = 0, label: str = "") -> None:
        super().__init__(message)
        self.n, self.bound, self.label = n, bound, label


# Limits, AgentStat and PhaseStat are plain classes with slots, not dataclasses: a
# dataclass costs some 3 M instructions to make at import (and AgentStat is made per agent).


class Limits:
    __slots__ = ("concurrency", "agent_cap", "item_cap", "budget_agents", "budget_output_tokens", "bound")

    def __init__(self, concurrency: int = DEFAULT_CONCURRENCY, agent_cap: int = AGENT_CAP, item_cap: int = ITEM_CAP,
                 budget_agents: int | None = None, budget_output_tokens: int | None = None,
                 bound: int | None = None) -> None:
        self.concurrency = concurrency
        self.agent_cap = agent_cap
        self.item_cap = item_cap
        self.budget_agents = budget_agents
        self.budget_output_tokens = budget_output_tokens
        # The proven worst case for the actual arguments; None: not checked (unit tests).
        self.bound = bound


class AgentStat:
    __slots__ = ("label", "phase", "model", "status", "usage", "seconds", "cached", "error")

    def __init__(self, label: str, phase: str | None, model: str | None, status: str, usage: Usage,
                 seconds: float, cached: bool = False, error: str | None = None) -> None:
        self.label = label
        self.phase = phase
        self.model = model
        self.status = status  # "done" | "failed" | "refused" (cap or budget: never started)
        self.usage = usage
        self.seconds = seconds  # on the trio clock (simulated time under MockClock)
        self.cached = cached
        self.error = error


class PhaseStat:
    __slots__ = ("phase", "done", "failed", "cached", "usage", "agent_seconds")

    def __init__(self, phase: str | None) -> None:
        self.phase = phase
        self.done = 0
        self.failed = 0
        self.cached = 0
        self.usage = Usage()
        self.agent_seconds = 0.0


def _keyed(request: AgentRequest, key: str, occurrence: int) -> AgentRequest:
    """`replace(request, journal_key=key, occurrence=occurrence)` at a tenth of its cost
    (once per agent; AgentRequest is a frozen dataclass without __post_init__)."""
    keyed = object.__new__(AgentRequest)
    keyed.__dict__.update(request.__dict__, journal_key=key, occurrence=occurrence)
    return keyed


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
        self.spawns = Spawns(self.workspace)  # agent types and worktree isolation, as Claude Code
        if journal is not None and run_id is None:
            raise ValueError("a journaled run needs its run id")
        self.limiter = OrderedSlots(max(1, self.limits.concurrency))
        self.requested = 0  # agents asked for, cached and refused ones included
        self.started = 0  # agents handed to the backend
        self.in_flight = 0
        self.admitted = 0  # agents past the caps' check that have not finished yet
        self.max_in_flight = 0
        self.usage = Usage()
        self.agents: list[AgentStat] = []
        self.phases: dict[str | None, PhaseStat] = {}
        self._occurrence: dict[str, int] = defaultdict(int)
        self._noted: set[str] = set()
        # On --resume: how many finished copies of each content key the run has, and its
        # journaled agents by label, to say why an agent runs fresh.
        self._done_copies: dict[str, int] = defaultdict(int)
        self._by_label: dict[str, AgentRecord] = {}
        self.served = 0  # agents answered from the journal
        self.fresh = 0  # agents of a resumed run that were not in it
        self.first_fresh: tuple[str, str] | None = None  # (label, why) of the first one
        self._first_turn = -1
        # The first authentication error (a bad key): it ends the run, as every later
        # agent would fail the same way.
        self.auth_failure: str | None = None
        self._commits = None
        # The backend's batching test, looked up once (not per agent).
        self._batches: Callable[[AgentRequest], bool] | None = getattr(backend, "batches", None)
        if journal is not None:
            from wflang.runtime.group_commit import GroupCommit
            from wflang.runtime.journal import agent_row, content_key

            assert run_id is not None
            self._commits = GroupCommit(journal, run_id)
            # Imported here (a run without a journal loads no sqlite3), kept for every agent.
            self._content_key = content_key
            self._agent_row = agent_row
            if resume:
                self._load_resume_cache()

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
        if self._commits is not None:
            self._commits.log(phase, message)  # written with the next group of agents
        self.observer.log(phase, message)

    def flush_journal(self) -> None:
        """Write what the journal still holds back (log lines); call after the run."""
        if self._commits is not None:
            self._commits.flush()

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
        if self.auth_failure is not None:
            raise self._auth_stop()
        self.requested += 1
        bound = self.limits.bound
        if bound is not None and self.requested > bound:
            # Never started: the interpreter adds where the agent is (guard.agent_sites).
            raise BoundExceeded(guard_message(self.requested, request.label, "where the run asked for it", bound),
                                self.requested, bound, request.label)
        self.observer.agent_queued(request.phase, request.label)
        refusal = self._refusal()
        if refusal is not None:
            await self._refuse(request, refusal)
        self.admitted += 1
        try:
            return await self._admitted(request)
        finally:
            self.admitted -= 1

    async def _admitted(self, request: AgentRequest) -> AgentResult | None:
        """An agent that passed the caps when it was asked for: from the journal, or run."""
        key = None
        fresh = False
        if self.journal is not None:
            key = self._content_key(request)
            occurrence = self._occurrence[key]
            self._occurrence[key] += 1
            if self.resume:
                assert self.run_id is not None
                # Read (and checked against its schema) by the journal, one row per hit.
                hit = self.journal.cached(self.run_id, key, occurrence)
                if hit is not None:
                    return self._from_journal(request, hit.as_result())
                fresh = True
            request = _keyed(request, key, occurrence)
        batched = self._batches
        if batched is not None and batched(request):
            # A batched agent waits in a batch, not in a slot: the concurrency limit is for
            # the live conversations (one batch holds up to 100,000 requests).
            if fresh:
                assert key is not None
                self._note_fresh(request, key, occurrence, self.requested)
            return await self._finish(request, key, *await self._call(request))
        turn = await self.limiter.acquire(request.order)
        try:
            if self.auth_failure is not None:  # refused while this agent waited: never started
                raise self._auth_stop()
            if fresh:  # "the first" is the first to get a slot: the same on every resume
                assert key is not None
                self._note_fresh(request, key, occurrence, turn)
            # Live: tokens spent while this agent waited for a slot count too.
            refusal = self._refusal(tokens_only=True)
            if refusal is None:
                call = await self._call(request)
        finally:
            self.limiter.release()  # the agent has finished: its slot is free while it is journaled
        if refusal is not None:
            await self._refuse(request, refusal, key, admitted=True)
        return await self._finish(request, key, *call)

    async def _call(self, request: AgentRequest) -> tuple[AgentResult | None, str | None, Usage, float, float]:
        """Ask the backend: (result or None, error, usage spent, wall-clock start, trio seconds)."""
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
                # What Claude Code refuses before the subagent starts fails it here too, in its
                # words; a built-in type narrows the tools (Explore and Plan never edit).
                if request.agent_type is not None or request.isolation is not None:  # else nothing to check
                    problem = self.spawns.problem(request.agent_type, request.isolation)
                    if problem is not None:
                        raise AgentFailure(problem)
                    narrowed = self.spawns.narrowed(request.agent_type, request.permissions)
                    if narrowed != request.permissions:
                        request = replace(request, permissions=narrowed)
                result = await self.backend.run_agent(request, self.workspace)
                spent = result.usage
            except AuthenticationFailure as exc:
                error = str(exc) or type(exc).__name__
                spent = getattr(exc, "usage", None)
                if self.auth_failure is None:
                    self.auth_failure = error
            except AgentFailure as exc:
                error = str(exc) or type(exc).__name__
                spent = getattr(exc, "usage", None)
            except Exception as exc:  # a broken backend fails this agent, not the run
                error = f"{type(exc).__name__}: {exc}"
            if result is not None and not isinstance(result, AgentResult):
                error, result = f"the backend returned {type(result).__name__}, not an AgentResult", None
        finally:
            self.in_flight -= 1
        return result, error, spent or Usage(), wall0, trio.current_time() - t0

    async def _finish(self, request: AgentRequest, key: str | None, result: AgentResult | None,
                      error: str | None, spent: Usage, wall0: float, seconds: float) -> AgentResult | None:
        status = "done" if result is not None else "failed"
        # The books first (the token budget of agents now getting a slot sees this spend),
        self._account(request, status, spent, seconds, source="backend", error=error)
        if self._commits is not None:
            assert self.run_id is not None and key is not None
            # then the journal: committed before the result is used, so a run killed now
            # resumes without this call.
            await self._commits.commit(self._agent_row(self.run_id, key, request, status, result, error, spent,
                                                       wall0, time.time()))
        if error is not None and self.auth_failure is not None:
            raise self._auth_stop()  # journaled first: the resume knows this agent failed
        return result

    def _auth_stop(self) -> RunStopped:
        self._note_once("auth", "the API refused the credentials; the run stops")
        return RunStopped(f"the run stopped at the first authentication error (every later agent would fail "
                          f"the same way): {self.auth_failure}")

    def _from_journal(self, request: AgentRequest, result: AgentResult) -> AgentResult:
        self.served += 1
        self._account(request, "done", result.usage, 0.0, source="journal", error=None)
        return result

    async def _refuse(self, request: AgentRequest, reason: str, key: str | None = None, *,
                      admitted: bool = False) -> NoReturn:
        """Journal the refused agent as failed, then stop the run, once the agents already
        admitted have finished and are journaled (as Claude Code lets in-flight agents
        complete): no new agent is admitted after a refusal, as the caps only fill up."""
        if admitted:
            self.admitted -= 1  # this one will not run: only wait for the others
        while self.admitted > 0:
            await trio.sleep(0.01)
        if admitted:
            self.admitted += 1  # run_agent's `finally` takes it off again
        self._account(request, "refused", Usage(), 0.0, source="refused", error=reason)
        if self._commits is not None:
            from wflang.runtime.journal import agent_row, content_key

            assert self.run_id is not None
            now = time.time()
            await self._commits.commit(agent_row(self.run_id, key or content_key(request), request, "failed", None,
                                                 reason, Usage(), now, now))
        raise RunStopped(f"the run stopped: {reason} ({request.label!r} was not started)")

    # ------------------------------------------------------------ resume

    def _load_resume_cache(self) -> None:
        assert self.journal is not None and self.run_id is not None
        for a in self.journal.get_run(self.run_id).agents:
            if a.status == "done":
                self._done_copies[a.key] += 1
            previous = self._by_label.get(a.label)
            if previous is None or previous.status != "done" or a.status == "done":
                self._by_label[a.label] = a  # the latest answer under the label, done ones first

    def _note_fresh(self, request: AgentRequest, key: str, occurrence: int, turn: int) -> None:
        self.fresh += 1
        if self.first_fresh is None or turn < self._first_turn:
            self._first_turn = turn
            self.first_fresh = (request.label, self._why_fresh(request, key, occurrence))

    def _why_fresh(self, request: AgentRequest, key: str, occurrence: int) -> str:
        """Why the journal has no answer for this agent, as a user would put it."""
        from wflang.runtime.journal import scrub

        before = self._by_label.get(request.label)
        if self._done_copies.get(key):
            return f"the journal has {self._done_copies[key]} answer(s) to this very request, all used before it"
        if before is None:
            return "the journal has no agent with this label (a new agent, or the earlier run did not reach it)"
        if before.key == key:
            return f"it failed in the earlier run ({before.error or 'no answer'})"
        changed = [what for what, old, new in (
            ("prompt", before.prompt, scrub(request.prompt)),
            ("result type", before.schema, request.schema),
            ("model", before.model, request.model),
            ("effort", before.effort, request.effort),
            ("agent type", before.agent_type, request.agent_type),
            ("isolation", before.isolation, request.isolation),
            ("copy index", before.sample_index, request.sample_index),
        ) if old != new]
        if not changed:
            return "its request changed"
        return "its " + " and ".join(changed) + " changed"

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
