"""`tools=none` compiles to an agent without tools: `disallowedTools` lists every tool
Claude Code offers a workflow subagent (the `noTools` helper), and the script runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.transpiler.test_emit import compile_source, run_host
from wflang.transpiler.emit import _PRELUDE

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
    assert "disallowedTools: noTools" in calls[0]
    assert "disallowedTools" not in calls[1]
    [helper] = [h for h in _PRELUDE if h.name == "noTools"]
    names = re.findall(r"'([^']+)'", helper.code.split("const noTools =", 1)[1])
    # The names claude-e2e saw Claude Code 2.1.332 offer a workflow subagent, and MCP tools.
    for name in ("Bash", "Read", "Write", "Edit", "NotebookEdit", "Glob", "Grep", "WebFetch", "WebSearch",
                 "Skill", "ToolSearch", "mcp__*"):
        assert name in names
    assert "StructuredOutput" not in names  # a schema agent still returns its value
    assert all(n.strip() for n in names) and len(set(names)) == len(names)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_compiled_script_runs(tmp_path: Path) -> None:
    report = run_host(tmp_path, compile_source(SOURCE),
                      {"rules": [{"prompt": "judge", "reply": {"ok": True}}], "default": {"reply": "done"}},
                      {"items": ["a", "b"]})
    assert report["result"] == "done"
    assert len(report["calls"]) == 7
