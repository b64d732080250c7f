"""`wf graph`: every phase and every agent-starting construct of every example appears,
with the count the checker proves; the counts of nested constructs add up; dot and svg."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from wflang import graph as wfgraph
from wflang.dsl import ast
from wflang.dsl.loader import Loaded, load
from wflang.graph import CONSTRUCTS, build_graph, construct_counts, graph_command, kind_of, to_dot, to_mermaid

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / f"{p.name}.wf").is_file())


def loaded(name: str) -> Loaded:
    result = load(str(ROOT / "examples" / name / f"{name}.wf"))
    assert result.ok
    return result


def from_source(tmp_path: Path, text: str) -> Loaded:
    path = tmp_path / "t.wf"
    path.write_text(text, encoding="utf-8")
    result = load(str(path))
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def constructs(program: ast.Program) -> list[ast.Node]:
    return [n for n in ast.walk(program.body) if isinstance(n, CONSTRUCTS)]


def agents_text(n: int) -> str:
    return f"{n} agent" if n == 1 else f"{n} agents"


def mermaid_nodes(text: str) -> dict[str, str]:
    """node id -> its label, from the Mermaid text."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s+(n\d+)\W+\"(.*?)\"\W*$", text, re.M)}


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_phase_and_construct_appears_with_its_count(name: str) -> None:
    prog = loaded(name)
    bound = prog.result.bound  # type: ignore[union-attr]
    text = wfgraph.render(prog, "mermaid")
    assert text.startswith("flowchart TD\n")
    subgraphs = re.findall(r'^\s+subgraph \w+\["(.*)"\]$', text, re.M)
    for title, agents in bound.phases():
        if title == "(top level)":
            continue
        expected = f"{title} · {agents_text(agents)}" if agents else title
        assert expected in subgraphs, f"phase {title!r} missing from {subgraphs}"
    counts = construct_counts(prog)
    labels = list(mermaid_nodes(text).values())
    for node in constructs(prog.program):
        line = node.span.line
        wanted = f"line {line} · {agents_text(counts[node])}"
        assert any(label.startswith(kind_of(node)) and label.endswith(wanted) for label in labels), \
            f"{kind_of(node)} on line {line} with {counts[node]} agents is not drawn"


@pytest.mark.parametrize("name", EXAMPLES)
def test_top_level_counts_are_the_checkers_terms(name: str) -> None:
    """A construct that is a whole top-level statement has exactly the checker's count."""
    prog = loaded(name)
    bound = prog.result.bound  # type: ignore[union-attr]
    env = bound.worst_env
    terms = {t.line: t.agents.eval(env) for t in bound.terms}
    counts = construct_counts(prog)
    statements = [s for p in prog.program.body for s in (p.body if isinstance(p, ast.Phase) else [p])]
    for s in statements:
        value = s.value if isinstance(s, (ast.Assign, ast.ExprStmt, ast.Return)) else None
        if isinstance(value, CONSTRUCTS):
            assert counts[value] == terms[s.span.line], f"line {s.span.line}"
    assert sum(counts[v] for v in counts if _is_top(prog, v)) <= bound.total


def _is_top(prog: Loaded, node: ast.Node) -> bool:
    for p in prog.program.body:
        for s in p.body if isinstance(p, ast.Phase) else [p]:
            if getattr(s, "value", None) is node:
                return True
    return False


@pytest.mark.parametrize("name", EXAMPLES)
def test_nested_counts_add_up(name: str) -> None:
    """A loop's agents are its body's agents: no more than their sum (an `if` in the body
    counts only its larger branch), no fewer than the largest of them."""
    prog = loaded(name)
    g = build_graph(prog)
    for parent in g.constructs():
        children = [g.node(e.dst) for e in g.edges if e.body and e.src == parent.id]
        if not children:
            continue
        sizes = [c.agents or 0 for c in children]
        assert max(sizes) <= (parent.agents or 0) <= sum(sizes), parent.title


