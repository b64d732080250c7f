"""The header's `permissions:` as Claude Code tool denials.

Claude Code offers every workflow subagent its whole tool pool; `agent(prompt,
{disallowedTools})` removes tools from it. A capability the workflow does not declare
becomes the names of the Claude Code tools that carry it, so a read-only workflow's agents
can neither edit nor run commands, as in `wf run` (whose tools are in
wflang/runtime/tools.py: `write_file`/`edit_file` need "edit", `run_shell` needs "shell").

The names were checked against the tools real Claude Code 2.1.332 sends for a workflow
subagent (the end-to-end harness reads them off its requests): Bash, Edit, Write and the
deferred NotebookEdit write or run; denying Bash also removes Monitor. A name that matches
no tool would be silently ignored, and one that differs only in case refuses the spawn, so
only real names are listed. Reading (Read, Glob, Grep) is never denied, nor
StructuredOutput, which a schema agent needs to answer.
"""

from __future__ import annotations

from collections.abc import Iterable

# capability -> the Claude Code tools that carry it (the tool names are case-sensitive)
CAPABILITY_TOOLS: dict[str, tuple[str, ...]] = {
    "edit": ("Edit", "NotebookEdit", "Write"),
    "shell": ("Bash",),
}


def disallowed_tools(granted: Iterable[str]) -> list[str]:
    """The tools to deny an agent that holds exactly the `granted` capabilities, sorted as
    Claude Code sorts them (it keys resumes on the sorted list)."""
    have = set(granted)
    return sorted({t for cap, tools in CAPABILITY_TOOLS.items() if cap not in have for t in tools})


# `tools=none`: every tool Claude Code 2.1.332 offers a workflow subagent, as claude-e2e read
# them off its requests (Glob and Grep appear once Bash is denied; the deferred tools count
# too), plus every MCP tool, sorted. StructuredOutput stays: a schema agent answers with it.
NO_TOOLS: tuple[str, ...] = tuple(sorted((
    "Bash", "CronCreate", "CronDelete", "CronList", "Edit", "EnterWorktree", "ExitWorktree", "Glob", "Grep",
    "ListAgents", "Monitor", "NotebookEdit", "Read", "ReportFindings", "SendMessage", "Skill", "TaskStop",
    "ToolSearch", "WebFetch", "WebSearch", "Write", "mcp__*",
)))
