"""Issue 10, item 5 (Control): the index of an item, `fanout i, x in enumerate(xs)`,
`for i, x in enumerate(xs)` and `[... for i, x in enumerate(xs)]`, from 0, the same in
both targets; labels stay those of `fanout x in xs`; the bound does not change."""

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

BODY = """
input files: list[str] max 6

notes = fanout i, f in enumerate(files):
    note = agent "Review file {i + 1} of {len(files)}: {f}"
    {n: i, file: f, note: note}
steps = for k, f in enumerate(files):
    stop_here = agent "Step {k}: {f}" -> bool
    k
odd = [{at: i, f: f} for i, f in enumerate(files) if i % 2 == 1]
pairs = [[i, j] for i, a in enumerate(files) for j, b in enumerate(files) if a == b and i < j]
return {notes: notes, steps: steps, odd: odd, pairs: pairs}
"""
FAKE = {"rules": [{"prompt": "^Review file 2 ", "reply": "broke"}, {"prompt": "^Review", "reply": "ok"},
                  {"prompt": "^Step", "reply": {"value": True}}], "default": "fail"}


def write(tmp_path: Path) -> Path:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(BODY), encoding="utf-8")
    return wf


def test_the_index_is_an_int_and_changes_no_bound() -> None:
    r = check_program(parse(HEADER + textwrap.dedent(BODY), "t.wf"))
    assert r.ok, [(d.code, d.message) for d in r.diagnostics]
    assert r.bound.total == 12 and r.bound.formula() == "files + files"


@pytest.mark.parametrize("name,source,code", [
    ("the index as a size", "input xs: list[str] max 3\nr = fanout i, x in enumerate(xs):\n"
                            "    range(i)\nreturn r\n", None),
    ("the same name twice", "input xs: list[str] max 3\nr = [x for x, x in enumerate(xs)]\n", "WF118"),
    ("the index shadows an int input", "input n: int max 3\ninput xs: list[str] max 3\n"
                                       "r = [x for n, x in enumerate(xs)]\n", "WF205"),
])
def test_index_mistakes(name: str, source: str, code: str | None) -> None:
    from wflang.dsl.diagnostics import WfError

    try:
        r = check_program(parse(HEADER + source, "t.wf"))
        codes = [d.code for d in r.diagnostics if d.severity == "error"]
    except WfError as err:
        codes = [d.code for d in err.diagnostics]
    if code is None:
        assert codes and all(c.startswith("WF3") for c in codes)  # not a size known before the run
    else:
        assert code in codes


@needs_node
@pytest.mark.parametrize("fake", [FAKE, {**FAKE, "fail_one_in": 3}], ids=["answers", "every third fails"])
def test_both_targets_count_from_zero(fake, tmp_path: Path) -> None:
    args = {"files": ["a", "b", "c", "b"]}
    both = run_both(write(tmp_path), args, fake, tmp_path)
    assert_same(both)
    if fake is FAKE:
        v = both["py_value"]
        assert [n["n"] for n in v["notes"]] == [0, 1, 2, 3] and v["notes"][1]["note"] == "broke"
        assert v["steps"] == [0, 1, 2, 3]
        assert v["odd"] == [{"at": 1, "f": "b"}, {"at": 3, "f": "b"}]
        assert v["pairs"] == [[1, 3]]
        labels = sorted(c["label"] for c in both["js"]["calls"])
        assert labels[:4] == ["note · file 1", "note · file 2", "note · file 3", "note · file 4"]
