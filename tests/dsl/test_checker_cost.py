"""The checker's own cost: programs that once took exponential time or crashed with a
RecursionError now check, with the exact bound (computed here by hand, round by round).
No timing here: bench/bench_check.py measures time."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from wflang.cli import EXIT_OK, check_command
from wflang.dsl.bounds import Bound
from wflang.dsl.checker import CheckResult, check_program
from wflang.dsl.parser import parse
from wflang.dsl.sizes import SHOW_LIMIT, Const, Knob, Var, add, mul, smax, smin
from wflang.dsl.span import Span


def check(body: str, decls: str = "input files: list[str] max 10\n") -> CheckResult:
    src = 'workflow t:\n    description: "test"\n\n' + decls + '\nphase "P":\n' + \
        textwrap.indent(textwrap.dedent(body), "    ")
    return check_program(parse(src, "t.wf"))


def bound(body: str, decls: str = "input files: list[str] max 10\n") -> Bound:
    r = check(body, decls)
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]
    assert r.bound is not None
    return r.bound


# ---------------------------------------------------------------- the reproductions


def _branchy(rounds: int) -> str:
    """Two lists, each grown from the other under one branch of an `if`, every round: the
    size formulas used to double each round (100 s at 10 rounds)."""
    return f"""\
a = take(files, 1)
b = take(files, 1)
out = repeat max {rounds}:
    found = fanout x in take(a + b, 3):
        agent "check {{x}}" -> list[str] max 2
    if len(found) > 1:
        a = a + b
    else:
        b = b + a
    found
"""


@pytest.mark.parametrize("rounds", [10, 50, 200])
def test_lists_through_if_branches_in_a_repeat(rounds: int) -> None:
    a = b = 1
    expected = 0
    for _ in range(rounds):
        expected += min(a + b, 3)
        a, b = max(a + b, a), max(b, b + a)  # the join of the two branches
    got = bound(_branchy(rounds))
    assert got.total == expected
    assert got.evaluate({"files": 0}) == 0
    assert len(got.formula()) <= SHOW_LIMIT + 10


def test_seen_plus_seen_does_not_double_the_formula() -> None:
    rounds = 40
    b = bound(f"""\
seen = take(files, 2)
out = repeat max {rounds}:
    found = fanout x in take(seen, 5):
        agent "check {{x}}" -> list[str] max 2
    seen = take(seen + seen + flatten(found), 100)
    found
""")
    seen, expected = 2, 0
    for _ in range(rounds):
        expected += min(seen, 5)
        seen = min(seen + seen + min(seen, 5) * 2, 100)
    assert b.total == expected
    # Each literal is named once, however often the formula reuses it.
    whats = [k.what for k in b.knobs()]
    assert sorted(whats) == ["input files max 10", "list max 2", "take 100", "take 2", "take 5"]


def test_repeat_200_deep_formula_checks(tmp_path: Path) -> None:
    """`seen = take(seen + found, 120)` nests the size 200 deep: once a RecursionError
    ("internal error", exit 3); now the bound, exactly."""
    body = """\
seen = take(files, 2)
out = repeat max 200:
    found = fanout x in take(seen, 2):
        agent "check {x}" -> list[str] max 1
    seen = take(seen + flatten(found), 120)
    found
"""
    b = bound(body)
    assert b.total == 400
    path = tmp_path / "deep.wf"
    path.write_text('workflow t:\n    description: "test"\n\ninput files: list[str] max 10\n\nphase "P":\n'
                    + textwrap.indent(body, "    "), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert check_command([str(path)], None, False, out, err) == EXIT_OK, err.getvalue()
    assert "agents, worst case:" in out.getvalue() and "= 400" in out.getvalue()


def test_repeat_200_with_list_state_under_if() -> None:
    """The case the goal names: 200 rounds, lists updated in both branches of an `if`."""
    body = """\
seen = []
extra = take(files, 3)
out = repeat max 200:
    found = fanout x in take(extra, 4):
        agent "check {x}" -> list[str] max 2
    if len(found) > 2:
        seen = take(seen + flatten(found), 50)
    else:
        extra = take(extra + seen, 40)
    found
