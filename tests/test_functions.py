"""Issue 10, item 5: small pure functions, `def NAME(p: T, ...) -> R:`.

A function starts no agents (A(call) = 0) and sees only its parameters; its list results
are sized per call site from the arguments, exactly as writing the body out there would
size them; both targets compute the same values."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.test_differential import assert_same, run_both
from wflang.dsl.checker import check_program
from wflang.dsl.diagnostics import WfError
from wflang.dsl.parser import parse

HEADER = 'workflow t:\n    description: "d"\n'
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def check(body: str):
    return check_program(parse(HEADER + textwrap.dedent(body), "t.wf"))


def codes(body: str) -> list[str]:
    try:
        r = check(body)
    except WfError as err:
        return [d.code for d in err.diagnostics]
    return [d.code for d in r.diagnostics if d.severity == "error"]


# ---------------------------------------------------------------- sizes per call site

WITH_FUNCTION = """
input files: list[str] max 6
input n: int max 4 = 4

type Finding:
    file: str
    tags: list[str] max 3

def tagged(fs: list[Finding], k: int) -> list[str]:
    every = flatten([f.tags for f in fs])
    if k > 2:
        return take(every, k)
    return take(every, 2)

found = fanout f in files:
    agent "Tag {f}" -> Finding
tags = tagged(found, n)
checked = fanout t in tags:
    agent "Check {t}"
return checked
"""

INLINED = """
input files: list[str] max 6
input n: int max 4 = 4

type Finding:
    file: str
    tags: list[str] max 3

found = fanout f in files:
    agent "Tag {f}" -> Finding
every = flatten([f.tags for f in found])
if n > 2:
    tags = take(every, n)
else:
    tags = take(every, 2)
checked = fanout t in tags:
    agent "Check {t}"
