"""`tools=none` in the Python runtime: the request says so, the journal key tells it apart,
and the anthropic backend offers such an agent no tool (only `return_result` for a schema)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.runtime import messages_server as ms
from tests.runtime import test_anthropic_backend as tab
from tests.runtime.messages_server import MessagesServer
from tests.runtime.test_interpreter import run
from wflang.runtime.backends.anthropic import RETURN_TOOL
from wflang.runtime.journal import content_key

# The anthropic backend tests' fixtures: a scripted Messages API and a backend on it.
server, make_backend, workspace, waits = tab.server, tab.make_backend, tab.workspace, tab.waits
VERDICT, req, tool_names, last_tool_results = tab.VERDICT, tab.req, tab.tool_names, tab.last_tool_results


async def test_the_interpreter_marks_tool_less_agents() -> None:
    ran = await run('''
        input items: list[str] max 5
        phase "P" with tools=none:
            xs = fanout f in items:
                agent "look {f}"
        y = agent "live {xs}"
        z = agent "own" with tools=none
        return [xs, y, z]
    ''', {"items": ["a", "b"]})
    flags = {c.prompt.split()[0]: c.toolless for c in ran.calls}
    assert flags == {"look": True, "live": False, "own": True}


def test_the_journal_key_tells_tool_less_agents_apart_and_keeps_the_others() -> None:
    r = req("Judge this.", schema=VERDICT)
    assert content_key(replace(r, toolless=True)) != content_key(r)
    # What the scheduler adds for the batch backend is not part of the key.
    assert content_key(replace(r, journal_key="k", occurrence=3)) == content_key(r)
    # The key of an agent with tools is what it was before tools=none existed.
    before = {"v": 1, "prompt": r.prompt, "schema": r.schema, "model": None, "effort": None,
              "agent_type": None, "isolation": None, "sample_index": 0}
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_key(r) == hashlib.sha256(canonical.encode()).hexdigest()


async def test_a_tool_less_text_agent_is_offered_no_tool(server: MessagesServer, make_backend: Any,
                                                         workspace: Path) -> None:
    server.push(ms.text("42"))
    result = await make_backend().run_agent(req("What is 6*7?", toolless=True), workspace)
    assert result.value == "42"
    [body] = server.requests
    assert "tools" not in body
    assert "no tools" in body["system"] and str(workspace) not in body["system"]


async def test_a_tool_less_schema_agent_has_only_return_result(server: MessagesServer, make_backend: Any,
                                                               workspace: Path) -> None:
    server.push(ms.tool_use(("read_file", {"path": "notes.txt"})),
                ms.tool_use((RETURN_TOOL, {"verdict": "approve"})))
    result = await make_backend().run_agent(req("Judge.", schema=VERDICT, toolless=True), workspace)
    assert result.value == {"verdict": "approve"}
    first, second = server.requests
    assert tool_names(first) == [RETURN_TOOL]
    [refused] = last_tool_results(second)
    assert refused["is_error"] and "has no tools" in refused["content"]
