"""`tools=none` compiles to an agent without tools: `disallowedTools` lists every tool
Claude Code offers a workflow subagent (`NO_TOOLS`), and the script runs."""

from __future__ import annotations

import re
import shutil
from ast import literal_eval
from pathlib import Path

import pytest

from tests.transpiler.test_emit import compile_source, run_host
from wflang.transpiler.permissions import NO_TOOLS, disallowed_tools

SOURCE = '''workflow t:
    description: "test"

input items: list[str] max 10

type V:
    ok: bool

phase "Judge" with tools=none:
    kept = review x in items by 3:
        agent "judge {x}" -> V
        accept when ok
phase "Act":
    a = agent "act on {kept}"
return a
'''


def test_tool_less_agents_get_the_no_tools_list_and_others_do_not() -> None:
    js = compile_source(SOURCE)
    calls = re.findall(r"callAgent\((.*?)\}\)", js, re.S)
    assert len(calls) == 2
    consts = {k: literal_eval(v) for k, v in re.findall(r"^const (DENIED_TOOLS\w*) = (\[.*?\])", js, re.M | re.S)}
    none_const = re.search(r"disallowedTools: (\w+)", calls[0]).group(1)
    assert consts[none_const] == list(NO_TOOLS)
    # The other agent keeps the permission-based list (a read-only workflow: no edit, no shell).
    other = re.search(r"disallowedTools: (\w+)", calls[1]).group(1)
    assert consts[other] == disallowed_tools(frozenset())
    assert set(disallowed_tools(frozenset())) < set(NO_TOOLS)
    # The names claude-e2e saw Claude Code 2.1.332 offer a workflow subagent, and MCP tools.
    for name in ("Bash", "Read", "Write", "Edit", "NotebookEdit", "Glob", "Grep", "WebFetch", "WebSearch",
                 "Skill", "ToolSearch", "mcp__*"):
        assert name in NO_TOOLS
    assert "StructuredOutput" not in NO_TOOLS  # a schema agent still returns its value
    assert list(NO_TOOLS) == sorted(set(NO_TOOLS))  # sorted, as Claude Code keys resumes on it


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_compiled_script_runs(tmp_path: Path) -> None:
    report = run_host(tmp_path, compile_source(SOURCE),
                      {"rules": [{"prompt": "judge", "reply": {"ok": True}}], "default": {"reply": "done"}},
                      {"items": ["a", "b"]})
    assert report["result"] == "done"
    assert len(report["calls"]) == 7
