"""The records a reader of the journal gets: runs, their agents, log lines, phases
(`Journal.get_run`, `list_runs`, `resume_run`, `cached`; `wf show`, `wf runs`, `--resume`).

Apart from journal.py, which imports them when it first makes one, and names them too
(`from wflang.runtime.journal import AgentRecord` works as before): seven dataclasses
cost some 25 M instructions to make, and a fresh `wf run` reads none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wflang.runtime.backend import AgentResult, Usage


@dataclass
class RunRecord:
    id: str
    workflow: str
    source_path: str
    source_sha256: str
    args: Any
    bound: Any
    # As stored, except that a "running" run whose process is gone (killed before it
    # could write its status) is reported as "interrupted".
    status: str
    started: float
    finished: float | None
    result: Any
    error: str | None
    usage: Usage
    pid: int | None
    host: str | None
    resumes: int
    # The run's options, so a resume carries them over: {"concurrency", "fake", "granted"}.
    options: Any = None


@dataclass
class RunSummary:
    id: str
    workflow: str
    status: str
    started: float
    finished: float | None
    agents_done: int
    agents_failed: int
    usage: Usage
    source_path: str | None = None

    @property
    def resumable(self) -> bool:
        """`wf run FILE --resume ID` continues it as it is (a finished run only after an edit)."""
        return self.status in ("failed", "interrupted")


@dataclass
class AgentRecord:
    id: int
    run_id: str
    key: str
    sample_index: int
    label: str
    phase: str | None
    model: str | None
    model_id: str | None
    effort: str | None
    agent_type: str | None
    isolation: str | None
    prompt: str
    schema: dict[str, Any] | None
    status: str
    result: Any
    error: str | None
    usage: Usage
    started: float
    finished: float
    duration: float


@dataclass
class LogRecord:
    seq: int
    time: float
    phase: str | None
    message: str


@dataclass
class PhaseSummary:
    phase: str | None
    agents_done: int = 0
    agents_failed: int = 0
    usage: Usage = field(default_factory=Usage)
    agent_seconds: float = 0.0  # summed agent durations, not wall time


@dataclass
class RunDetail:
    run: RunRecord
    agents: list[AgentRecord]
    logs: list[LogRecord]
    phases: list[PhaseSummary]  # in order of each phase's first agent
    usage: Usage  # summed over the journaled agents


@dataclass
class CachedAgent:
    key: str
    value: Any
    usage: Usage
    model_id: str | None
    label: str
    phase: str | None

    def as_result(self) -> AgentResult:
        return AgentResult(value=self.value, usage=self.usage, model_id=self.model_id)
