"""`wf check` warns (WF260, located, with the valid types) about an `agent_type` literal that
names no built-in type and no `.claude/agents/*.md` file where the workflow runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from wflang.dsl.loader import load

SOURCE = """workflow t:
    description: "d"

defaults agent_type="Plan"
phase "P":
    a = agent "one" with agent_type="pirate"
    b = agent "two" with agent_type="Explore"
return [a, b]
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "t.wf").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def test_an_unknown_agent_type_is_a_located_warning(folder: Path) -> None:
    loaded = load(str(folder / "t.wf"))
    assert loaded.ok  # a warning: the compiled script may run where the type exists
    (d,) = loaded.diagnostics
    assert (d.code, d.severity, d.span.line, d.span.col) == ("WF260", "warning", 6, 37)
    assert "`pirate`" in d.message
    assert d.hint is not None and "claude, Explore, general-purpose, Plan, statusline-setup" in d.hint
    assert ".claude/agents/NAME.md" in d.hint and "name: pirate" in d.hint


@pytest.mark.parametrize("where", ["project", "user"])
def test_an_agent_file_defines_the_type(folder: Path, where: str) -> None:
    agents = (folder if where == "project" else folder / "home") / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "p.md").write_text("---\nname: \"pirate\"\ndescription: talks like one\n---\nArr.\n", encoding="utf-8")
    assert load(str(folder / "t.wf")).diagnostics == []


def test_a_file_without_a_description_defines_nothing(folder: Path) -> None:
    agents = folder / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "p.md").write_text("---\nname: pirate\n---\n", encoding="utf-8")
    assert [d.code for d in load(str(folder / "t.wf")).diagnostics] == ["WF260"]
