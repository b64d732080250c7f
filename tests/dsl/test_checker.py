"""The checker: names, types, and list maxima through assignments, builtins and loops.

A list's derived maximum is observed through the bound: `probe = fanout y in LIST: agent`
costs exactly |LIST| agents, so the term of the probe's line is the list's maximum.
"""

from __future__ import annotations

import textwrap

import pytest

from wflang.dsl import ast
from wflang.dsl.checker import CheckResult, check_program
from wflang.dsl.parser import parse

DECLS = '''\
input files: list[str] max 10
input others: list[str] max 7
input n: int max 4 = 2
input rounds: int max 3 = 1

type Finding:
    file: str
    line: int
    severity: "low" | "medium" | "high"

type Verdict:
    refuted: bool
    why: str

LENSES = ["security", "speed", "style"]
'''


def check(body: str, decls: str = DECLS) -> CheckResult:
    src = 'workflow t:\n    description: "test"\n\n' + decls + '\nphase "P":\n' + \
        textwrap.indent(textwrap.dedent(body), "    ")
    return check_program(parse(src, "t.wf"))


def ok(body: str, decls: str = DECLS) -> CheckResult:
    r = check(body, decls)
    assert r.ok, [(d.code, d.message, d.span) for d in r.diagnostics]
    return r


def errors(body: str, decls: str = DECLS) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in check(body, decls).diagnostics if d.severity == "error"]


def list_max(body: str, name: str, sizes: dict[str, int] | None = None) -> int:
    """The derived maximum of list `name` after `body`, read off a probe fan-out."""
    r = ok(textwrap.dedent(body) + f'probe = fanout y_ in {name}:\n    agent "probe {{y_}}"\n')
    assert r.bound is not None
    probe = r.bound.terms[-1]
    assert "fanout over" in probe.desc, probe
    env = {**r.bound.worst_env, **(sizes or {})}
    return probe.agents.eval(env)


# ---------------------------------------------------------------- list maxima


def test_input_max_and_assignment() -> None:
    assert list_max("xs = files\n", "xs") == 10
    assert list_max("", "files") == 10


def test_reassignment_tracks_the_new_maximum() -> None:
    assert list_max("xs = take(files, 3)\nxs = xs + others\n", "xs") == 3 + 7


@pytest.mark.parametrize("expr, expected", [
    ("take(files, 3)", 3),
    ("take(files, 30)", 10),
    ("take(files, n)", 4),
    ("top(files, 2)", 2),
    ("unique(files)", 10),
    ("sort(files, reverse=true)", 10),
    ("files + others", 17),
    ("files + files + others", 27),
    ("range(5)", 5),
    ("range(n)", 4),
    ("range(1, rounds)", 2),  # rounds − 1 at most
    ("[f for f in files]", 10),
    ("[f for f in files if f != 'a']", 10),
    ("[f + l for f in files for l in LENSES]", 30),
    ("LENSES", 3),
    ("[1, 2]", 2),
    ("files[:4]", 4),
    ("files[2:]", 10),
    ("chunks(files, 3)", 4),  # ⌈10/3⌉
    ("chunks(files, 10)", 1),
    ("chunks(files, 20)", 1),
    ("flatten(chunks(files, 3))", 12),  # 4 chunks of at most 3
])
def test_builtin_maxima(expr: str, expected: int) -> None:
    assert list_max(f"xs = {expr}\n", "xs") == expected


def test_flatten_multiplies_agent_result_maxima() -> None:
    body = '''\
        reports = fanout f in files:
            agent "Review {f}" -> list[Finding] max 5
        found = flatten(reports)
        '''
    assert list_max(body, "reports") == 10
    assert list_max(body, "found") == 50
    assert list_max(body + "best = top(unique(found, by=(.file, .line)), 60, by=.severity)\n", "best") == 50
    assert list_max(body + "best = top(found, 8, by=.severity)\n", "best") == 8


def test_fanout_result_has_one_item_per_input_item() -> None:
    body = '''\
        pairs = fanout f in files:
            fanout l in LENSES:
                agent "{f} {l}"
        '''
    assert list_max(body, "pairs") == 10
    assert list_max(body + "all_pairs = flatten(pairs)\n", "all_pairs") == 30


def test_review_keeps_and_drops_at_most_its_input() -> None:
    body = '''\
        kept, dropped = review f in files by 3:
            agent "Refute {f}" -> Verdict
            accept when not refuted
        '''
    assert list_max(body, "kept") == 10
    assert list_max(body, "dropped") == 10


def test_symbolic_maximum_follows_the_arguments() -> None:
    assert list_max("xs = take(files, n)\n", "xs", {"files": 3, "n": 4}) == 3
    assert list_max("xs = take(files, n)\n", "xs", {"files": 9, "n": 2}) == 2


