"""The contract between the interpreter and whatever answers an agent call.

The interpreter builds one `AgentRequest` per `agent`/`check` the workflow starts and
awaits `Backend.run_agent`. A backend either returns an `AgentResult` or raises
`AgentFailure`; the interpreter turns a failure into `None`, as the `.wf` semantics say.
Backends never see the workflow tree: everything they need is in the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wflang.dsl.reprs import field_repr


@dataclass(frozen=True, repr=False)
class AgentRequest:
    """One agent to run, everything a backend needs: the prompt, the schema of the answer,
    the model and options, and where it stands in the run."""

    __repr__ = field_repr  # the dataclass text, made on demand (wflang/dsl/reprs.py)

    prompt: str
    # JSON Schema with an object root (a list or bool result is already wrapped as
    # {"items": [...]} / {"value": ...}); None means a plain-text agent.
    schema: dict[str, Any] | None
    label: str
    phase: str | None = None
    model: str | None = None  # an alias ("sonnet") or a full model id; None: the default
    effort: str | None = None  # "low" | "medium" | "high" | "xhigh" | "max"
    agent_type: str | None = None
    isolation: str | None = None
    max_output_tokens: int | None = None
    # Distinguishes copies of the same request (the k-th voter, the k-th reviewer of an
    # item, fix attempt k); part of the journal's content key, never of the prompt.
    sample_index: int = 0
    # Capabilities granted for this run beyond reading the workspace: "edit", "shell".
    permissions: frozenset[str] = field(default_factory=frozenset)
    # `tools=none`: the agent sees only its prompt (no workspace tools at all), which is
    # what lets `wf run --batch` send it through the Message Batches API.
    toolless: bool = False
    # Set by the scheduler of a journaled run: the agent's content key and which copy of
    # that key this call is, so a batch names each request by what it asks.
    journal_key: str | None = None
    occurrence: int = 0
    # Where the agent stands in the program (the loop indices, outermost first): agents
    # asked for in the same moment start in this order. Not part of the content key.
    order: tuple[int, ...] = ()
    # The static text the prompt starts with, when agents of a fan-out share it
    # (wflang/dsl/shared_head.py): a backend may send it as its own prompt-cache block.
    # The prompt is the same either way; not part of the content key.
    shared_head: str | None = None


@dataclass(repr=False)
class Usage:
    """Tokens one agent (or a whole run, summed with `add`) used."""

    __repr__ = field_repr

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
        }


@dataclass(repr=False)
class AgentResult:
    """What a backend answers for one request: the value, its tokens and the model."""

    __repr__ = field_repr

    # The agent's final text (no schema), or the validated object (with a schema: still
    # wrapped exactly as the schema says; the interpreter unwraps).
    value: Any
    usage: Usage = field(default_factory=Usage)
    model_id: str | None = None  # the concrete model that answered, when known


class AgentFailure(Exception):
    """The agent could not produce a value (API error after retries, invalid output
    after repairs, refused tool...). The message is shown to the user and journaled,
    so it must never contain an API key."""


class AuthenticationFailure(AgentFailure):
    """The API refused the credentials (HTTP 401 or 403): every later agent would fail the
    same way, so the scheduler ends the run at the first one instead of retrying on."""


class Backend(Protocol):
    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult: ...