def test_design_example_numbers(tmp_path: Path) -> None:
    g = build_graph(loaded("pr-review"))
    by_line = {(n.kind, n.line): n.agents for n in g.constructs()}
    assert by_line == {("fanout", 22): 200, ("agent", 23): 200, ("review", 29): 180, ("agent", 30): 180,
                       ("fix", 34): 7, ("agent", 35): 3, ("check", 36): 4}
    assert g.total == 387
    assert g.phases == [("Find", 200), ("Verify", 180), ("Fix", 7)]


def test_data_flow_edges() -> None:
    g = build_graph(loaded("pr-review"))
    ids = {(n.kind, n.line): n.id for n in g.nodes}
    edges = {(e.src, e.dst, e.label) for e in g.edges if not e.body}
    assert ("in_files", ids["fanout", 22], "files") in edges  # an input is a source node
    assert ("in_focus", ids["agent", 23], "focus") in edges
    # through the pure step `findings = top(unique(flatten(reports)), ...)`
    assert (ids["fanout", 22], ids["review", 29], "findings") in edges
    assert (ids["review", 29], ids["agent", 35], "confirmed") in edges
    assert (ids["fix", 34], "ret", "outcome") in edges
    body = {(e.src, e.dst) for e in g.edges if e.body}
    assert (ids["fix", 34], ids["check", 36]) in body


def test_nested_loops_and_grown_rounds(tmp_path: Path) -> None:
    prog = from_source(tmp_path, '''\
workflow t:
    description: "nested"

input xs: list[str] max 10
input rounds: int max 3 = 2

type Item:
    name: str

phase "A":
    seen = []
    repeat max rounds as r:
        found = fanout x in xs:
            v = vote 3:
                agent "is {x} new in round {r}?" -> bool
            agent "describe {x}, known: {seen}" -> list[Item] max 2
        seen = take(seen + flatten(found), 50)
    best = tournament a vs b in seen:
        agent "better: {a} or {b}?" -> bool
        pick a when answer

return {best: best}
''')
    counts = {(kind_of(n), n.span.line): c for n, c in construct_counts(prog).items()}
    # 3 rounds × 10 items × (3 voters + 1 describer); the tournament runs 50 − 1 matches.
    assert counts == {("repeat", 12): 120, ("fanout", 13): 120, ("vote", 14): 90, ("agent", 15): 90,
                      ("agent", 16): 30, ("tournament", 18): 49, ("agent", 19): 49}
    assert prog.result.bound.total == 120 + 49  # type: ignore[union-attr]
    # With arguments: 2 rounds of 4 items.
    counts = {(kind_of(n), n.span.line): c for n, c in construct_counts(prog, {"xs": 4, "rounds": 2}).items()}
    assert counts[("repeat", 12)] == 2 * 4 * 4 and counts[("agent", 16)] == 8


def test_review_by_lenses_and_if_branches(tmp_path: Path) -> None:
    prog = from_source(tmp_path, '''\
workflow t:
    description: "lenses"

input xs: list[str] max 6
LENSES = [{k: "a"}, {k: "b"}]

phase "P":
    kept = review x in xs by l in LENSES keep if all:
        agent "judge {x} as {l.k}" -> bool
        accept when answer
    if len(kept) > 2:
        summary = agent "summarise {kept}"
    else:
        summary = check "is {kept} enough?"

return summary
''')
    counts = {(kind_of(n), n.span.line): c for n, c in construct_counts(prog).items()}
    assert counts == {("review", 8): 12, ("agent", 9): 12, ("agent", 12): 1, ("check", 14): 1}
    text = to_mermaid(build_graph(prog))
    assert 'subgraph phase1["P · 13 agents"]' in text
    assert "const_LENSES" in text


