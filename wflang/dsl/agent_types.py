"""Agent types as Claude Code 2.1.332 resolves `agent({agentType})`, for both targets.

Measured in the pinned binary (docs/decisions.md, "Agent types and worktree isolation"):
an unknown type fails the agent before it starts with the message `Spawns.problem` repeats;
the built-in types are the five listed below, and a type can only narrow what the workflow
grants: Explore and Plan never get Edit, Write or NotebookEdit (Bash stays when `shell` is
granted), statusline-setup gets only Read and Edit. Project types come from
`.claude/agents/*.md` in the workspace (and the user's `~/.claude/agents/`): the `name:` of the
file's front matter is the type.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from wflang.dsl import ast
from wflang.dsl.diagnostics import Diagnostic

EDIT, SHELL = "edit", "shell"
# Built-in type -> the capabilities it can ever hold (intersected with the granted ones).
BUILTIN: dict[str, frozenset[str]] = {
    "claude": frozenset({EDIT, SHELL}),
    "Explore": frozenset({SHELL}),
    "general-purpose": frozenset({EDIT, SHELL}),
    "Plan": frozenset({SHELL}),
    "statusline-setup": frozenset({EDIT}),
}
_EDIT_TOOLS = {"Edit", "Write", "NotebookEdit", "MultiEdit"}
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.S)


def _front_matter(text: str) -> dict[str, str]:
    """The `key: value` lines of a Markdown file's front matter (what an agent file uses)."""
    m = _FRONT.match(text)
    out: dict[str, str] = {}
    for line in (m.group(1).splitlines() if m else []):
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t")):
            out[key.strip()] = value.strip().strip("\"'")
    return out


def _tool_list(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {t.strip().strip("\"'") for t in value.strip("[]").split(",") if t.strip()}


def _caps_of(front: dict[str, str]) -> frozenset[str]:
    """What a project agent file lets its agents hold: its `tools` (all when absent or `*`)
    minus its `disallowedTools`."""
    tools, denied = _tool_list(front.get("tools")), _tool_list(front.get("disallowedTools")) or set()

    def any_of(names: set[str]) -> bool:
        pool = names if tools is None or "*" in tools else {t.split("(")[0] for t in tools} & names
        return bool(pool - denied)

    return frozenset(c for c, names in ((EDIT, _EDIT_TOOLS), (SHELL, {"Bash"})) if any_of(names))


def agent_dirs(workspace: Path | str) -> list[Path]:
    """Where Claude Code finds project and user agent types for a run in `workspace`."""
    dirs = [Path(workspace) / ".claude" / "agents"]
    home = os.environ.get("HOME")
    if home:
        dirs.append(Path(home) / ".claude" / "agents")
    return dirs


def defined_types(workspace: Path | str) -> dict[str, frozenset[str]]:
    """Every agent type a run in `workspace` can name: built-in, then user, then project
    files (a project file overrides a user file of the same name)."""
    found: dict[str, frozenset[str]] = {}
    for folder in reversed(agent_dirs(workspace)):
        try:
            files = sorted(folder.rglob("*.md")) if folder.is_dir() else []
        except OSError:
            files = []
        for path in files:
            try:
                front = _front_matter(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
            if front.get("name") and front.get("description"):
                found[front["name"]] = _caps_of(front)
    return {**found, **BUILTIN}


def in_git_repository(folder: Path | str) -> bool:
    """Whether `folder` is inside a git working tree (a `.git` directory or file above it)."""
    here = Path(folder).resolve()
    return any((p / ".git").exists() for p in (here, *here.parents))


# What Claude Code answers `isolation: 'worktree'` outside a git repository (no hooks).
NO_GIT_WORKTREE = ("Cannot create agent worktree: not in a git repository and no WorktreeCreate hooks are "
                   "configured. Configure WorktreeCreate/WorktreeRemove hooks in settings.json to use worktree "
                   "isolation with other VCS systems.")


def check_agent_types(program: ast.Program, workspaces: list[Path]) -> list[Diagnostic]:
    """Warnings for each `agent_type` literal that names no built-in type and no agent file
    in any of `workspaces` (Claude Code would fail those agents)."""
    options = _agent_type_options(program)
    if not options:  # the common case: no folder to read
        return []
    known: set[str] = set()
    for w in workspaces:
        known |= set(defined_types(w))
    out = []
    for option in options:
        v = option.value
        if isinstance(v, ast.StrLit) and v.is_plain and v.text not in known:
            out.append(Diagnostic(
                "WF260", f"agent type `{v.text}` is neither built in nor defined in .claude/agents",
                v.span,
                "built-in types: " + ", ".join(sorted(BUILTIN, key=str.lower)) + "; a project type is a "
                ".claude/agents/NAME.md file whose front matter has `name: " + v.text + "` and a description",
                ["Claude Code and `wf run` fail such an agent before it starts"], severity="warning"))
    return out


def _agent_type_options(node: object) -> list[ast.Option]:
    """Every `agent_type=` option in the tree (agents, defaults, phases)."""
    found: list[ast.Option] = []
    seen: set[int] = set()

    def walk(x: object) -> None:
        if id(x) in seen:
            return
        seen.add(id(x))
        if isinstance(x, ast.Option):
            if x.name == "agent_type":
                found.append(x)
            return
        if isinstance(x, list | tuple):
            for y in x:
                walk(y)
        elif hasattr(x, "__dataclass_fields__"):
            for name in x.__dataclass_fields__:
                walk(getattr(x, name))

    walk(node)
    return found


class Spawns:
    """`spawn_problem` and `narrowed` for one run's workspace, reading its agent files and
    its git status once (a fan-out of 4,096 agents does not walk the folders 4,096 times)."""

    def __init__(self, workspace: Path | str) -> None:
        self.workspace = Path(workspace)
        self._types: dict[str, frozenset[str]] | None = None
        self._git: bool | None = None

    def types(self) -> dict[str, frozenset[str]]:
        if self._types is None:
            self._types = defined_types(self.workspace)
        return self._types

    def problem(self, agent_type: str | None, isolation: str | None) -> str | None:
        """Why Claude Code would fail this agent before it starts, in its words; None: it starts."""
        if agent_type is not None and agent_type not in self.types():
            return (f"agent({{agentType}}): agent type '{agent_type}' not found. "
                    f"Available agents: {', '.join(sorted(self.types(), key=str.lower))}")
        if isolation == "worktree":
            if self._git is None:
                self._git = in_git_repository(self.workspace)
            if not self._git:
                return NO_GIT_WORKTREE
        return None

    def narrowed(self, agent_type: str | None, permissions: frozenset[str]) -> frozenset[str]:
        """The capabilities an agent of `agent_type` holds: the granted ones its type allows."""
        if agent_type is None:
            return permissions
        return permissions & self.types().get(agent_type, frozenset())
