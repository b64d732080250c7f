"""`tools=none`: where it may be written, how it is checked, and the batchable bound."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from wflang.dsl import ast
from wflang.dsl.checker import check_program
from wflang.dsl.diagnostics import WfError
from wflang.dsl.loader import load
from wflang.dsl.parser import parse
from wflang.dsl.report import as_json, human

HEAD = 'workflow t:\n    description: "test"\n\ninput items: list[str] max 50\n\ntype V:\n    ok: bool\n\n'


def checked(body: str, path: str = "t.wf"):
    program = parse(HEAD + textwrap.dedent(body).lstrip("\n"), path)
    return program, check_program(program)


def agents(program: ast.Program) -> list[ast.Agent | ast.Check]:
    return [n for n in ast.walk(program.body) if isinstance(n, (ast.Agent, ast.Check))]


def test_agent_option_default_and_phase_option() -> None:
    program, result = checked('''
        phase "Find" with tools=none:
            found = fanout f in items:
                agent "look at {f}" -> V
            c = check "is it fine?"
        phase "Vote":
            kept = review x in items by 3:
                agent "judge {x}" -> V with tools=none
                accept when ok
            s = agent "summarise {kept}"
        return s
    ''')
    assert result.ok, [d.message for d in result.diagnostics]
    flags = [ast.toolless(a.options, program.defaults) for a in agents(program)]
    assert flags == [True, True, True, False]
    b = result.bound
    assert b.total == 50 + 1 + 150 + 1
    assert b.batchable is not None
    assert b.batchable_for() == 50 + 1 + 150
    assert b.batchable_phases() == {"Find": 51, "Vote": 150}
    assert b.batchable_for({"items": 4}) == 4 + 1 + 12
    assert b.batchable.formula() == "items + 1 + items×3"


def test_defaults_make_every_agent_tool_less() -> None:
    program, result = checked('''
        a = agent "one"
        v = vote 5:
            agent "pick one of {items}"
        return [a, v]
    ''')
    assert result.ok
    assert result.bound.batchable is None  # no tools=none anywhere: no batchable bound at all
    program = parse(HEAD.replace("type V:", 'defaults tools=none\n\ntype V:') + textwrap.dedent('''
        a = agent "one"
        v = vote 5:
            agent "pick one of {items}"
        return [a, v]
    '''), "t.wf")
    result = check_program(program)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.bound.batchable_for() == result.bound.total == 6


def test_a_child_workflow_counts_its_own_tool_less_agents(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text(
        'workflow child:\n    description: "c"\n\ninput xs: list[str] max 10\n\n'
        'defaults tools=none\n\nys = fanout x in xs:\n    agent "about {x}"\nreturn ys\n')
    (tmp_path / "main.wf").write_text(
        'workflow main:\n    description: "m"\n\ninput items: list[str] max 4\n\n'
        'phase "Go":\n    r = run "child.wf" with {xs: items}\n    t = agent "live one"\nreturn [r, t]\n')
    loaded = load(str(tmp_path / "main.wf"))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    b = loaded.result.bound
    assert b.total == 5
    assert b.batchable_for() == 4
    assert b.batchable_phases()["Go"] == 4


@pytest.mark.parametrize("option, message", [
    ('tools="none"', "tools takes only `none`"),
    ("tools=false", "tools takes only `none`"),
])
def test_tools_takes_only_none(option: str, message: str) -> None:
    _, result = checked(f'a = agent "x" with {option}\n')
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == ["WF214"]
    assert errors[0].message == message
    assert "tools=none" in errors[0].hint
    assert errors[0].span.line == HEAD.count("\n") + 1


def test_a_phase_takes_only_tools_none() -> None:
    with pytest.raises(WfError) as info:
        parse(HEAD + 'phase "P" with model="haiku":\n    a = agent "x"\n', "t.wf")
    [d] = info.value.diagnostics
    assert d.code == "WF214" and "a phase takes no option `model`" in d.message and "tools=none" in d.hint
    with pytest.raises(WfError) as info:
        parse(HEAD + 'phase "P" with tools=1:\n    a = agent "x"\n', "t.wf")
    [d] = info.value.diagnostics
    assert d.code == "WF214" and d.message == "tools takes only `none`"


def test_the_report_lists_batchable_agents_per_phase(tmp_path: Path) -> None:
    path = tmp_path / "t.wf"
    path.write_text(HEAD + textwrap.dedent('''
        phase "Find":
            found = fanout f in items:
                agent "look at {f}" -> V with tools=none
        phase "Fix":
            a = agent "edit things"
        return a
    ''').lstrip("\n"))
    loaded = load(str(path))
    text = human(loaded, "args.json", {"items": 3})
    assert "batchable (tools=none), worst case: 50 of 51" in text
    assert "  Find  50 of 50" in text.replace("    ", "  ")
    assert text.splitlines()[-1].endswith("at most 4 (3 batchable)")
    data = as_json(loaded, "args.json", {"items": 3})
    assert data["bound"]["batchable"] == {"total": 50, "formula": "items",
                                          "phases": [{"phase": "Find", "agents": 50}, {"phase": "Fix", "agents": 0}]}
    assert data["args"]["bound"]["batchable"]["total"] == 3
    json.dumps(data)


def test_no_batchable_line_without_tools_none(tmp_path: Path) -> None:
    path = tmp_path / "t.wf"
    path.write_text(HEAD + 'a = agent "x"\n')
    loaded = load(str(path))
    assert "batchable (tools=none)" not in human(loaded)
    assert "batchable" not in as_json(loaded)["bound"]