def test_run_and_top_level_statements(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text('''\
workflow child:
    description: "child"

input xs: list[str] max 5

phase "C":
    out = fanout x in xs:
        agent "look at {x}"

return out
''', encoding="utf-8")
    prog = from_source(tmp_path, '''\
workflow parent:
    description: "parent"

input files: list[str] max 20

first = agent "pick three of {files}" -> list[str] max 3
res = run "child.wf" with {xs: first}
return agent "summarise {res}"
''')
    g = build_graph(prog)
    assert {(n.kind, n.line, n.agents) for n in g.constructs()} == {("agent", 6, 1), ("run", 7, 3), ("agent", 8, 1)}
    assert all(n.phase is None for n in g.nodes)
    text = to_mermaid(g)
    assert '{{"run #quot;child.wf#quot;<br/>line 7 · 3 agents"}}' in text
    assert "subgraph" not in text
    ids = {(n.kind, n.line): n.id for n in g.nodes}
    edges = {(e.src, e.dst, e.label) for e in g.edges}
    assert (ids["agent", 6], ids["run", 7], "first") in edges
    assert (ids["agent", 8], "ret", "") in edges


def test_dot_output(tmp_path: Path) -> None:
    prog = loaded("bug-sweep")
    text = to_dot(build_graph(prog))
    assert text.startswith('digraph "bug-sweep" {') and text.rstrip().endswith("}")
    for title, agents in prog.result.bound.phases():  # type: ignore[union-attr]
        assert f'label="{title} · {agents_text(agents)}"' in text or (agents == 0 and f'label="{title}"' in text)
    assert text.count("subgraph cluster_") == 3
    assert 'line 28 · 500 agents' in text and 'line 30 · 250 agents' in text and 'line 38 · 250 agents' in text
    assert "style=dashed" in text  # body edges
    out, err = io.StringIO(), io.StringIO()
    assert graph_command(str(ROOT / "examples/bug-sweep/bug-sweep.wf"), "dot", None, out, err) == 0
    assert out.getvalue() == text


def test_mermaid_escapes_quotes_and_backticks(tmp_path: Path) -> None:
    prog = from_source(tmp_path, '''\
workflow t:
    description: "escapes"

phase "Say \\"hi\\"":
    x = check "Run `make` and say <ok> | not #1;"

return x
''')
    text = to_mermaid(build_graph(prog))
    assert "#96;make#96;" in text and "#lt;ok#gt;" in text and "#124;" in text and "#35;1;" in text
    assert 'subgraph phase1["Say #quot;hi#quot; · 1 agent"]' in text


def test_output_file(tmp_path: Path) -> None:
    out_file = tmp_path / "g.mmd"
    out, err = io.StringIO(), io.StringIO()
    rc = graph_command(str(ROOT / "examples/digest/digest.wf"), "mermaid", str(out_file), out, err)
    assert rc == 0 and out.getvalue() == ""
    assert out_file.read_text(encoding="utf-8").startswith("flowchart TD")
    assert "wrote" in err.getvalue()


def test_svg_when_graphviz_is_installed(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    out, err = io.StringIO(), io.StringIO()
    assert graph_command(str(ROOT / "examples/pr-review/pr-review.wf"), "svg", None, out, err) == 0, err.getvalue()
    assert "<svg" in out.getvalue() and "387 agents" in out.getvalue()


def test_svg_without_graphviz_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wfgraph.shutil, "which", lambda name: None)
    out, err = io.StringIO(), io.StringIO()
    assert graph_command(str(ROOT / "examples/pr-review/pr-review.wf"), "svg", None, out, err) == 1
    assert out.getvalue() == ""
    message = err.getvalue()
    assert "Graphviz" in message and "apt-get install graphviz" in message and "--format mermaid" in message


def test_errors_are_reported_like_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wf"
    bad.write_text('workflow bad:\n    description: "x"\n\nphase "A":\n    y = agent "{nope}"\n', encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert graph_command(str(bad), "mermaid", None, out, err) == 1
    assert out.getvalue() == ""
    assert "unknown name `nope`" in err.getvalue() and "error" in err.getvalue()
    assert graph_command(str(tmp_path / "missing.wf"), "mermaid", None, out, err) == 2


def test_cli_dispatches_to_graph(capsys: pytest.CaptureFixture[str]) -> None:
    from wflang.cli import main

    assert main(["graph", str(ROOT / "examples/majority-vote/majority-vote.wf")]) == 0
    assert "vote voters quorum 3" in capsys.readouterr().out
