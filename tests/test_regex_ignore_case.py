"""`ignore_case=true` on matches, re_replace and findall means the same in both targets.

The engines' own flags do not (JavaScript `ui` folds by Unicode case folding, Python
`re.IGNORECASE` by its own rules, each with its Unicode version), so the dialect writes
the folding into the pattern: each ASCII letter stands for both its cases, and nothing
else folds. Shown here over every code point, for every ASCII letter and a few classes,
with the regex literal the emitter writes (flag `u`, `g` for findall) against Python's
compiled pattern; then on random patterns and texts; then through whole programs."""

from __future__ import annotations

import json
import re
import shutil
import string
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_differential import assert_same, run_both
from tests.test_strings_differential import _node as helpers_in_node
from tests.test_strings_differential import _norm, patterns, py_run, strings
from wflang.dsl.builtins.regex_dialect import PatternError, compiled, translate
from wflang.dsl.loader import load

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the JS target cannot be run here")

# Every code point, ordered so that no two lone surrogates side by side make a pair in
# UTF-16 (low surrogates before high ones, and no low surrogate after the high ones).
ORDER = [*range(0xD800), *range(0xDC00, 0xE000), *range(0xD800, 0xDC00), *range(0xE000, 0x110000)]
ALL = "".join(map(chr, ORDER))

# For a list of JS regex sources: the code points each matches, as [lo, hi] ranges.
MATCHED_JS = r"""
const sources = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const order = []
for (let c = 0; c < 0x110000; c++) if (c < 0xd800 || c >= 0xe000) order.push(c)
order.splice(0xd800, 0, ...Array.from({ length: 0x400 }, (_, i) => 0xdc00 + i), ...Array.from({ length: 0x400 }, (_, i) => 0xd800 + i))
const all = order.map((c) => String.fromCodePoint(c)).join('')
const ranges = (cps) => {
  cps.sort((a, b) => a - b)
  const out = []
  for (const c of cps) {
    if (out.length && out[out.length - 1][1] === c - 1) out[out.length - 1][1] = c
    else out.push([c, c])
  }
  return out
}
const result = sources.map(([src, flags]) => {
  const re = new RegExp(src, flags)
  return ranges(Array.from(all.matchAll(re), (m) => m[0].codePointAt(0)))
})
process.stdout.write(JSON.stringify(result))
"""


