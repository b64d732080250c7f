"""`wf run`'s anthropic backend on a whole workflow, against the local Messages stand-in
(messages_server.py) with a simulated prompt cache (tests/prompt_cache.py).

The workflow first runs on the fake backend; every agent's answer (or failure) is kept by
what it was asked (prompt and schema). Then the same workflow runs through the real
anthropic SDK and `AnthropicBackend`, and the server answers each agent's first request
with the kept answer (a `return_result` call for a schema agent, text otherwise, a
non-retryable 400 for a failure), reading the prompt from the first user message (one
string, or the shared head block and the rest). Each request's cache usage is what the
simulated cache gives for its `cache_control` breakpoints, so the run's cache-read tokens
are those a real cache would read for these requests.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from tests.prompt_cache import PromptCache
from tests.runtime import messages_server as ms
from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.loader import load
from wflang.runtime.backends.anthropic import RETURN_TOOL, AnthropicBackend
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, Scheduler


def prompt_of(body: dict[str, Any]) -> str:
    content = body["messages"][0]["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if block.get("type") == "text")


def _key(prompt: str, schema: Any) -> str:
    return json.dumps([prompt, schema], sort_keys=True)


@dataclass
class Replay:
    """The answers of a fake run, by what was asked, and the cache usage of each request."""

    answers: dict[str, deque[dict[str, Any]]]
    cache: PromptCache = field(default_factory=PromptCache)
    usage: list[dict[str, int]] = field(default_factory=list)
    split: int = 0  # first requests whose user message came as a head block and the rest
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: dict[str, Any], headers: dict[str, str]) -> ms.Scripted:
        tools = {t["name"]: t for t in body.get("tools") or []}
        schema = tools[RETURN_TOOL]["input_schema"] if RETURN_TOOL in tools else None
        counted = self.cache.account(body)
        use = ms.usage(counted.uncached, 5, cache_read=counted.read, cache_write=counted.write)
        with self._lock:
            self.usage.append({"read": counted.read, "write": counted.write, "input": counted.uncached})
            if len(body["messages"]) > 1:  # a later turn: nothing in a replay asks for one
                return ms.status(400, "invalid_request_error", "replay: an unexpected second turn")
            self.split += isinstance(body["messages"][0]["content"], list)
            queue = self.answers.get(_key(prompt_of(body), schema))
            answer = queue.popleft() if queue else None
        if answer is None:
            return ms.status(400, "invalid_request_error", "replay: no recorded answer for this prompt")
        if answer["failed"]:
            return ms.status(400, "invalid_request_error", answer["error"] or "failed")
        if schema is None:
            return ms.text(answer["result"], use=use)
        return ms.tool_use((RETURN_TOOL, answer["result"]), use=use)


def fake_answers(wf: Path, args: Any, fake: dict[str, Any], work: Path) -> dict[str, deque[dict[str, Any]]]:
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    values, _ = validate_args(loaded.program, args)
    backend = FakeBackend(fake)
    scheduler = Scheduler(backend, str(work), Limits(bound=loaded.result.bound.evaluate(sizes(loaded.program, values))),
                          permissions=frozenset(loaded.program.header.permissions))
    trio.run(run_program, loaded.program, values, scheduler)
    answers: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
    for call in backend.calls:
        answers[_key(call["prompt"], call["schema"])].append(call)
    return answers


def run_anthropic(wf: Path, args: Any, fake: dict[str, Any], work: Path) -> tuple[Any, Replay]:
    """(the run's value, the replay with every request's cache usage)."""
    replay = Replay(fake_answers(wf, args, fake, work / "fake"))
    loaded = load(str(wf))
    values, _ = validate_args(loaded.program, args)
    server = ms.MessagesServer(responder=replay).start()
    saved = os.environ.get("ANTHROPIC_API_KEY")
    os.environ["ANTHROPIC_API_KEY"] = "sk-ant-replay-not-a-key"  # a dummy: the server is local
    try:
        async def main() -> Any:
            backend = AnthropicBackend(base_url=server.url, request_timeout=30.0)
            try:
                workspace = work / "ws"
                workspace.mkdir(parents=True, exist_ok=True)
                scheduler = Scheduler(backend, str(workspace),
                                      Limits(bound=loaded.result.bound.evaluate(sizes(loaded.program, values))),
                                      permissions=frozenset(loaded.program.header.permissions))
                return (await run_program(loaded.program, values, scheduler)).value
            finally:
                await backend.aclose()

        value = trio.run(main)
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("ANTHROPIC_API_KEY", None)
        else:
            os.environ["ANTHROPIC_API_KEY"] = saved
    return value, replay
