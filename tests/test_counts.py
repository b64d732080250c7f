"""Issue 10, item 5 (Control): `take`, `top` and `chunks` accept any count the checker
can bound (a computed one only cuts), a name first set to `none` keeps the type a loop
gives it (the join rule), and `record[key]` reads a field; both targets agree."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.test_differential import assert_same, run_both
from wflang.dsl.checker import check_program
from wflang.dsl.parser import parse

HEADER = 'workflow t:\n    description: "d"\n'
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

COUNTS = """
input xs: list[str] max 40
input per: int min 2 max 10 = 3
CHUNK = 8

n = max(len(xs) - 3, 0)
a = take(xs, n)
b = top(xs, len(xs) - 1)
c = chunks(xs, CHUNK)
d = chunks(xs, per)
e = chunks(xs, n)
ra = fanout x in a:
    agent "a {x}"
rc = fanout g in c:
    agent "c {g}"
rd = fanout g in d:
    agent "d {g}"
re = fanout g in e:
    agent "e {g}"
return {ra: ra, rc: rc, rd: rd, re: re, b: b, sizes: [len(c), len(d), len(e)]}
"""


def checked(body: str):
    r = check_program(parse(HEADER + textwrap.dedent(body), "t.wf"))
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]
    return r


def test_computed_counts_and_named_sizes_are_bounded() -> None:
    b = checked(COUNTS).bound
    assert b.formula() == "xs + ⌈xs/8⌉ + ⌈xs/2⌉ + xs"
    assert b.total == 40 + 5 + 20 + 40
    assert b.evaluate({"xs": 9, "per": 3}) == 9 + 2 + 5 + 9


def test_a_named_constant_sizes_chunks_as_its_literal_does() -> None:
    named = checked("input xs: list[str] max 30\nK = 4\nr = fanout g in chunks(xs, K):\n    agent \"{g}\"\n")
    literal = checked("input xs: list[str] max 30\nr = fanout g in chunks(xs, 4):\n    agent \"{g}\"\n")
    assert named.bound.total == literal.bound.total == 8


def test_a_name_first_set_to_none_keeps_the_loops_type() -> None:
    r = checked("""
        type F:
            file: str
        acc = none
        repeat max 3 as r:
            got = agent "try {r}" -> list[F] max 2
            acc = got if acc == none else acc + got
            files = [a.file for a in acc]
        return acc
    """)
    assert r.bound.total == 3
    # the trial pass reports nothing; the real rounds still report a real mistake, once
    bad = check_program(parse(HEADER + "acc = none\nrepeat max 2:\n    acc = 1\n    x = acc.nope\n", "t.wf"))
    assert [(d.code, d.message) for d in bad.diagnostics] == [("WF225", "`.nope` on int, which has no fields")]


@needs_node
@pytest.mark.parametrize("args", [{"xs": [f"f{i}" for i in range(9)]}, {"xs": ["a"], "per": 2}, {"xs": []}],
                         ids=["nine", "one", "none"])
def test_counts_mean_the_same_in_both_targets(args, tmp_path: Path) -> None:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(COUNTS), encoding="utf-8")
    fake = {"rules": [], "default": "schema"}
    both = run_both(wf, args, fake, tmp_path)
    assert_same(both)
    n = len(args["xs"])
    assert both["js"]["agents_started"] <= both["bound"]
    assert both["py_value"]["sizes"] == [-(-n // 8), -(-n // args.get("per", 3)), len(both["py_value"]["re"])]


@needs_node
def test_record_key_lookup_in_both_targets(tmp_path: Path) -> None:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent("""
        input mode: "fast" | "slow" = "fast"
        PROMPTS = {fast: "be quick", slow: "be thorough"}
        r = agent "Review; {PROMPTS[mode]}."
        return {r: r, p: PROMPTS[mode], missing: PROMPTS["other"]}
    """), encoding="utf-8")
    fake = {"rules": [{"prompt": "^Review; be thorough", "reply": "slowly"}], "default": "fail"}
    both = run_both(wf, {"mode": "slow"}, fake, tmp_path)
    assert_same(both)
    assert both["py_value"] == {"r": "slowly", "p": "be thorough", "missing": None}