def _ranges(cps: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def _matched_py(pattern: str, flags: int | None = None) -> list[list[int]]:
    rx = compiled(pattern, True) if flags is None else re.compile(pattern, flags)
    return _ranges([ord(m.group(0)) for m in rx.finditer(ALL)])


def _matched_js(sources: list[tuple[str, str]]) -> list[list[list[int]]]:
    proc = subprocess.run([str(NODE), "-e", MATCHED_JS], input=json.dumps(sources), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _cases(c: str) -> list[list[int]]:
    return _ranges(sorted({ord(c.lower()), ord(c.upper())}))


SINGLE = ([*string.ascii_letters] + [f"[{c}]" for c in string.ascii_letters]
          + ["[^k]", "[^S]", "[a-z]", "[A-Z]", "[^a-z]", "[k-s]", "[Z-a]", "\\w", "\\W", "[^\\d]", ".", "é", "[é-ÿ]"])


def test_every_code_point_against_every_ascii_letter() -> None:
    """1,114,112 code points × 117 one-character patterns: the same set in both engines,
    and the set case-insensitivity of ASCII letters means, nothing more."""
    js = _matched_js([(translate(p, True).js, "gu") for p in SINGLE])
    for p, got in zip(SINGLE, js, strict=True):
        assert got == _matched_py(p), p
    by_pattern = dict(zip(SINGLE, js, strict=True))
    for c in string.ascii_letters:
        assert by_pattern[c] == by_pattern[f"[{c}]"] == _cases(c), c
    assert by_pattern["[^k]"] == [[0, 74], [76, 106], [108, 0x10FFFF]]  # not K (75) nor k (107)
    assert by_pattern["[a-z]"] == by_pattern["[A-Z]"] == [[65, 90], [97, 122]]
    assert by_pattern["é"] == [[0xE9, 0xE9]]  # É (U+00C9) is not folded: ASCII letters only


def test_the_engines_own_flags_would_disagree() -> None:
    """Why the folding is written out: JS `ui` and Python `re.I` (with or without re.ASCII)
    match other characters for ASCII letters, e.g. U+212A KELVIN SIGN for k, U+017F LONG
    S for s, U+0130 for i (Python only)."""
    letters = list(string.ascii_lowercase)
    js = dict(zip(letters, _matched_js([(c, "gui") for c in letters]), strict=True))
    extra_js = {c: [r for r in js[c] if r != [ord(c.upper())] * 2 and r != [ord(c)] * 2] for c in letters}
    assert extra_js["k"] == [[0x212A, 0x212A]] and extra_js["s"] == [[0x17F, 0x17F]]
    assert sum(1 for c in letters if extra_js[c]) == 2
    assert _matched_py("k", re.I | re.A) == _cases("k")  # Python's ASCII folding: no Kelvin sign
    unicode_i = {c for lo, hi in _matched_py("i", re.I) for c in range(lo, hi + 1)}
    assert unicode_i == {ord("I"), ord("i"), 0x130, 0x131}  # İ and dotless ı
    assert js["i"] == _cases("i")


@st.composite
def folded_cases(draw: st.DrawFn) -> list[tuple[str, list[Any], Any, list[str]]]:
    """(JS helper, arguments, the Python value, the Python cut log) with ignore_case=true."""
    out: list[tuple[str, list[Any], Any, list[str]]] = []
    for _ in range(5):
        s, u, n = draw(strings), draw(strings), draw(st.integers(0, 6))
        p = draw(patterns | st.sampled_from(["todo", "[a-z]+", "[^a-c]", "K", "\\bfix\\b", "ß|ss"]))
        try:
            tr = translate(p, True)
        except PatternError:
            continue
        kw = {"ignore_case": True}
        out.append(("reMatches", [s, {"re": tr.js, "flags": "u"}], py_run("matches", [s, p], kw)[0], []))
        if tr.empty:
            continue
        out.append(("reReplace", [s, {"re": tr.js, "flags": "gu"}, u], py_run("re_replace", [s, p, u], kw)[0], []))
        v, total = py_run("findall", [s, p], {"max": n, **kw})
        log = [f"findall (line 3): kept {len(v)} of {total}"] if total is not None and len(v) < total else []
        out.append(("findall", ["findall (line 3)", n, s, {"re": tr.js, "flags": "gu"}], v,
                    [x + " items" for x in log]))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(folded_cases(), min_size=3, max_size=3))
def test_random_patterns_with_ignore_case_agree(batches: list[Any]) -> None:
    batch = [c for b in batches for c in b]
    for (fn, args, expected, expected_log), (got, log) in zip(batch, helpers_in_node(batch), strict=True):
        assert _norm(got) == _norm(expected), f"{fn}{tuple(args)}: JS {got!r}, Python {expected!r}"
        assert log == expected_log, (fn, args, log, expected_log)


def test_a_folded_pattern_by_hand() -> None:
    assert py_run("matches", ["A TODO here", "todo"], {"ignore_case": True})[0] is True
    assert py_run("matches", ["A TODO here", "todo"])[0] is False
    assert py_run("matches", ["\u212a", "k"], {"ignore_case": True})[0] is False
    assert py_run("re_replace", ["Fix fix FIX", "fix", "x"], {"ignore_case": True})[0] == "x x x"
    assert py_run("findall", ["ab AB aB", "[a-b]+"], {"max": 5, "ignore_case": True}) == (["ab", "AB", "aB"], 3)


PROGRAM = '''workflow folded:
    description: "ignore_case in both targets"
input text: str
IC = true
return {m: matches(text, "to(do|-do)", ignore_case=true), n: matches(text, "todo", ignore_case=false),
        r: re_replace(text, "[a-c]+", "_", ignore_case=IC), f: findall(text, "fix(me)?|k", max=3, ignore_case=true)}
'''


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.sampled_from(["A TODO, a To-Do and FIXME", "K\u212ak ABC abc", "ß SS ſ"]) | strings.filter(str.strip))
def test_a_program_with_ignore_case_means_the_same_in_both_targets(
        text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    work = tmp_path_factory.mktemp("folded")
    wf = work / "folded.wf"
    wf.write_text(PROGRAM, encoding="utf-8")
    assert_same(run_both(wf, {"text": text}, {"rules": []}, work))


def test_ignore_case_must_be_known_before_the_run() -> None:
    src = PROGRAM.replace("input text: str\n", "input text: str\ninput flag: bool = true\n").replace(
        "ignore_case=false", "ignore_case=flag")
    loaded = load("folded.wf", src)
    assert [d.code for d in loaded.diagnostics] == ["WF241"]
    assert "ignore_case must be `true` or `false`" in loaded.diagnostics[0].message
    assert load("folded.wf", PROGRAM).ok