def test_repeat_with_a_growing_list_is_unrolled() -> None:
    body = '''\
        ideas = []
        more = repeat max 3:
            new = agent "One more idea, not in {ideas}" -> list[str] max 2
            ideas = ideas + new
        '''
    assert list_max(body, "ideas") == 6
    r = ok(body)
    assert r.bound is not None and r.bound.total == 3
    assert "unrolled" in r.bound.terms[0].desc


def test_repeat_growth_capped_by_take() -> None:
    body = '''\
        ideas = []
        more = repeat max 4:
            new = agent "Idea" -> list[str] max 3
            ideas = take(ideas + new, 5)
        '''
    assert list_max(body, "ideas") == 5


def test_repeat_rounds_from_an_int_input() -> None:
    body = '''\
        ideas = []
        more = repeat max rounds:
            new = agent "Idea" -> list[str] max 2
            ideas = ideas + new
        '''
    assert list_max(body, "ideas") == 6
    r = ok(body)
    assert r.bound is not None
    assert r.bound.evaluate({"rounds": 2}) == 2 and r.bound.evaluate({"rounds": 0}) == 0


def test_stable_repeat_is_not_unrolled() -> None:
    r = ok('''\
        more = repeat max 5 as i:
            stop when i >= 3
            note = agent "Round {i}"
        ''')
    assert r.bound is not None and r.bound.total == 5


def test_if_branches_join_list_maxima() -> None:
    body = '''\
        if n > 2:
            xs = take(files, 2)
        else:
            xs = take(others, 5)
        '''
    assert list_max(body, "xs") == 5
    # assigned in one branch only: optional, still iterable with its maximum
    assert list_max("ys = take(files, 1)\nif n > 2:\n    ys = files\n", "ys") == 10


# ---------------------------------------------------------------- names and scopes


def test_fanout_body_names_are_local() -> None:
    errs = errors('''\
        xs = fanout f in files:
            note = agent "Look at {f}"
            note
        log "{note}"
        ''')
    assert errs == [("WF201", "unknown name `note`")]


def test_repeat_and_fix_body_names_carry_over() -> None:
    ok('''\
        more = repeat max 2:
            last = agent "Again"
        out = fix max 2:
            patch = agent "Fix"
        until check "ok?"
        log "{last} {patch}"
        ''')


def test_loop_variable_and_constants_in_scope() -> None:
    ok('''\
        xs = fanout f in files:
            agent "Look at {f} through {LENSES[0]}"
        more = repeat max 2 as i:
            agent "Round {i}"
        ''')


def test_names_must_be_assigned_before_use() -> None:
    assert errors('log "{later}"\nlater = 1\n') == [("WF201", "unknown name `later`")]


def test_one_mistake_one_error() -> None:
    """A failed assignment still defines its name, so later uses are not reported again."""
    errs = errors('xs = take(fils, 3)\nys = fanout x in xs:\n    agent "{x}"\nlog "{xs} {ys}"\n')
    assert errs == [("WF201", "unknown name `fils`")]


# ---------------------------------------------------------------- types and fields


def test_record_fields_and_merge() -> None:
    ok('''\
        f = agent "One finding" -> Finding
        g = f | {dimension: "security"}
        log "{g.file}:{g.line} {g.dimension} {f.severity}"
        ''')


def test_unknown_field_suggests() -> None:
    r = check('f = agent "One" -> Finding\nlog "{f.fiel}"\n')
    (d,) = r.diagnostics
    assert d.code == "WF225" and d.hint == "did you mean `.file`?"
    assert d.span is not None and (d.span.col, d.span.end_col) == (13, 17)  # under `fiel` only


def test_accept_when_sees_the_answer_fields() -> None:
    ok('''\
        kept = review f in files by 3 keep if 2:
            agent "Refute {f}" -> Verdict
            accept when not refuted and why != ""
        k2 = review f in files by l in LENSES keep if all:
            agent "Is {f} fine for {l}?" -> bool
            accept when answer
        ''')
    assert errors('''\
        kept = review f in files by 3:
            agent "Refute {f}" -> Verdict
            accept when not refutd
        ''') == [("WF201", "unknown name `refutd`")]


def test_tournament_pick_sees_the_answer() -> None:
    ok('''\
        best = tournament a vs b in files:
            agent "A: {a} B: {b}" -> "A" | "B"
            pick a when answer == "A"
        log "{best}"
        ''')


def test_dropped_items_have_verdict_fields() -> None:
    ok('''\
        kept, dropped = review f in files by 3:
            agent "Refute {f}" -> Verdict
            accept when not refuted
        reasons = [d.item + " " + d.status for d in dropped if d.rejects > d.accepts]
        ''')


