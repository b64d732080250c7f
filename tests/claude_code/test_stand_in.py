"""The stand-in Messages API (stand_in.py) through the real anthropic SDK, JSON and
streaming: how it reads Claude Code's requests (the harness frame, the agent's label, the
deferred tools, cache breakpoints) and answers them from wflang's fake backend. These run
without Claude Code, so they also guard the harness where the binary cannot run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.claude_code.stand_in import FRAME, Launch, StandIn, deferred_tools, head_of, task_of
from tests.prompt_cache import PromptCache
from wflang.runtime.backends.fake import FakeBackend

INTRO = f"{FRAME} The task text below was computed at runtime. The computed task text follows:\n"


def framed(text: str) -> str:
    return INTRO + "\n".join("  " + line for line in text.split("\n"))


@pytest.fixture
def stand_in(tmp_path: Path) -> Any:
    meta = tmp_path / ".claude" / "projects" / "p" / "s" / "subagents" / "workflows" / "wf_1"
    meta.mkdir(parents=True)
    for agent_id, label in (("a1", "find a.py"), ("a2", "summary"), ("a3", "flaky")):
        (meta / f"agent-{agent_id}.meta.json").write_text(json.dumps({"description": label}))
    fake = FakeBackend({"rules": [{"label": "find *", "reply": [{"line": 3}]},
                                  {"label": "flaky", "fail": "simulated outage"}]})
    server = StandIn(tmp_path, fake, Launch({"scriptPath": "/w.js", "args": {"n": 1}}), max_requests=8,
                     lifetime=60).start()
    yield server
    server.stop()


def client(server: StandIn, agent_id: str | None = None) -> anthropic.Anthropic:
    headers = {"x-claude-code-agent-id": agent_id} if agent_id else {}
    return anthropic.Anthropic(base_url=server.url, api_key="sk-test", max_retries=0, default_headers=headers)


SCHEMA = {"type": "object", "required": ["items"],
          "properties": {"items": {"type": "array", "maxItems": 3,
                                   "items": {"type": "object", "required": ["line"],
                                             "properties": {"line": {"type": "integer"}}}}}}


def test_task_text_is_unframed_and_a_split_head_is_joined() -> None:
    prompt = "Review a.py\n\nthen b.py\n"
    assert task_of([{"role": "user", "content": [{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                                                 {"type": "text", "text": framed(prompt)}]}]) == prompt
    head, tail = "Shared context\n", "Now file 3"
    split = [{"type": "text", "text": framed(head) + "\n", "cache_control": {"type": "ephemeral"}},
             {"type": "text", "text": framed(tail)}]
    assert task_of([{"role": "user", "content": split}]) == head + tail
    assert head_of([{"role": "user", "content": split}]) == head
    assert head_of([{"role": "user", "content": [{"type": "text", "text": framed(prompt)}]}]) is None
    assert task_of([{"role": "user", "content": "no frame here"}]) is None


def test_deferred_tools_are_read_from_the_announcement() -> None:
    text = ("The following deferred tools are now available via ToolSearch. Their schemas are NOT loaded:\n"
            "Monitor\nNotebookEdit\n\n# Environment\n")
    assert deferred_tools([{"role": "user", "content": [{"type": "text", "text": text}]}]) == ["Monitor",
                                                                                              "NotebookEdit"]
    assert deferred_tools([{"role": "user", "content": "hello"}]) is None


def test_a_schema_agent_gets_its_fake_answer_as_structured_output_streamed(stand_in: StandIn) -> None:
    tools = [{"name": "Read", "input_schema": {"type": "object"}},
             {"name": "StructuredOutput", "input_schema": SCHEMA}]
    with client(stand_in, "a1").messages.stream(
            model="claude-test", max_tokens=100, tools=tools,
            messages=[{"role": "user", "content": [{"type": "text", "text": framed("Review a.py")}]}]) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    call = message.content[0]
    assert call.name == "StructuredOutput" and call.input == {"items": [{"line": 3}]}
    record = stand_in.records[-1]
    assert (record.kind, record.label, record.prompt, record.tools) == ("agent", "find a.py", "Review a.py",
                                                                        ["Read", "StructuredOutput"])
    assert stand_in.fake.calls == []  # decide() only: the stand-in records, the backend is not run


def test_a_text_agent_gets_text_and_a_failing_one_a_400(stand_in: StandIn) -> None:
    reply = client(stand_in, "a2").messages.create(
        model="claude-test", max_tokens=100,
        messages=[{"role": "user", "content": framed("Summarise it")}])
    assert reply.content[0].text == "text for summary #0"
    with pytest.raises(anthropic.BadRequestError, match="simulated outage"):
        client(stand_in, "a3").messages.create(model="claude-test", max_tokens=100,
                                               messages=[{"role": "user", "content": framed("try")}])
    assert stand_in.records[-1].answer == "fail: simulated outage"


def test_the_top_level_turn_launches_the_workflow_then_answers_the_notification(stand_in: StandIn) -> None:
    tools = [{"name": "Workflow", "input_schema": {"type": "object"}}]
    first = client(stand_in).messages.create(model="m", max_tokens=10, tools=tools,
                                             messages=[{"role": "user", "content": "Run the workflow."}])
    assert first.content[0].name == "Workflow"
    assert first.content[0].input == {"scriptPath": "/w.js", "args": {"n": 1}}
    done = client(stand_in).messages.create(
        model="m", max_tokens=10, tools=tools,
        messages=[{"role": "user", "content": "Run the workflow."},
                  {"role": "assistant", "content": "Started."},
                  {"role": "user", "content": "<task-notification><status>completed</status></task-notification>"}])
    assert done.stop_reason == "end_turn"
    assert [r.kind for r in stand_in.records] == ["top", "notification"]


def test_cache_reads_follow_the_breakpoints(stand_in: StandIn) -> None:
    system = [{"type": "text", "text": "S" * 6000, "cache_control": {"type": "ephemeral"}}]
    for n in range(2):
        client(stand_in).messages.create(model="m", max_tokens=10, system=system,
                                         messages=[{"role": "user", "content": f"question {n}"}])
    first, second = stand_in.records[-2:]
    assert (first.breakpoints, first.cache_read) == (1, 0) and first.cache_write > 1024
    assert second.cache_read == first.cache_write and second.cache_write == 0


def test_the_cache_matches_prefixes_as_the_api_does() -> None:
    """Prefix matching with the lookback window, the minimum length, automatic caching, and
    a fan-out's shared head (tests/prompt_cache.py)."""
    cache = PromptCache()
    system = [{"type": "text", "text": "S" * 6000}]
    head = {"type": "text", "text": "H" * 2000, "cache_control": {"type": "ephemeral"}}

    def agent(n: int, split: bool) -> dict[str, Any]:
        rest = {"type": "text", "text": f"file {n}", "cache_control": {"type": "ephemeral"}}
        content = [head, rest] if split else [{**rest, "text": "H" * 2000 + f"file {n}"}]
        return {"system": system, "messages": [{"role": "user", "content": content}]}

    first, second = cache.account(agent(1, True)), cache.account(agent(2, True))
    assert first.read == 0 and first.write >= (6000 + 2000) // 4
    assert second.read == (6000 + 2000) // 4 and second.write <= 2  # system + head read back
    # without the split nothing after the system text is shared, and the system block has no
    # breakpoint of its own: nothing was written there, so nothing is read
    other = PromptCache()
    assert other.account(agent(1, False)).read == 0 and other.account(agent(2, False)).read == 0
    # a prefix under the minimum is neither written nor read
    small = PromptCache()
    tiny = {"messages": [{"role": "user", "content": [{"type": "text", "text": "x" * 100,
                                                       "cache_control": {"type": "ephemeral"}}]}]}
    assert small.account(tiny).write == 0 and small.account(tiny).read == 0
    # a top-level cache_control marks the last block; a later, longer conversation reads the
    # earlier turn's prefix through the lookback window (20 blocks)
    auto = PromptCache()
    turns = [{"role": "user", "content": "T" * 5000}]
    assert auto.account({"messages": turns, "cache_control": {"type": "ephemeral"}}).write > 1024
    longer = turns + [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "more"}]
    assert auto.account({"messages": longer, "cache_control": {"type": "ephemeral"}}).read > 1024
    far = turns + [{"role": "user", "content": f"m{i}"} for i in range(25)]
    assert auto.account({"messages": far, "cache_control": {"type": "ephemeral"}}).read == 0


def test_requests_are_bounded(stand_in: StandIn) -> None:
    for _ in range(8):
        client(stand_in).messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.InternalServerError, match="more than 8 requests"):
        client(stand_in).messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert stand_in.overrun == "more than 8 requests"
