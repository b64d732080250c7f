"""An agent gets what its own workflow declares AND what the user granted, never more:
a child `.wf` declaring nothing, run from a parent declaring shell, gets no shell."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.runtime.test_interpreter import Double
from wflang.dsl.loader import load
from wflang.runtime.backends.anthropic import system_prompt
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, Scheduler
from wflang.runtime.tools import Toolbox


def _write(tmp_path: Path, child_perms: str | None) -> Path:
    perms = f"    permissions: {child_perms}\n" if child_perms else ""
    (tmp_path / "child.wf").write_text(
        'workflow child:\n    description: "c"\n' + perms + 'x = agent "child agent"\nreturn x\n'
    )
    parent = tmp_path / "parent.wf"
    parent.write_text(textwrap.dedent("""\
        workflow parent:
            description: "p"
            permissions: edit, shell
        a = agent "parent agent"
        c = run "child.wf"
        return c
    """))
    return parent


async def _permissions_by_prompt(parent: Path, granted: frozenset[str]) -> dict[str, frozenset[str]]:
    loaded = load(str(parent))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    double = Double()
    sched = Scheduler(double, ".", Limits(bound=loaded.result.bound.evaluate({})), permissions=granted)
    await run_program(loaded.program, {}, sched)
    return {c.prompt: c.permissions for c in double.calls}


async def test_child_declaring_nothing_gets_no_shell(tmp_path: Path) -> None:
    got = await _permissions_by_prompt(_write(tmp_path, None), frozenset({"edit", "shell"}))
    assert got == {"parent agent": frozenset({"edit", "shell"}), "child agent": frozenset()}
    # ... and so the child's toolbox offers no run_shell and no write tools.
    names = [t["name"] for t in Toolbox(tmp_path, got["child agent"]).definitions()]
    assert names == ["read_file", "list_dir", "glob", "grep"]


async def test_child_gets_the_intersection(tmp_path: Path) -> None:
    # The child declares edit and shell, the user granted only edit: the child gets edit.
    got = await _permissions_by_prompt(_write(tmp_path, "shell, edit"), frozenset({"edit"}))
    assert got["child agent"] == frozenset({"edit"})
    assert got["parent agent"] == frozenset({"edit"})


async def test_child_declaring_shell_only(tmp_path: Path) -> None:
    got = await _permissions_by_prompt(_write(tmp_path, "shell"), frozenset({"edit", "shell"}))
    assert got["child agent"] == frozenset({"shell"})


def test_system_prompt_follows_the_permissions(tmp_path: Path) -> None:
    from wflang.runtime.backend import AgentRequest

    none = system_prompt(AgentRequest(prompt="p", schema=None, label="l"), tmp_path)
    assert "run_shell" not in none and "cannot modify" in none