"""
    seen, extra, expected = 0, 3, 0
    for _ in range(200):
        expected += min(extra, 4)
        seen, extra = max(min(seen + min(extra, 4) * 2, 50), seen), max(extra, min(extra + seen, 40))
    assert bound(body, "input files: list[str] max 10\nbudget agents <= 1000\n").total == expected


def test_many_ifs_join_only_what_they_wrote() -> None:
    """Each `if` once copied and joined every name in scope: quadratic in program length.
    The joins are unchanged: a list written in both branches has the larger maximum."""
    lines = [f"v{i} = take(files, {i % 5 + 1})" for i in range(300)]
    for i in range(300):
        lines += [f"if len(v{i}) > 1:", f"    w{i} = v{i} + v{i}", "    u = v0", "else:",
                  f'    log "no {i}"', f"    u = take(files, {i % 7 + 1})"]
    lines += ["probe = fanout y in w299:", '    agent "p {y}"', "probe2 = fanout y in u:", '    agent "q {y}"']
    b = bound("\n".join(lines) + "\n")
    assert [t.agents.eval(b.worst_env) for t in b.terms] == [2 * (299 % 5 + 1), max(1, 299 % 7 + 1)]


# ---------------------------------------------------------------- size formulas


SPAN = Span(1, 1, 1, 2)


def test_like_terms_merge_and_provenance_is_deduplicated() -> None:
    s = Var("files", Knob("input files max 10", SPAN))
    assert add(s, s) == mul(Const(2), s)
    assert add(add(s, s), s) == mul(Const(3), s)
    assert add(s, s).show() == "2×files"
    c = Const(3, Knob("max 3", SPAN))
    assert add(c, c).knobs() == [Knob("max 3", SPAN)]
    assert add(c, c).eval({}) == 6
    # max(s + t, s) = s + t and min(s + t, s) = s: exact, as sizes are never negative
    t = Var("t")
    assert smax(add(s, t), s) == add(s, t)
    assert smin(add(s, t), s) == s
    assert smax(add(s, s, t), s, t) == add(s, s, t)


def test_formulas_deeper_than_the_python_stack() -> None:
    s: object = Var("files", Knob("input files max 10", SPAN))
    for i in range(5000):
        s = smin(add(s, Const(1, Knob(f"k{i}", SPAN))), Const(100_000))  # type: ignore[arg-type]
    f = s  # type: ignore[assignment]
    assert f.eval({"files": 3}) == 5003  # type: ignore[attr-defined]
    assert f.vars() == {"files"}  # type: ignore[attr-defined]
    assert len(f.knobs()) == 5001  # type: ignore[attr-defined]
    assert len(f.show()) <= SHOW_LIMIT + 1  # type: ignore[attr-defined]
    assert f.subst({"files": Const(1)}).eval({}) == 5001  # type: ignore[attr-defined]


def test_huge_products_stay_printable() -> None:
    big = Const(10**300)
    p = mul(big, big)
    assert p.eval({}) > 10**300
    assert p.show().startswith("more than 10^")


def test_fix_names_do_not_leak_out_of_an_if_branch() -> None:
    """`last` and `attempt` live only in a fix body, also when the fix sits in a branch
    (the branch's undo log sees every write, `update` included)."""
    r = check("""\
if len(files) > 1:
    out = fix max 2:
        agent "fix {attempt} {last}"
    until check "ok?"
else:
    log "none"
y = last
""")
    assert [d.code for d in r.diagnostics] == ["WF201"]


# ---------------------------------------------------------------- each argument checked once


def _calls_checked(expr: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, CheckResult]:
    """How many builtin calls the checker checks for `n = EXPR` (each call node counted
    every time its check starts)."""
    from wflang.dsl import checker

    seen = [0]
    original = checker._Checker.call

    def counting(self, e, scope):  # type: ignore[no-untyped-def]
        seen[0] += 1
        return original(self, e, scope)

    monkeypatch.setattr(checker._Checker, "call", counting)
    result = check(f'n = {expr}\na = agent "hi {{n}}"\n',
                   "input files: list[str] max 10\ntype R:\n    k: int min 0 max 4\n")
    return seen[0], result


@pytest.mark.parametrize(("wrap", "calls_per_level"), [
    ("len(take(files, {}))", 2),  # take's count: a declared range read again made this 2^depth
    ("len(top(files, {}))", 2),
    ("len(range(max({}, 0), 5))", 3),  # range's start: min/max's lower bound checked its args again
    ("len(take(files, min({}, 4)))", 3),
])
def test_nested_counts_are_checked_once_per_level(wrap: str, calls_per_level: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    expr = "3"
    for _ in range(12):
        expr = wrap.format(expr)
    calls, result = _calls_checked(expr, monkeypatch)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    assert calls == 12 * calls_per_level  # every call node once: linear in the nesting


def test_a_declared_range_count_still_bounds_take_and_top() -> None:
    """The count's type comes from the call's own check now; the bound is the same."""
    b = bound('r = agent "a number" -> R\nxs = take(files, r.k)\nys = top(files, r.k)\n'
              'out = fanout x in xs + ys:\n    agent "do {x}"\n',
              "input files: list[str] max 10\ntype R:\n    k: int min 0 max 4\n")
    assert b.total == 1 + 4 + 4  # the answer agent, and one agent per item of take (≤ 4) and top (≤ 4)
