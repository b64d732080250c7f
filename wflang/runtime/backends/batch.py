"""`wf run --batch`: tool-less agents through the Message Batches API, the rest live.

A tool-less agent (`tools=none`) runs the same turn loop as a live one (the anthropic
backend's, with its structured-output tool and repair turns), but each turn is one request
of a message batch instead of a Messages API call. Requests that become ready together (a
fan-out, a review, a vote) are collected for a short window and submitted as one batch,
split at the API's limits (100,000 requests or 256 MB). Each request's `custom_id` is the
agent's journal content key (a hash of it for later turns and repeated copies: the API
takes at most 64 characters of `[A-Za-z0-9_-]`).

Durability: the batch id and its custom_ids are committed to the journal as soon as the API
has accepted the batch, before the run waits on it; a resumed run finds each request's batch
there and collects it, so nothing is submitted twice. Ctrl-C cancels the batches in flight.

Failures follow the live rules: an `errored` request whose error is transient (api_error,
overloaded, rate limit, timeout) or an `expired` one is submitted again, with the live
backoff, up to the same number of attempts; any other error fails the agent at once.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from wflang.runtime.backend import AgentFailure, AgentRequest, AgentResult
from wflang.runtime.backends.anthropic import (
    AnthropicBackend,
    _MalformedReply,
    _parse_reply,
    _Reply,
    _retryable_status,
)

if TYPE_CHECKING:
    from wflang.runtime.journal import Journal
    from wflang.runtime.progress import RunObserver

# The API's limits per batch (docs: "100,000 Message requests or 256 MB in size").
MAX_REQUESTS = 100_000
MAX_BYTES = 256_000_000
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Errors of a batch request that a later submission may not repeat (the live backend
# retries their HTTP counterparts: 5xx, 529, 429, 408); any other error is final.
TRANSIENT_ERRORS = frozenset({"api_error", "overloaded_error", "rate_limit_error", "timeout_error"})

Outcome = tuple[str, Any]  # ("succeeded", message) | ("errored", error) | ("expired"|"canceled", None) | ("failed", text)


@dataclass(frozen=True)
class BatchLimits:
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES
    # A batch closes when no new request came for `window` seconds, or `max_window` after
    # its first request: agents started by one construct arrive within milliseconds.
    window: float = 0.25
    max_window: float = 2.0
    # Polling: the first wait, doubled after each poll up to the cap.
    poll_first: float = 1.0
    poll_max: float = 60.0
    cancel_timeout: float = 10.0


def custom_id(key: str, occurrence: int, turn: int) -> str:
    """The request's name in its batch: the content key itself for the first turn of the
    first copy, else a hash of (key, copy, turn); always 64 characters of [0-9a-f]."""
    if occurrence == 0 and turn == 1 and _CUSTOM_ID.match(key):
        return key
    return hashlib.sha256(f"{key}/{occurrence}/{turn}".encode()).hexdigest()


@dataclass
class _Waiter:
    custom_id: str
    params: dict[str, Any]
    size: int
    event: trio.Event = field(default_factory=trio.Event)
    outcome: Outcome = ("failed", "no result")

    def settle(self, outcome: Outcome) -> None:
        if not self.event.is_set():
            self.outcome = outcome
            self.event.set()


@dataclass
class BatchStats:
    submitted: list[tuple[str, int]] = field(default_factory=list)  # (batch id, requests), this process
    collected: list[str] = field(default_factory=list)  # batches whose results were read
    canceled: list[str] = field(default_factory=list)


def split(waiters: list[_Waiter], max_requests: int, max_bytes: int) -> list[list[_Waiter]]:
    """Consecutive chunks within both limits (the JSON envelope counted generously)."""
    chunks: list[list[_Waiter]] = []
    current: list[_Waiter] = []
    size = 0
    for w in waiters:
        if current and (len(current) >= max_requests or size + w.size > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(w)
        size += w.size
    if current:
        chunks.append(current)
    return chunks


class BatchBackend:
    """A `Backend` that sends tool-less agents through message batches and every other
    agent to `live`. Use `async with backend.session():` around the run (it owns the tasks
    that submit and poll batches) and `attach` the run's journal before it."""

    def __init__(self, live: AnthropicBackend, limits: BatchLimits | None = None,
                 sleep: Callable[[float], Awaitable[object]] | None = None,
                 rng: random.Random | None = None) -> None:
        self.live = live
        self.limits = limits or BatchLimits()
        self._client = live._client
        self._anthropic = live._anthropic
        self._sleep = sleep or trio.sleep
        self._rng = rng or random.Random()
        self._journal: Journal | None = None
        self._run_id: str | None = None
        self._observer: RunObserver | None = None
        self._nursery: trio.Nursery | None = None
        self._pending: list[_Waiter] = []
        self._last_arrival = 0.0
        self._window_open = False
        self._waiting: dict[str, dict[str, list[_Waiter]]] = {}  # batch id -> custom_id -> waiters
        self._results: dict[str, dict[str, Outcome]] = {}  # ended batches
        self._open: set[str] = set()  # batches not yet ended
        self.stats = BatchStats()

    # ------------------------------------------------------------ wiring

    def attach(self, journal: Journal | None, run_id: str | None, observer: RunObserver | None = None) -> None:
        self._journal, self._run_id, self._observer = journal, run_id, observer

    def batches(self, request: AgentRequest) -> bool:
        """Whether this agent goes into a batch (the scheduler then gives it no live slot)."""
        return request.toolless

    async def aclose(self) -> None:
        await self.live.aclose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[BatchBackend]:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    yield self
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            if self._open:
                await self._cancel_open()

    async def _cancel_open(self) -> None:
        """Ctrl-C (or a failed run): cancel the batches still in flight; their finished
        requests stay collectable, the rest come back `canceled` and are submitted anew
        by a resumed run."""
        with trio.CancelScope(shield=True):
            for bid in sorted(self._open):
                with trio.move_on_after(self.limits.cancel_timeout):
                    try:
                        await self._client.messages.batches.cancel(bid)
                        self.stats.canceled.append(bid)
                        self._note(f"batch {bid}: canceled")
                    except self._anthropic.AnthropicError as exc:
                        self._note(f"batch {bid}: could not cancel it ({self.live._redact(str(exc))[:200]})")
            self._open.clear()

    def _note(self, message: str) -> None:
        if self._observer is not None:
            self._observer.note(message)

    def _progress(self, bid: str, status: str, counts: dict[str, int]) -> None:
        if self._observer is not None:
            self._observer.batch(bid, status, counts)

    # ------------------------------------------------------------ agents

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        if not request.toolless:
            return await self.live.run_agent(request, workspace)
        if self._nursery is None:
            raise AgentFailure("internal error: a batched agent outside a batch session (use `async with "
                               "backend.session()`)")
        from wflang.runtime.journal import content_key

        key = request.journal_key or content_key(request)

        async def turn(params: dict[str, Any], n: int) -> _Reply:
            return await self._turn(custom_id(key, request.occurrence, n), params)

        return await self.live.run_agent(request, workspace, create=turn)

    async def _turn(self, cid: str, params: dict[str, Any]) -> _Reply:
        """One turn as a batch request, resubmitted under the live retry rules."""
        policy = self.live._retry
        last = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            kind, payload = await self._outcome(cid, params, reuse=attempt == 1)
            if kind == "succeeded":
                try:
                    return _parse_reply(json.dumps(payload))
                except _MalformedReply as exc:
                    last = f"malformed batch result: {exc}"
            elif kind == "errored":
                etype, message = _error_of(payload)
                last = f"the batch request errored: {etype}: {message}"
                if etype not in TRANSIENT_ERRORS:
                    raise self.live._fail(last)
            elif kind == "expired":
                last = "the batch request expired (the batch ended, after up to 24 hours, before it ran)"
            elif kind == "canceled":
                last = "the batch was canceled before this request ran"
            else:
                raise self.live._fail(str(payload))
            if attempt < policy.max_attempts:
                await self._sleep(policy.backoff(attempt, self._rng))
        raise self.live._fail(f"batch request failed after {policy.max_attempts} attempts: {last}")

    async def _outcome(self, cid: str, params: dict[str, Any], reuse: bool) -> Outcome:
        """The result of `cid`: from the batch the journal says it is in (a resumed run's
        first attempt), or from a new submission."""
        if reuse and self._journal is not None and self._run_id is not None:
            bid = self._journal.batch_of(self._run_id, cid)
            if bid is not None:
                return await self._collect(bid, cid, params)
        w = _Waiter(cid, params, len(json.dumps({"custom_id": cid, "params": params})) + 64)
        if w.size > self.limits.max_bytes:
            return ("failed", f"the request is {w.size:,} bytes; a message batch takes at most "
                              f"{self.limits.max_bytes:,}")
        self._pending.append(w)
        self._last_arrival = trio.current_time()
        if not self._window_open:
            self._window_open = True
            assert self._nursery is not None
            self._nursery.start_soon(self._close_window)
        await w.event.wait()
        return w.outcome

    async def _collect(self, bid: str, cid: str, params: dict[str, Any]) -> Outcome:
        done = self._results.get(bid)
        if done is not None:
            return done.get(cid, ("canceled", None))
        w = _Waiter(cid, params, 0)
        first = bid not in self._waiting
        self._waiting.setdefault(bid, {}).setdefault(cid, []).append(w)
        if first:
            self._open.add(bid)
            self._note(f"batch {bid}: collecting it (submitted before the run was resumed)")
            assert self._nursery is not None
            self._nursery.start_soon(self._poll, bid)
        await w.event.wait()
        return w.outcome

    # ------------------------------------------------------------ submitting

    async def _close_window(self) -> None:
        first = trio.current_time()
        lim = self.limits
        while True:
            await trio.sleep(lim.window)
            now = trio.current_time()
            if now - self._last_arrival >= lim.window or now - first >= lim.max_window:
                break
        ready, self._pending = self._pending, []
        self._window_open = False
        for chunk in split(ready, lim.max_requests, lim.max_bytes):
            await self._submit(chunk)

    async def _submit(self, chunk: list[_Waiter]) -> None:
        requests = [{"custom_id": w.custom_id, "params": w.params} for w in chunk]
        try:
            batch = await self._api("submit a message batch",
                                    lambda: self._client.messages.batches.create(requests=requests))
        except AgentFailure as exc:
            for w in chunk:
                w.settle(("failed", str(exc)))
            return
        bid = batch.id
        self._open.add(bid)
        if self._journal is not None and self._run_id is not None:
            # Before waiting: a run killed from here on collects this batch when resumed.
            self._journal.record_batch(self._run_id, bid, [w.custom_id for w in chunk])
        self.stats.submitted.append((bid, len(chunk)))
        waiting = self._waiting.setdefault(bid, {})
        for w in chunk:
            waiting.setdefault(w.custom_id, []).append(w)
        self._note(f"batch {bid}: submitted {len(chunk)} requests")
        assert self._nursery is not None
        self._nursery.start_soon(self._poll, bid)

    async def _api(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """One batch-endpoint call with the live backend's retry policy for transient errors."""
        anthropic = self._anthropic
        policy = self.live._retry
        last = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return await call()
            except anthropic.APIStatusError as exc:
                last = self.live._describe_status(exc).replace("Messages API", "Message Batches API")
                if not _retryable_status(exc.status_code):
                    raise self.live._fail(f"could not {what}: {last}") from None
            except anthropic.APIConnectionError as exc:  # includes timeouts
                last = f"connection error: {exc.__cause__ or exc}"
            except anthropic.AnthropicError as exc:
                raise self.live._fail(f"could not {what}: {exc}") from None
            if attempt < policy.max_attempts:
                await self._sleep(policy.backoff(attempt, self._rng))
        raise self.live._fail(f"could not {what} after {policy.max_attempts} attempts: {last}")

    # ------------------------------------------------------------ polling and results

    async def _poll(self, bid: str) -> None:
        delay = self.limits.poll_first
        try:
            while True:
                batch = await self._api(f"read batch {bid}",
                                        lambda: self._client.messages.batches.retrieve(bid))
                counts = _counts(batch)
                self._progress(bid, batch.processing_status, counts)
                if batch.processing_status == "ended":
                    break
                await trio.sleep(delay)
                delay = min(delay * 2, self.limits.poll_max)
            outcomes = await self._read_results(bid)
        except AgentFailure as exc:
            # Not resubmitted: the batch may still finish, and a resumed run collects it.
            self._settle(bid, None, f"{exc}; the batch is in the journal: resume the run to collect it")
            return
        self._open.discard(bid)
        self._results[bid] = outcomes
        self.stats.collected.append(bid)
        self._settle(bid, outcomes, "")

    async def _read_results(self, bid: str) -> dict[str, Outcome]:
        async def read() -> dict[str, Outcome]:
            out: dict[str, Outcome] = {}
            async for entry in await self._client.messages.batches.results(bid):
                result = entry.result
                kind = getattr(result, "type", None)
                if kind == "succeeded":
                    out[entry.custom_id] = ("succeeded", result.message.model_dump(mode="json"))
                elif kind == "errored":
                    out[entry.custom_id] = ("errored", result.error.model_dump(mode="json"))
                elif kind in ("expired", "canceled"):
                    out[entry.custom_id] = (kind, None)
                else:
                    out[entry.custom_id] = ("failed", f"unknown batch result type {kind!r}")
            return out

        try:
            result: dict[str, Outcome] = await self._api(f"read the results of batch {bid}", read)
            return result
        except (ValueError, TypeError, KeyError) as exc:  # a results line the SDK cannot decode
            raise self.live._fail(f"the results of batch {bid} are malformed: {exc}") from None
        except RecursionError:  # the SDK's JSON-lines reader recurses once per nesting level
            raise self.live._fail(f"the results of batch {bid} are malformed: a result nests arrays and "
                                  "objects too deeply to be read") from None

    def _settle(self, bid: str, outcomes: dict[str, Outcome] | None, failure: str) -> None:
        for cid, waiters in self._waiting.pop(bid, {}).items():
            if outcomes is None:
                outcome: Outcome = ("failed", failure)
            else:
                outcome = outcomes.get(cid, ("canceled", None))  # absent: never processed
            for w in waiters:
                w.settle(outcome)


def _error_of(payload: Any) -> tuple[str, str]:
    """(type, message) of an errored result's ErrorResponse."""
    err = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(err, dict):
        return str(err.get("type") or "error"), str(err.get("message") or "")[:300]
    return "error", str(payload)[:300]


def _counts(batch: Any) -> dict[str, int]:
    c = getattr(batch, "request_counts", None)
    return {name: int(getattr(c, name, 0) or 0) for name in ("processing", "succeeded", "errored", "canceled",
                                                              "expired")}
