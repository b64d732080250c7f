"""The live view of a run: per phase, agents queued, running, done and failed, output
tokens and elapsed time.

The scheduler and the interpreter report events to a `RunObserver`; `ProgressView` is the
one that draws. On a terminal it is a rich `Live` table; otherwise (CI, a pipe, `--json >
file`) it is quiet and line-oriented: phase starts and ends, log lines, failures. It writes
to its own console (stderr in `wf run`), so stdout carries only the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wflang.runtime.backend import Usage
from wflang.runtime.lines import Literal, Styled, lines_of, styled

if TYPE_CHECKING:  # rich is imported only to draw the live view (runtime/lines.py)
    from rich.console import Group

NO_PHASE = "(top level)"


class RunObserver:
    """Receives what happens during a run. Every method is a no-op here."""

    def phase_started(self, title: str) -> None:
        pass

    def phase_finished(self, title: str) -> None:
        pass

    def log(self, phase: str | None, message: str) -> None:
        pass

    def note(self, message: str) -> None:
        """Something about the run itself (budget reached, cap reached), not a `log` line."""

    def agent_queued(self, phase: str | None, label: str) -> None:
        pass

    def batch(self, batch_id: str, status: str, counts: dict[str, int]) -> None:
        """A message batch was polled (`wf run --batch`): its processing status and request
        counts (processing, succeeded, errored, canceled, expired)."""

    def agent_started(self, phase: str | None, label: str) -> None:
        pass

    def agent_finished(self, phase: str | None, label: str, status: str, usage: Usage,
                       error: str | None, source: str) -> None:
        """`status` is "done" or "failed"; `source` says who answered: "backend", "journal"
        (a finished agent of a resumed run) or "refused" (a cap or budget: never started)."""


class _PhaseView:
    """One phase's counts (a plain class with slots: a dataclass costs some 3 M
    instructions to make at import)."""

    __slots__ = ("title", "queued", "running", "done", "failed", "cached", "usage", "started", "ended")

    def __init__(self, title: str) -> None:
        self.title = title
        self.queued = 0
        self.running = 0
        self.done = 0
        self.failed = 0
        self.cached = 0
        self.usage = Usage()
        self.started: float | None = None
        self.ended: float | None = None


def _batch_text(status: str, counts: dict[str, int]) -> str:
    total = sum(counts.values())
    shown = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("processing", "succeeded", "errored", "expired", "canceled")
                      if k != "canceled" or counts.get(k))
    return f"{status.replace('_', ' ')}: {total} submitted, {shown}"


def _fmt_elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


class ProgressView(RunObserver):
    """Draws the run on `console`: live when `live` is true, else one line per event that
    matters. Use as a context manager around the run."""

    def __init__(self, console: Any, live: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = lines_of(console)
        self.live = live
        self._clock = clock
        self._phases: dict[str, _PhaseView] = {}
        self._t0 = clock()
        self._live: Any = None
        self._batches: dict[str, tuple[str, dict[str, int]]] = {}

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> ProgressView:
        self._t0 = self._clock()
        if self.live:
            from rich.live import Live

            self._live = Live(get_renderable=self._render, console=self.console.rich, refresh_per_second=4,
                              transient=False, redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None

    # ------------------------------------------------------------ events

    def _phase(self, phase: str | None) -> _PhaseView:
        key = phase or NO_PHASE
        view = self._phases.get(key)
        if view is None:
            view = self._phases[key] = _PhaseView(key)
        return view

    def _print(self, text: Literal | Styled) -> None:
        self.console.print(text, soft_wrap=True)

    def phase_started(self, title: str) -> None:
        view = self._phase(title)
        if view.started is None:
            view.started = self._clock()
        if not self.live:
            self._print(styled(("phase ", "bold"), (title, "bold cyan")))

    def phase_finished(self, title: str) -> None:
        view = self._phase(title)
        view.ended = self._clock()
        # the phase's outcome line, live too (it prints above the table): the run's story
        style = "red" if view.failed and not view.done else ("yellow" if view.failed else "green")
        self._print(styled(("phase ", "bold"), (title, "bold cyan"), ": ",
                                  (self._summary(view), style)))

    def log(self, phase: str | None, message: str) -> None:
        prefix = f"[{phase}] " if phase else ""
        self._print(styled(("log ", "dim"), (prefix, "cyan"), message))

    def note(self, message: str) -> None:
        self._print(styled((message, "yellow")))

    def batch(self, batch_id: str, status: str, counts: dict[str, int]) -> None:
        before = self._batches.get(batch_id)
        self._batches[batch_id] = (status, counts)
        if not self.live and before != (status, counts):
            self._print(Literal(f"batch {batch_id}: {_batch_text(status, counts)}"))

    # The three events of every agent look their phase up inline (`_phase` makes a new one).

    def agent_queued(self, phase: str | None, label: str) -> None:
        view = self._phases.get(phase or NO_PHASE) or self._phase(phase)
        view.queued += 1
        if view.started is None:
            view.started = self._clock()

    def agent_started(self, phase: str | None, label: str) -> None:
        view = self._phases.get(phase or NO_PHASE) or self._phase(phase)
        view.queued -= 1
        view.running += 1

    def agent_finished(self, phase: str | None, label: str, status: str, usage: Usage,
                       error: str | None, source: str) -> None:
        view = self._phases.get(phase or NO_PHASE) or self._phase(phase)
        if source == "backend":
            view.running -= 1
        else:
            view.queued -= 1  # answered without ever running
            if source == "journal":
                view.cached += 1
        if status == "done":
            view.done += 1
        else:
            view.failed += 1
            self._print(styled(("failed ", "red"), label, f": {error or 'no value'}"))
        view.usage.add(usage)
        view.ended = self._clock()

    # ------------------------------------------------------------ drawing

    def _summary(self, v: _PhaseView) -> str:
        cached = f" ({v.cached} from the journal)" if v.cached else ""
        elapsed = ((v.ended or self._clock()) - v.started) if v.started is not None else 0.0
        return (f"{v.done} done{cached}, {v.failed} failed, "
                f"{v.usage.output_tokens:,} output tokens, {_fmt_elapsed(elapsed)}")

    def _render(self) -> Group:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, header_style="bold")
        for name, justify in [("phase", "left"), ("queued", "right"), ("running", "right"),
                              ("done", "right"), ("failed", "right"), ("out tokens", "right"),
                              ("elapsed", "right")]:
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        now = self._clock()
        for v in list(self._phases.values()):
            active = v.queued or v.running
            elapsed = ((now if active else (v.ended or now)) - v.started) if v.started is not None else 0.0
            table.add_row(Text(v.title), str(v.queued), str(v.running), str(v.done),
                          Text(str(v.failed), style="red" if v.failed else ""),
                          f"{v.usage.output_tokens:,}", _fmt_elapsed(elapsed))
        footer = Text(f"elapsed {_fmt_elapsed(now - self._t0)}", style="dim")
        batches = [Text(f"batch {bid}: {_batch_text(status, counts)}")
                   for bid, (status, counts) in self._batches.items()]
        return Group(table, *batches, footer)

    def final_summary(self) -> None:
        """One closing line per phase (line mode prints them as phases end)."""
        if self.live:
            return
        for v in self._phases.values():
            if v.title == NO_PHASE and (v.done or v.failed):
                self._print(Literal(f"top level: {self._summary(v)}"))
