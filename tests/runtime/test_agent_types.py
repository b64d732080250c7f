"""`agent_type` and `isolation` in `wf run` as Claude Code 2.1.332 treats them
(wflang/dsl/agent_types.py; measured cases in tests/claude_code/workflows): an unknown type
or a worktree outside git fails the agent before it starts, with Claude Code's message; a
built-in read-only type (Explore, Plan) gets none of the edit tools whatever the .wf grants."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import trio

from wflang.dsl.parser import parse
from wflang.runtime.backend import AgentRequest, AgentResult, Usage
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, Scheduler

HEADER = 'workflow t:\n    description: "d"\n    permissions: edit, shell\n\n'


class Recorder:
    """Answers every agent with its label and keeps the requests it got."""

    def __init__(self) -> None:
        self.calls: list[AgentRequest] = []

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        self.calls.append(request)
        return AgentResult(value=f"ran {request.label}", usage=Usage(input_tokens=1, output_tokens=1))


def _run(body: str, workspace: Path) -> tuple[Any, Recorder, Scheduler]:
    program = parse(HEADER + textwrap.dedent(body), "t.wf")
    backend = Recorder()
    scheduler = Scheduler(backend, workspace, Limits(bound=10), permissions=frozenset({"edit", "shell"}))
    outcome = trio.run(run_program, program, {}, scheduler)
    return outcome.value, backend, scheduler


def _errors(scheduler: Scheduler) -> dict[str, str | None]:
    return {a.label: a.error for a in scheduler.agents if a.status == "failed"}


def test_an_unknown_agent_type_fails_before_it_starts_with_claude_codes_message(tmp_path: Path) -> None:
    value, backend, scheduler = _run("""
        a = agent "one" with label="plain"
        b = agent "two" with label="odd", agent_type="pirate" else "fallback"
        return {a: a, b: b}
    """, tmp_path)
    assert value == {"a": "ran plain", "b": "fallback"}
    assert [c.label for c in backend.calls] == ["plain"]  # the odd one never reached the backend
    assert _errors(scheduler) == {"odd": "agent({agentType}): agent type 'pirate' not found. Available agents: "
                                         "claude, Explore, general-purpose, Plan, statusline-setup"}
    assert scheduler.started == 2  # as Claude Code's agentCount counts it


def test_a_project_agent_file_defines_a_type_and_narrows_its_tools(tmp_path: Path) -> None:
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text("---\nname: reviewer\ndescription: reads code\ntools: Read, Grep, Glob\n"
                                        "---\nYou review.\n", encoding="utf-8")
    (agents / "fixer.md").write_text("---\nname: fixer\ndescription: fixes\ntools: Read, Edit\n---\n", encoding="utf-8")
    (agents / "nameless.md").write_text("no front matter\n", encoding="utf-8")
    value, backend, scheduler = _run("""
        a = agent "one" with label="r", agent_type="reviewer"
        b = agent "two" with label="f", agent_type="fixer"
        c = agent "three" with label="n", agent_type="nameless" else "no type"
        return [a, b, c]
    """, tmp_path)
    assert value == ["ran r", "ran f", "no type"]
    assert {c.label: c.permissions for c in backend.calls} == {"r": frozenset(), "f": frozenset({"edit"})}
    assert "Available agents: claude, Explore, fixer, general-purpose, Plan, reviewer, statusline-setup" \
        in (_errors(scheduler)["n"] or "")


def test_read_only_built_in_types_never_get_edit(tmp_path: Path) -> None:
    _, backend, _ = _run("""
        a = agent "one" with label="e", agent_type="Explore"
        b = agent "two" with label="p", agent_type="Plan"
        c = agent "three" with label="g", agent_type="general-purpose"
        d = agent "four" with label="s", agent_type="statusline-setup"
        x = agent "five" with label="x"
        return 0
    """, tmp_path)
    assert {c.label: c.permissions for c in backend.calls} == {
        "e": frozenset({"shell"}), "p": frozenset({"shell"}), "g": frozenset({"edit", "shell"}),
        "s": frozenset({"edit"}), "x": frozenset({"edit", "shell"})}


def test_a_worktree_outside_git_fails_the_agent_and_inside_git_runs_it(tmp_path: Path) -> None:
    outside, inside = tmp_path / "plain", tmp_path / "repo"
    outside.mkdir()
    (inside / ".git").mkdir(parents=True)
    (inside / "sub").mkdir()
    body = """
        a = agent "one" with label="iso", isolation="worktree" else "no worktree"
        return a
    """
    value, backend, scheduler = _run(body, outside)
    assert value == "no worktree" and not backend.calls
    assert (_errors(scheduler)["iso"] or "").startswith("Cannot create agent worktree: not in a git repository")
    value, backend, _ = _run(body, inside / "sub")
    assert value == "ran iso" and [c.label for c in backend.calls] == ["iso"]
