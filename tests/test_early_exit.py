"""Issue 10, item 5 (Control): `return` inside `if` leaves the workflow early, and a
`phase` block may stand in a top-level `if` (entered only when its branch runs). Both
targets agree (same agent calls, same phases, same result), the proven bound is exact
(a run reaches it), and `meta.phases` lists every phase block."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.test_differential import assert_same, run_both
from wflang.dsl.checker import check_program
from wflang.dsl.parser import parse
from wflang.transpiler.emit import compile_js

HEADER = 'workflow t:\n    description: "d"\n'
needs_node_marker = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

EARLY = """
input files: list[str] max 10
input deep: bool = false

type Finding:
    file: str
    issue: str

phase "Find":
    found = fanout f in files:
        agent "Find bugs in {f}" -> list[Finding] max 3
    bugs = flatten(found)
    if len(bugs) == 0:
        return []

if deep:
    phase "Verify":
        kept = fanout x in bugs:
            agent "Is this real? {x.file}: {x.issue}" -> bool
    phase "Fix":
        fixed = agent "Fix {len(kept)} bugs"
    return [fixed]
else:
    phase "Quick":
        s = agent "Summarise {len(bugs)} bugs"
        if s == "":
            return []

return [s]
"""

# Every file has 3 bugs, every check says real: the deep path's worst case.
WORST = {"rules": [{"prompt": "^Find bugs in (.*)", "reply": {"items": [{"file": "f", "issue": "a"},
                                                                        {"file": "f", "issue": "b"},
                                                                        {"file": "f", "issue": "c"}]}},
                   {"prompt": "^Is this real", "reply": {"value": True}},
                   {"prompt": "^Fix", "reply": "fixed"},
                   {"prompt": "^Summarise", "reply": "summary"}], "default": "fail"}
NONE_FOUND = {"rules": [{"prompt": "^Find bugs", "reply": {"items": []}}], "default": "fail"}
EMPTY_SUMMARY = {**WORST, "rules": [*WORST["rules"][:3], {"prompt": "^Summarise", "reply": ""}]}


def checked(body: str):
    result = check_program(parse(HEADER + textwrap.dedent(body), "t.wf"))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result


def write(tmp_path: Path, body: str) -> Path:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return wf


def test_the_bound_is_the_worst_path_not_the_sum_of_the_branches() -> None:
    b = checked(EARLY).bound
    # Find, then either the deep path (which returns) or the quick one: 10 + max(30 + 1, 1)
    assert b.total == 41
    assert b.formula() == "max(files + 1, files + files×3 + 1)"
    assert dict(b.phases()) == {"Find": 10, "Verify": 30, "Fix": 1, "Quick": 1}
    assert b.evaluate({"files": 2}) == 2 + 6 + 1


def test_a_return_that_costs_nothing_changes_no_bound() -> None:
    plain = checked("input xs: list[str] max 8\nr = fanout x in xs:\n    agent \"a {x}\"\nreturn r\n")
    early = checked("input xs: list[str] max 8\nif len(xs) == 0:\n    return []\n"
                    "r = fanout x in xs:\n    agent \"a {x}\"\nreturn r\n")
    assert plain.bound.total == early.bound.total == 8
    assert early.bound.formula() == "xs"


def test_an_exit_that_costs_more_than_the_rest_is_the_bound() -> None:
    b = checked("""
        input xs: list[str] max 8
        input careful: bool = false
        if careful:
            r = fanout x in xs:
                agent "careful {x}"
            return r
        return [agent_free for agent_free in xs]
    """).bound
    assert b.total == 8 and b.formula() == "max(0, xs)"


def test_the_result_type_joins_every_return() -> None:
    r = checked("""
        type F:
            file: str
        input q: bool = true
        if q:
            return []
        x = agent "deep" -> list[F] max 4
        return x
    """)
    assert r.result.describe() == "list[F] max 4"
    # a path that ends without `return` gives none
    falls = checked('input q: bool = true\nif q:\n    return "quick"\nlog "went on"\n')
    assert falls.result.describe() == "str?"


def test_meta_phases_lists_every_phase_block_with_its_bound() -> None:
    r = checked(EARLY)
    js = compile_js(r.program, bound=r.bound, source_name="t.wf")
    meta = js[: js.index("\n}\n")]
    titles = [line.split("'")[1] for line in meta.splitlines() if "title:" in line]
    assert titles == ["Find", "Verify", "Fix", "Quick"]
    assert "title: 'Verify', detail: 'at most 30 agents'" in meta
    # exactly the titles passed to phase()
    assert sorted(set(re.findall(r"\bphase\('([^']+)'\)", js))) == sorted(titles)


@needs_node_marker
@pytest.mark.parametrize("case", [
    ("deep, every bug real", {"files": ["a", "b"], "deep": True}, WORST, 2 + 6 + 1),
    ("quick", {"files": ["a", "b"]}, WORST, 3),
    ("quick, empty summary", {"files": ["a"]}, EMPTY_SUMMARY, 2),
    ("nothing found", {"files": ["a", "b", "c"], "deep": True}, NONE_FOUND, 3),
    ("every third agent fails", {"files": ["a", "b", "c"], "deep": True}, {**WORST, "fail_one_in": 3}, None),
], ids=lambda c: c[0])
def test_both_targets_leave_at_the_same_return(case, tmp_path: Path) -> None:
    _, args, fake, started = case
    both = run_both(write(tmp_path, EARLY), args, fake, tmp_path)
    assert_same(both)
    phases = sorted({c["phase"] for c in both["js"]["calls"]})
    assert phases == sorted({c["phase"] for c in both["py_calls"]})
    if started is not None:
        assert both["js"]["agents_started"] == started
    if case[0] == "deep, every bug real":
        # the worst path reaches the proven bound for these arguments: it is exact
        assert both["bound"] == started
        assert both["py_value"] == ["fixed"] and phases == ["Find", "Fix", "Verify"]
    if case[0] == "nothing found":
        assert both["py_value"] == [] and phases == ["Find"]
    if case[0] == "quick, empty summary":
        assert both["py_value"] == [] and phases == ["Find", "Quick"]


@needs_node_marker
def test_a_child_workflow_returns_early_to_its_caller(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text(textwrap.dedent('''\
        workflow child:
            description: "d"
        input x: str
        if x == "skip":
            return "skipped"
        r = agent "Do {x}"
        return r
    '''), encoding="utf-8")
    body = """
        input xs: list[str] max 4
        out = for x in xs:
            run "child.wf" with {x: x}
        return out
    """
    fake = {"rules": [{"prompt": "^Do (.*)", "reply": "did"}], "default": "fail"}
    both = run_both(write(tmp_path, body), {"xs": ["a", "skip", "b"]}, fake, tmp_path)
    assert_same(both)
    assert both["py_value"] == ["did", "skipped", "did"]
    assert json.dumps(both["js"]["result"]) == json.dumps(both["py_value"])


def test_wf_graph_draws_every_return_every_fail_and_phases_in_an_if() -> None:
    from wflang.dsl.loader import load
    from wflang.graph import build_graph, to_dot, to_mermaid

    loaded = load("t.wf", HEADER + textwrap.dedent(EARLY))
    g = build_graph(loaded)
    rets = [n for n in g.nodes if n.kind == "return"]
    assert [n.line for n in rets] == [16, 24, 29, 31] and [n.id for n in rets] == ["ret", "ret2", "ret3", "ret4"]
    assert {n.phase for n in g.constructs()} == {"Find", "Verify", "Fix", "Quick"}
    assert "{ rank=sink; ret; ret2; ret3; ret4; }" in to_dot(g)
    failing = load("f.wf", HEADER + textwrap.dedent("""
        input xs: list[str] max 3
        r = fanout x in xs:
            a = agent "go {x}"
            if a == "":
                fail "empty answer for {x}"
            a
        return r
    """))
    g = build_graph(failing)
    fail = next(n for n in g.nodes if n.kind == "fail")
    assert fail.line == 8 and fail.title == 'fail "empty answer for {x}"'
    assert any(e.src == "n1" and e.dst == fail.id and e.body for e in g.edges)  # under its fan-out
    assert f'{fail.id}>"fail #quot;empty answer for {{x}}#quot;<br/>line 8"]' in to_mermaid(g)
    assert "shape=octagon" in to_dot(g)


def test_a_branch_that_returns_does_not_pay_for_the_rest() -> None:
    b = checked("""
        input files: list[str] max 10
        input quick: bool = false
        if quick:
            s = agent "Summarise {files}"
            return [s]
        notes = fanout f in files:
            agent "Review {f}"
        return notes
    """).bound
    # counted as if it did not return, it would be 1 + 10 = 11
    assert b.total == 10 and b.formula() == "max(files, 1)"
    assert dict(b.phases()) == {"(top level)": 10}
    assert b.evaluate({"files": 0}) == 1
