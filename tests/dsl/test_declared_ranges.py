"""A field's declared range (`n: int min 0 max 5`) in the checker: it bounds a `take`,
`top`, `range` or loop it sizes, arithmetic forgets it, a negative or open range cannot
size anything, and a fallback literal must lie within it."""

from __future__ import annotations

import pytest

from tests.dsl.test_checker import check, errors, ok

DECLS = '''\
input files: list[str] max 10

type Plan:
    count: int min 0 max 5
    low: int min -2 max 5
    open: int min 0
    ratio: float min 0 max 1
    steps: list[str] max 10
'''


@pytest.mark.parametrize("expr, expected", [
    ("range(p.count)", 5),
    ("take(files, p.count)", 5),
    ("top(p.steps, p.count)", 5),
    ("take(p.steps, 8)", 8),
    ("range(1, p.count)", 4),
])
def test_a_declared_range_bounds_what_it_sizes(expr: str, expected: int) -> None:
    body = f'p = agent "plan" -> Plan\nxs = {expr}\n'
    r = check(body + 'probe = fanout y_ in xs:\n    agent "probe {y_}"\n', DECLS)
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]
    assert r.bound is not None
    assert r.bound.terms[-1].agents.eval(r.bound.worst_env) == expected


@pytest.mark.parametrize("expr, code", [
    ("range(p.low)", "WF308"),      # can be negative
    ("range(p.open)", "WF303"),  # no max
    ("range(p.count + 1)", "WF303"),  # arithmetic forgets the range
    ("range(-p.count)", "WF303"),
    ("range(sum([p.count, p.count]))", "WF303"),
])
def test_what_a_declared_range_cannot_size(expr: str, code: str) -> None:
    found = errors(f'p = agent "plan" -> Plan\nxs = {expr}\n', DECLS)
    assert [c for c, _ in found] == [code], found


@pytest.mark.parametrize("count", ["p.open", "p.count + 1", "-p.count", "sum([p.count, p.count])"])
def test_take_with_a_count_of_no_declared_range_only_cuts(count: str) -> None:
    # take/top never lengthen a list: with any count, the result is at most the list's max.
    r = check(f'p = agent "plan" -> Plan\nxs = take(files, {count})\n'
              'probe = fanout y_ in xs:\n    agent "probe {y_}"\n', DECLS)
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]
    assert r.bound is not None
    assert r.bound.terms[-1].agents.eval(r.bound.worst_env) == r.bound.worst_env["files"]


def test_a_range_survives_a_join_of_two_ranged_values() -> None:
    body = 'p = agent "plan" -> Plan\nq = agent "again" -> Plan\nk = p.count if len(files) > 2 else q.count\n' \
           'xs = range(k)\nprobe = fanout y_ in xs:\n    agent "probe {y_}"\n'
    r = check(body, DECLS)
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]


def test_a_fallback_literal_must_lie_within_the_range() -> None:
    found = errors('p = agent "plan" -> Plan else {count: 9, low: 0, open: 0, ratio: 0.5, steps: []}\n', DECLS)
    assert [c for c, _ in found] == ["WF213"], found
    ok('p = agent "plan" -> Plan else {count: 5, low: -2, open: 7, ratio: 1, steps: []}\n', DECLS)


@pytest.mark.parametrize("decl, code", [
    ("x: bool max 3", "WF212"),
    ("x: int min 1.5", "WF212"),
    ("x: str min -1", "WF302"),
    ("x: str min 5 max 2", "WF308"),
    ("x: float min 2 max 1.5", "WF308"),
    ("x: list[str] min 4 max 3", "WF308"),
    ("x: Other max 3", "WF212"),
])
def test_bad_limits_are_refused(decl: str, code: str) -> None:
    decls = f"type Other:\n    y: str\n\ntype T:\n    {decl}\n"
    found = errors('t = agent "x" -> T\n', decls)
    assert [c for c, _ in found] == [code], found