return checked
"""


def test_a_call_is_sized_as_its_body_written_out_there() -> None:
    f, g = check(WITH_FUNCTION), check(INLINED)
    assert f.ok and g.ok, [d.message for d in f.diagnostics + g.diagnostics]
    assert f.bound.total == g.bound.total == 6 + 4
    for files in range(7):
        for n in range(5):
            env = {"files": files, "n": n}
            assert f.bound.evaluate(env) == g.bound.evaluate(env), env


def test_each_call_site_gets_its_own_sizes() -> None:
    r = check("""
        input xs: list[str] max 10
        input ys: list[str] max 3

        def both(a: list[str], b: list[str]) -> list[str]:
            return a + b

        one = fanout x in both(xs, xs):
            agent "a {x}"
        two = fanout y in both(ys, ["z"]):
            agent "b {y}"
        return [one, two]
        """)
    assert r.ok, [d.message for d in r.diagnostics]
    assert r.bound.total == 20 + 4
    assert r.bound.formula() == "2×xs + (ys + 1)"


def test_a_call_costs_no_agents_and_a_size_argument_stays_exact() -> None:
    r = check("""
        input xs: list[str] max 50
        input k: int max 5 = 2
        LIMIT = 3

        def first(v: list[str], n: int) -> list[str]:
            return take(v, n)

        def firsts(v: list[str], n: int) -> list[str]:
            return first(v, n) + first(v, 1)

        a = fanout x in firsts(xs, k):
            agent "a {x}"
        b = fanout x in first(xs, LIMIT):
            agent "b {x}"
        return [a, b]
        """)
    assert r.ok, [d.message for d in r.diagnostics]
    assert r.bound.total == (5 + 1) + 3
    assert r.bound.evaluate({"xs": 50, "k": 2}) == 2 + 1 + 3 and r.bound.evaluate({"xs": 0, "k": 5}) == 0


def test_a_declared_result_max_is_proven_at_each_call() -> None:
    ok = """
        input xs: list[str] max 5

        def three(v: list[str]) -> list[str] max 3:
            return take(v, 3)

        r = fanout x in three(xs):
            agent "a {x}"
        return r
        """
    assert check(ok).bound.total == 3
    assert codes(ok.replace("take(v, 3)", "v")) == ["WF320"]
    assert codes(ok.replace("max 5", "max 2").replace("take(v, 3)", "v")) == []


def test_a_list_parameter_with_a_max_refuses_a_longer_argument() -> None:
    src = """
        input xs: list[str] max 9

        def count(v: list[str] max 4) -> int:
            return len(v)

        n = count(xs)
        """
    assert codes(src) == ["WF320"]
    assert codes(src.replace("count(xs)", "count(take(xs, 4))")) == []


def test_an_int_range_is_a_contract_on_both_sides() -> None:
    base = """
        input k: int max 4 = 2

        def steps(n: int min 0 max 5) -> int min 0 max 5:
            return n

        r = fanout i in range(steps(ARG)):
            agent "step {i}"
        return r
        """
    assert check(base.replace("ARG", "k")).bound.total == 5
    assert check(base.replace("ARG", "3")).bound.total == 5
    assert codes(base.replace("ARG", "9")) == ["WF253"]
    assert check(base.replace("ARG", "k + 1")).ok and codes(base.replace("ARG", "k + 2")) == ["WF253"]
    assert "WF254" in codes(base.replace("return n", "return n + 1"))


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize("name,body,code", [
    ("an agent", "def f(x: str) -> str:\n    y = agent \"hi {x}\"\n    return y\n", "WF250"),
    ("a log", "def f(x: str) -> str:\n    log x\n    return x\n", "WF250"),
    ("a fail", "def f(x: str) -> str:\n    fail x\n", "WF250"),
    ("a for block", "def f(xs: list[str]) -> int:\n    for x in xs:\n        x\n    return 1\n", "WF250"),
    ("an expression alone", "def f(x: str) -> str:\n    x\n    return x\n", "WF250"),
    ("itself", "def f(n: int) -> int:\n    return f(n)\n", "WF251"),
    ("one below", "def f(n: int) -> int:\n    return g(n)\n\ndef g(n: int) -> int:\n    return n\n", "WF251"),
    ("a missing return", "def f(n: int) -> int:\n    if n > 0:\n        return 1\n", "WF252"),
    ("after a return", "def f(n: int) -> int:\n    return 1\n    y = 2\n", "WF252"),
    ("a wrong argument", "def f(n: int) -> int:\n    return n\n\nx = f(\"a\")\n", "WF253"),
    ("too many arguments", "def f(n: int) -> int:\n    return n\n\nx = f(1, 2)\n", "WF253"),
    ("a keyword argument", "def f(n: int) -> int:\n    return n\n\nx = f(n=1)\n", "WF253"),
    ("a wrong return", "def f(n: int) -> str:\n    return n\n", "WF254"),
    ("a builtin's name", "def take(n: int) -> int:\n    return n\n", "WF255"),
    ("twice", "def f(n: int) -> int:\n    return n\n\ndef f(n: int) -> int:\n    return n\n", "WF255"),
    ("a parameter reassigned", "def f(n: int) -> int:\n    n = 2\n    return n\n", "WF255"),
    ("a loop variable shadows a parameter", "def f(n: int, xs: list[int]) -> list[int]:\n"
                                            "    return [n for n in xs]\n", "WF255"),
    ("an input", "input k: int max 3 = 1\ndef f(n: int) -> int:\n    return n + k\n", "WF256"),
    ("a constant", "LIMIT = 3\ndef f(n: int) -> int:\n    return n + LIMIT\n", "WF256"),
    ("the budget", "def f(n: int) -> int:\n    return budget.remaining\n", "WF256"),
])
def test_refusals(name: str, body: str, code: str) -> None:
    assert code in codes(body), (name, codes(body))


def test_an_argument_of_unknown_size_is_refused_at_the_call() -> None:
    src = """
        PROMPTS = {a: ["x", "y"]}

        def count(v: list[str]) -> list[str]:
            return v

        r = fanout x in count(PROMPTS["a"]):
            agent "a {x}"
        return r
        """
    assert codes(src), "a list of unknown size must not size a fan-out"


def test_a_name_only_one_branch_binds_may_be_none() -> None:
    r = check("""
        def pick(n: int) -> str?:
            if n > 0:
                s = "pos"
            return s
        x = pick(1)
        """)
    assert r.ok, [d.message for d in r.diagnostics]


# ---------------------------------------------------------------- both targets

PROGRAM = """
input files: list[str] max 6
input depth: int max 3 = 2

type Finding:
    file: str
    severity: "low" | "medium" | "high"
    note: str?

type Summary:
    files: list[str] max 6
    score: int
    notes: list[str] max 6

def grade(f: Finding) -> int:
    if f.severity == "high":
        return 3
    elif f.severity == "medium":
        return 2
    return 1

