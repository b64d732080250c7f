"""The bound rules of docs/language.md, one construct at a time, each against a hand
computation; sequencing, nesting, `--args` recomputation, output tokens, caps and budgets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.bounds import AGENT_CAP, Bound
from wflang.dsl.checker import CheckResult, check_program
from wflang.dsl.loader import load
from wflang.dsl.parser import parse

ROOT = Path(__file__).resolve().parents[2]
DECLS = '''\
input files: list[str] max 7
input k: int max 4 = 2

type Verdict:
    refuted: bool

LENSES = ["security", "speed", "style"]
'''


def check(body: str, decls: str = DECLS, head: str = "") -> CheckResult:
    src = 'workflow t:\n    description: "test"\n\n' + decls + head + '\nphase "P":\n' + \
        textwrap.indent(textwrap.dedent(body), "    ")
    return check_program(parse(src, "t.wf"))


def bound(body: str, decls: str = DECLS, head: str = "") -> Bound:
    r = check(body, decls, head)
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]
    assert r.bound is not None
    return r.bound


AGENT = 'agent "x"'
TWO = 'a = agent "x"\nagent "y {a}"'


def block(stmts: str) -> str:
    return textwrap.indent(stmts, "    ")


# ---------------------------------------------------------------- one rule per construct


@pytest.mark.parametrize("body, expected", [
    # agent: 1; check: 1
    (f"x = {AGENT}\n", 1),
    ('x = check "ok?"\n', 1),
    # sequence: A(S1) + A(S2)
    (f"x = {AGENT}\ny = {AGENT}\nz = check \"c\"\n", 3),
    # fanout / for: |C| × A(BODY)
    (f"xs = fanout f in files:\n{block(AGENT)}\n", 7),
    (f"xs = fanout f in files:\n{block(TWO)}\n", 7 * 2),
    (f"xs = for f in files:\n{block(TWO)}\n", 7 * 2),
    (f"xs = fanout f in files with concurrency=2:\n{block('stop when budget.remaining < 1')}\n{block(AGENT)}\n", 7),
    # fan-out inside a fan-out multiplies
    (f"xs = fanout f in files:\n    fanout l in LENSES:\n{block(block(AGENT))}\n", 7 * 3),
    # review: |C| × N (× A(reviewer) when the reviewer runs more than one agent)
    ("r = review f in files by 3:\n    agent \"x\" -> bool\n    accept when answer\n", 7 * 3),
    ("r = review f in files by k keep if 1:\n    agent \"x\" -> bool\n    accept when answer\n", 7 * 4),
    ("r = review f in files by 2:\n    a = agent \"x\"\n    agent \"y\" -> bool\n    accept when answer\n", 7 * 2 * 2),
    # review by v in L: |C| × |L|
    ("r = review f in files by l in LENSES keep if all:\n    agent \"x\" -> bool\n    accept when answer\n", 7 * 3),
    # vote: N × A(AGENT)
    (f"v = vote 5:\n{block(AGENT)}\n", 5),
    (f"v = vote k quorum 1:\n{block(AGENT)}\n", 4),
    (f"v = vote 3:\n{block(TWO)}\n", 3 * 2),
    # tournament: |C| − 1
    ("b = tournament a vs c in files:\n    agent \"x\" -> bool\n    pick a when answer\n", 7 - 1),
    ("b = tournament a vs c in [1]:\n    agent \"x\" -> bool\n    pick a when answer\n", 0),
    # repeat: K × A(BODY)
    (f"r = repeat max 4:\n{block(AGENT)}\n", 4),
    (f"r = repeat max k as i:\n{block('stop when i > 1')}\n{block(TWO)}\n", 4 * 2),
    # fix: (K+1) × A(CHECK) + K × A(BODY)
    (f"o = fix max 3:\n{block(AGENT)}\nuntil check \"c\"\n", 4 * 1 + 3 * 1),
    (f"o = fix max 3 stall 1:\n{block(TWO)}\nuntil check \"c\"\n", 4 * 1 + 3 * 2),
    (f"o = fix max k:\n{block(AGENT)}\nuntil agent \"passed?\" -> Status\n", (4 + 1) * 1 + 4 * 1),
    # if: max(A(then), A(else))
    (f"if k > 1:\n{block(TWO)}\n{block(AGENT)}\nelse:\n{block(AGENT)}\n", 3),
    (f"if k > 1:\n{block(AGENT)}\nelif k > 2:\n{block(TWO)}\n{block(TWO)}\nelse:\n    log \"none\"\n", 4),
    # range(a, b) with a start of at least k ≥ 0: max(b − k, 0) items
    ("r = fanout s in range(1, 3):\n    agent \"do {s}\"\n", 2),
    ("r = fanout s in range(5, 3):\n    agent \"do {s}\"\n", 0),
    # pure data costs nothing
    ("xs = [f for f in files if f != \"a\"]\nys = top(xs, 3)\nlog \"{ys}\"\n", 0),
])
def test_bound_rule(body: str, expected: int) -> None:
    decls = DECLS + "\ntype Status:\n    passed: bool\n"
    assert bound(body, decls).total == expected


def test_design_example() -> None:
    loaded = load(str(ROOT / "examples" / "pr-review" / "pr-review.wf"))
    assert loaded.ok
    b = loaded.result.bound  # type: ignore[union-attr]
    assert b is not None
    # 200 files × 1 + min(200×5, 60) findings × 3 reviewers + 3 fixes + (3+1) checks
    assert b.total == 200 + 60 * 3 + 3 + 4 == 387
    assert b.phases() == [("Find", 200), ("Verify", 180), ("Fix", 7)]
    # 12 files: 12 + min(12×5, 60)×3 + 7
    assert b.evaluate({"files": 12}) == 12 + 60 * 3 + 7 == 199
    assert b.evaluate({"files": 3}) == 3 + 15 * 3 + 7
    assert b.formula() == "files + min(files×5, 60)×3 + (3×1 + (3 + 1)×1)"
    assert b.inputs[0].name == "files" and b.inputs[0].max == 200


def test_terms_trace_construct_and_line() -> None:
    b = bound(f"""\
        xs = fanout f in files:
            {AGENT}
        r = review f in files by 3:
            agent "x" -> bool
            accept when answer
        """)
    first, second = b.terms
    assert (first.phase, first.line) == ("P", 13)
    assert first.desc == "fanout over files (max 7, line 4) × 1 agent"
    assert second.line == 15 and second.desc.startswith("review: files (max 7, line 4) × 3 reviewers")
    assert [t["derivation"] for t in b.as_json()["terms"]] == [first.desc, second.desc]


def test_symbolic_formula_uses_input_names() -> None:
    b = bound(f"""\
        xs = fanout f in files:
            {AGENT}
        r = repeat max k:
            {AGENT}
        v = vote k:
            {AGENT}
        """)
    assert b.formula() == "files + k×1 + k"
    assert b.total == 7 + 4 + 4
    assert b.evaluate({"files": 2, "k": 1}) == 2 + 1 + 1
    assert b.numeric_formula({"files": 2, "k": 1}) == "2 + 1×1 + 1"


def test_args_recompute_the_bound() -> None:
    loaded = load("t.wf", 'workflow t:\n    description: "d"\n\n' + DECLS + '''
phase "P":
    xs = fanout f in files:
        agent "x {f}"
    ys = repeat max k:
        agent "y"
''')
    assert loaded.ok
    values, diags = validate_args(loaded.program, {"files": ["a", "b", "c"]})
    assert diags == []
    s = sizes(loaded.program, values)
    assert s == {"files": 3, "k": 2}  # k takes its default
    assert loaded.result.bound.evaluate(s) == 3 + 2  # type: ignore[union-attr]


def test_phases_in_source_order_with_top_level() -> None:
    src = 'workflow t:\n    description: "d"\n\n' + DECLS + '''
x = agent "before any phase"

phase "B":
    log "no agents"

phase "A":
    y = agent "one"
'''
    b = check_program(parse(src)).bound
    assert b is not None
    assert b.phases() == [("B", 0), ("A", 1), ("(top level)", 1)]


def test_agents_in_a_phase_option_count_in_their_phase() -> None:
    b = bound(f'x = agent "x" with phase="Side"\ny = {AGENT}\n')
    assert b.total == 2


# ---------------------------------------------------------------- run "other.wf"


CHILD = '''\
workflow child:
    description: "A workflow run by another"

input items: list[str] max 50
input depth: int max 4 = 1

phase "Child":
    notes = fanout item in items:
        agent "Look at {item}"
    more = repeat max depth:
        agent "Go deeper"
'''


def run_bound(tmp_path: Path, call: str) -> Bound:
    (tmp_path / "child.wf").write_text(CHILD, encoding="utf-8")
    parent = 'workflow parent:\n    description: "d"\n\n' + DECLS + '\nphase "P":\n    ' + call + "\n"
    (tmp_path / "parent.wf").write_text(parent, encoding="utf-8")
    loaded = load(str(tmp_path / "parent.wf"))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    assert loaded.result.bound is not None  # type: ignore[union-attr]
    return loaded.result.bound  # type: ignore[union-attr]


def test_run_uses_the_callers_sizes(tmp_path: Path) -> None:
    # A(child) = items + depth, with items ≤ |files| = 7 and depth = 2
    b = run_bound(tmp_path, 'r = run "child.wf" with {items: files, depth: 2}')
    assert b.total == 7 + 2
    assert b.evaluate({"files": 3}) == 3 + 2


def test_run_with_an_int_input_of_the_caller(tmp_path: Path) -> None:
    b = run_bound(tmp_path, 'r = run "child.wf" with {items: take(files, 2), depth: k}')
    assert b.total == 2 + 4
    assert b.evaluate({"k": 1}) == 2 + 1


def test_run_defaults_to_the_childs_maxima(tmp_path: Path) -> None:
    # `depth` not passed: its declared max (4) bounds it; a computed value does the same
    assert run_bound(tmp_path, 'r = run "child.wf" with {items: LENSES}').total == 3 + 4
    assert run_bound(tmp_path, 'r = run "child.wf" with {items: LENSES, depth: len(files)}').total == 3 + 4


def test_run_is_one_level_deep(tmp_path: Path) -> None:
    (tmp_path / "grandchild.wf").write_text(CHILD, encoding="utf-8")
    (tmp_path / "middle.wf").write_text(CHILD.replace('    more = repeat max depth:\n        agent "Go deeper"\n',
                                                      '    g = run "grandchild.wf" with {items: items}\n'),
                                        encoding="utf-8")
    (tmp_path / "top.wf").write_text('workflow top:\n    description: "d"\n\nphase "P":\n'
                                     '    r = run "middle.wf" with {items: ["a"]}\n', encoding="utf-8")
    loaded = load(str(tmp_path / "top.wf"))
    assert [d.code for d in loaded.diagnostics] == ["WF222"]


def test_run_requires_the_childs_required_inputs(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text(CHILD, encoding="utf-8")
    (tmp_path / "p.wf").write_text('workflow p:\n    description: "d"\n\nphase "P":\n'
                                   '    r = run "child.wf" with {depth: 1}\n', encoding="utf-8")
    assert [d.code for d in load(str(tmp_path / "p.wf")).diagnostics] == ["WF403"]


# ---------------------------------------------------------------- output tokens


def test_output_tokens_from_defaults_and_options() -> None:
    b = bound(f"""\
        xs = fanout f in files:
            agent "x" with max_output_tokens=1000
        y = {AGENT}
        o = fix max 2:
            {AGENT}
        until check "c" with max_output_tokens=500
        """, head="defaults max_output_tokens=3000\n")
    assert b.tokens_for() == 7 * 1000 + 3000 + 2 * 3000 + 3 * 500


def test_output_tokens_unknown_without_a_maximum() -> None:
    assert bound(f"x = {AGENT}\n").tokens_for() is None


def test_output_tokens_follow_the_arguments() -> None:
    b = bound(f"xs = fanout f in files:\n{block(AGENT)}\n", head="defaults max_output_tokens=100\n")
    assert b.tokens_for() == 700 and b.tokens_for({"files": 2}) == 200


# ---------------------------------------------------------------- caps and budgets


def codes(body: str, head: str = "", decls: str = DECLS) -> list[str]:
    return [d.code for d in check(body, decls, head).diagnostics]


def test_agent_cap() -> None:
    exactly = DECLS.replace("max 7", "max 500")
    assert codes(f"xs = fanout f in files:\n{block(TWO)}\n", decls=exactly) == []  # 500×2 = 1000: allowed
    over = DECLS.replace("max 7", "max 501")
    assert codes(f"xs = fanout f in files:\n{block(TWO)}\n", decls=over) == ["WF310"]  # 1002
    assert bound(f"xs = fanout f in files:\n{block(AGENT)}\ny = {AGENT}\n",
                 decls=DECLS.replace("max 7", "max 999")).total == AGENT_CAP


def test_cap_error_shows_the_derivation_and_knobs() -> None:
    decls = DECLS.replace("max 7", "max 400")
    r = check(f"xs = fanout f in files:\n{block(AGENT)}\nr = review f in files by 2:\n"
              "    agent \"x\" -> bool\n    accept when answer\n", decls)
    (d,) = r.diagnostics
    assert d.code == "WF310" and "1200" in d.message
    assert d.notes[0] == "worst case 400 + 400×2 = 1200"
    assert any("review: files (max 400, line 4) × 2 reviewers" in n for n in d.notes)
    assert "input files max 400 (line 4)" in (d.hint or "") and "by 2" in (d.hint or "")


def test_agent_budget() -> None:
    assert codes(f"xs = fanout f in files:\n{block(AGENT)}\n", head="budget agents <= 7\n") == []
    assert codes(f"xs = fanout f in files:\n{block(AGENT)}\n", head="budget agents <= 6\n") == ["WF311"]


def test_token_budget() -> None:
    head = "defaults max_output_tokens=1000\nbudget output_tokens <= 7000\n"
    assert codes(f"xs = fanout f in files:\n{block(AGENT)}\n", head=head) == []
    assert codes(f"xs = fanout f in files:\n{block(AGENT)}\ny = {AGENT}\n", head=head) == ["WF312"]


def test_item_cap() -> None:
    decls = DECLS.replace("max 7", "max 4096")
    assert codes(f"xs = fanout f in files:\n{block(AGENT)}\n", decls=decls) == ["WF310"]  # items fine, agents not
    assert "WF304" in codes(f"xs = fanout f in [a + b for a in files for b in files]:\n{block(AGENT)}\n",
                            decls=DECLS.replace("max 7", "max 100"))


def test_guards_never_raise_the_bound() -> None:
    plain = bound(f"xs = fanout f in files:\n{block(AGENT)}\n").total
    guarded = bound(f"xs = fanout f in files:\n    stop when budget.remaining < 10\n{block(AGENT)}\n").total
    assert guarded == plain == 7