def test_fix_and_check_values() -> None:
    ok('''\
        out = fix max 3 stall 1:
            agent "Fix"
        until check "Tests pass?"
        status = check "Still green?"
        log "{out.passed} {out.attempts} {out.last.details} {status.passed} {status.details}"
        ''')
    errs = errors('out = fix max 2:\n    agent "Fix"\nuntil check "ok?"\nlog "{out.passes}"\n')
    assert errs == [("WF225", "`{passed: bool, attempts: int, last: {passed: bool, details: str}?}` "
                              "has no field `passes`")]


def test_vote_answer_is_optional_and_fields_work() -> None:
    ok('''\
        v = vote 3 quorum 2:
            agent "Refute it" -> Verdict
        if v.refuted:
            log "refuted: {v.why}"
        ''')


def test_budget_fields() -> None:
    ok('''\
        xs = fanout f in files:
            stop when budget.remaining < 25000 or budget.total == none
            agent "{f}"
        ''')
    assert errors("log budget.spent\n") == [("WF225", "`budget` has no field `spent`")]


def test_key_orders_for_union_keys() -> None:
    r = ok('''\
        found = agent "Find" -> list[Finding] max 5
        a = top(found, 3, by=.severity)
        b = unique(found, by=(.file, .line))
        c = sort(found, by=(.severity, .line))
        d = max(found, by=lambda x: x.severity)
        ''')
    calls = {s.targets[0]: s.value for s in r.program.phases()[0].body if isinstance(s, ast.Assign)}
    assert calls["a"].key_orders == [["low", "medium", "high"]]  # type: ignore[attr-defined]
    assert calls["b"].key_orders is None  # type: ignore[attr-defined]
    assert calls["c"].key_orders == [["low", "medium", "high"], None]  # type: ignore[attr-defined]
    assert calls["d"].key_orders == [["low", "medium", "high"]]  # type: ignore[attr-defined]


def test_union_literal_comparisons() -> None:
    ok('f = agent "F" -> Finding\nif f.severity == "high":\n    log "!"\n')
    errs = errors('f = agent "F" -> Finding\nif f.severity == "hihg":\n    log "!"\n')
    assert errs == [("WF224", '"hihg" is not one of "low" | "medium" | "high"')]


@pytest.mark.parametrize("body, code", [
    ('x = 1 + "a"\n', "WF213"),
    ("x = -files\n", "WF213"),
    ('x = files["a"]\n', "WF213"),
    ("x = {a: 1} | 3\n", "WF213"),
    ("x = len(files, files)\n", "WF227"),
    ("x = take(files, 2, by=.x)\n", "WF227"),
    ("x = sort(files, by=3)\n", "WF227"),
    ("x = flatten(3)\n", "WF213"),
    ("x = chunks(files, 0)\n", "WF303"),  # a computed or named size is fine (tests/test_counts.py)
    ('x = take(files, "2")\n', "WF213"),
    ('xs = for f in "abc":\n    agent "x"\n', "WF220"),
    ('x = agent "a" with phase="{n}"\n', "WF214"),
    ('x = agent "a" with model="a", model="b"\n', "WF214"),
    ('x = agent "a" -> Finding?\nlog x.nope\n', "WF225"),
    ('len = 3\n', "WF219"),
    ('answer = 3\n', "WF219"),
    ('a, b = 1\n', "WF217"),
    ('x = run "missing.wf"\n', "WF222"),
])
def test_type_errors(body: str, code: str) -> None:
    assert code in [c for c, _ in errors(body)], errors(body)


def test_int_input_without_max_cannot_size_a_loop() -> None:
    decls = "input k: int = 3\n"
    r = check("xs = repeat max k:\n    agent \"x\"\n", decls)
    (d,) = r.diagnostics
    assert d.code == "WF303" and "input k: int max N" in (d.hint or "")


def test_input_defaults() -> None:
    decls = '''\
        input mode: "fast" | "slow" = "fast"
        input maybe: str? = none
        input xs: list[str] max 3 = ["a", "b"]
        input k: int max 5 = 5
        input ratio: float = 1
        '''
    ok('log "{mode} {maybe} {xs} {k} {ratio}"\n', textwrap.dedent(decls))
    bad = check('log "x"\n', 'input xs: list[str] max 2 = ["a", "b", "c"]\n')
    assert [d.code for d in bad.diagnostics] == ["WF213"]
    assert "3 items, the workflow declares max 2" in bad.diagnostics[0].message


def test_header_checks() -> None:
    r = check_program(parse('workflow Bad_Name:\n    permissions: edit, root\n', "t.wf"))
    assert sorted(d.code for d in r.diagnostics) == ["WF208", "WF208", "WF209"]