def worst(fs: list[Finding], n: int) -> list[Finding]:
    ranked = sort(fs, by=.severity, reverse=true)
    return take(ranked, n)

def summary(fs: list[Finding]) -> Summary:
    names = unique([f.file for f in fs])
    if len(fs) == 0:
        label = "none"
    return {files: names, score: sum([grade(f) for f in fs]), notes: [f.note or slug(f.file) for f in fs]}

found = fanout f in files:
    agent "Review {f}" -> Finding
picked = worst(found, depth)
checked = fanout f in picked:
    agent "Check {f.file} (grade {grade(f)})"
return {top: [f.file for f in picked], summary: summary(found), checked: checked}
"""

FAKE = {"rules": [
    {"prompt": "^Review a", "reply": {"file": "a.py", "severity": "low", "note": None}},
    {"prompt": "^Review b", "reply": {"file": "b.py", "severity": "high", "note": "bad"}},
    {"prompt": "^Review c", "reply": {"file": "c.py", "severity": "medium", "note": None}},
    {"prompt": "^Review", "reply": {"file": "d.py", "severity": "high", "note": "x"}},
    {"prompt": "^Check", "reply": "ok"}], "default": "fail"}


@needs_node
@pytest.mark.parametrize("fake", [FAKE, {**FAKE, "fail_one_in": 3}, {"rules": [], "default": "schema"}],
                         ids=["answers", "every third fails", "worst case"])
def test_both_targets_compute_the_same(fake, tmp_path: Path) -> None:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(PROGRAM), encoding="utf-8")
    both = run_both(wf, {"files": ["a", "b", "c", "d", "e"], "depth": 3}, fake, tmp_path)
    assert_same(both)
    if fake is FAKE:
        v = both["py_value"]
        assert v["top"] == ["b.py", "d.py", "d.py"]
        assert v["summary"] == {"files": ["a.py", "b.py", "c.py", "d.py"], "score": 1 + 3 + 2 + 3 + 3,
                                "notes": ["a-py", "bad", "c-py", "x", "x"]}
        assert any("take (line" in line for line in both["py_logs"])


CHILD = """workflow child:
    description: "a child with a function of the same name"

input items: list[str] max 4

def tag(x: str) -> str:
    return "child:" + x

out = fanout i in items:
    agent "Child {tag(i)}"
return [tag(i) for i in items]
"""

PARENT = """
input files: list[str] max 4
input mode: str = "fast"

def tag(x: str) -> str:
    return upper(x)

def fast(m: str) -> bool:
    return m == "fast"

TAGS = [tag(x) for x in ["a", "b"]]
require fast(mode) or mode == "slow", "mode is fast or slow, not {mode}"

r = run "child.wf" with {items: [tag(f) for f in files]}
return {tags: TAGS, child: r, mine: [tag(f) for f in files]}
"""


@needs_node
def test_constants_requirements_and_a_run_child_call_their_own_functions(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text(CHILD, encoding="utf-8")
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(PARENT), encoding="utf-8")
    both = run_both(wf, {"files": ["x", "y"]}, {"rules": [{"prompt": "^Child", "reply": "ok"}], "default": "fail"},
                    tmp_path)
    assert_same(both)
    assert both["py_value"] == {"tags": ["A", "B"], "child": ["child:X", "child:Y"], "mine": ["X", "Y"]}
    assert sorted(c["prompt"] for c in both["py_calls"]) == ["Child child:X", "Child child:Y"]


def test_a_chain_of_calls_checks_each_distinct_size_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from wflang.dsl import functions

    n = 40
    src = "input xs: list[str] max 10\n\ndef f0(v: list[str]) -> list[str]:\n    return v\n"
    for i in range(1, n):
        src += f"\ndef f{i}(v: list[str]) -> list[str]:\n    return f{i - 1}(v) + f{i - 1}(take(v, 2))\n"
    src += f'\nr = fanout x in take(f{n - 1}(xs), 100):\n    agent "a {{x}}"\nreturn r\n'
    passes = []
    body = functions._run_body
    monkeypatch.setattr(functions, "_run_body", lambda *a, **k: passes.append(1) or body(*a, **k))
    r = check(src)
    assert r.ok, [d.message for d in r.diagnostics]
    assert r.bound.total == 100
    assert len(passes) < 5 * n  # 197: each function once, then once per distinct argument size
