"""Long list arguments are judged once per type, not walked item by item when every item
fits (wflang/dsl/arguments.py `_plain_fit`), with the same values and the same messages as
the item-by-item walk they stand for."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wflang.dsl import arguments as A
from wflang.dsl import ast
from wflang.dsl import values as V
from wflang.dsl.loader import load

TYPES = textwrap.dedent('''\
    workflow t:
        description: "d"
    type Pt:
        x: int
    input a: list[int min -3 max 5] max 2000 = []
    input b: list[float min 0.5 max 2.5] max 2000 = []
    input c: list[str min 1 max 3] max 2000 = []
    input d: list[bool] max 2000 = []
    input e: list["x" | "y"] max 2000 = []
    input f: list[json] max 2000 = []
    input g: list[int] max 2000 = []
    input h: list[float] max 2000 = []
    input i: list[str] max 2000 = []
    input j: map[str, int max 3] max 2000 = {}
    input k: list[int | str] max 2000 = []
    input l: list[1 | 2 | "a"] max 2000 = []
    input m: list[int?] max 2000 = []
    input n: list[Pt] max 2000 = []
    input o: list[int max 7] max 2000 = []
    return 1
    ''')


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> ast.Program:
    wf = tmp_path_factory.mktemp("args") / "types.wf"
    wf.write_text(TYPES)
    loaded = load(str(wf))
    assert loaded.ok, loaded.diagnostics
    return loaded.program


def _walked(v: Any, t: ast.TypeExpr, records: dict[str, ast.TypeDecl], path: str) -> str | None:
    """The list check as it was: every item through `type_problem` (an item itself is a
    scalar here, which the shortcut never touches)."""
    if not isinstance(v, list):
        return A.type_problem(v, t, records, path)
    for i, item in enumerate(v):
        p = A.type_problem(item, t, records, f"{path}[{i}]")
        if p is not None:
            return p
    return None


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.integers(-2**60, 2**60),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["", "x", "y", "ab", "abcd", "5",
                                                                                     "2.5", "true", " 3 "]))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.sampled_from(["x", "y"]), SCALARS))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from("abcdefghijklmno"), items=st.lists(VALUES, max_size=12))
def test_lists_are_judged_as_item_by_item(program: ast.Program, name: str, items: list[Any]) -> None:
    decl = next(d for d in program.inputs if d.name == name)
    records = {d.name: d for d in program.types}
    t = decl.type
    if isinstance(t, ast.MapType):
        v: Any = {f"k{i}": x for i, x in enumerate(items)}
        expected = next((p for k in sorted(v) if (p := A.type_problem(v[k], t.value, records,
                                                                         f"args.{name}[{V.json_string(k)}]"))), None)
    else:
        assert isinstance(t, ast.ListType)
        v = items
        expected = _walked(items, t.item, records, f"args.{name}")
    assert A.type_problem(v, t, records, f"args.{name}") == expected
    if isinstance(t, ast.ListType):
        assert repr(A.from_text(items, t, records)) == repr([A.from_text(x, t.item, records) for x in items])
        if expected is None:
            assert repr(A.fit_value(items, t, records)) == repr([A.fit_value(x, t.item, records) for x in items])


@settings(max_examples=300, deadline=None)
@given(args=st.dictionaries(st.sampled_from(["xs", "10", "2", "b", "a"]), VALUES, max_size=4))
def test_arguments_read_as_json_reads_them(args: dict[str, Any]) -> None:
    for key_order in (True, False):
        normalized = V.normalize(args)
        expected = V.js_key_order(normalized) if key_order else normalized
        assert repr(A._as_json(args, key_order)) == repr(expected)  # values, types and key order


def test_a_thousand_fitting_ints_are_judged_in_one_step(program: ast.Program, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pin: before, each item was its own `type_problem` call (and its own path text)."""
    calls = []
    real = A.type_problem

    def counting(*a: Any, **k: Any) -> str | None:
        calls.append(a[3])
        return real(*a, **k)

    monkeypatch.setattr(A, "type_problem", counting)
    values, diags = A.validate_args(program, {"g": list(range(1000)), "a": [5] * 1000})
    assert diags == [] and values["g"] == list(range(1000)) and values["a"] == [5] * 1000
    assert "args.g" in calls and len(calls) < 40  # one per input, not one per item
    calls.clear()
    _, diags = A.validate_args(program, {"g": [*range(999), "x"]})
    assert [d.message for d in diags] == ["args.g[999]: expected a number, got a string"]
    _, diags = A.validate_args(program, {"a": [1, 2, 6, 9]})
    assert [d.message for d in diags] == ["args.a[2]: 6 is more than the declared max 5"]
    values, diags = A.validate_args(program, {"g": ["4", 2.0, -1]})  # text and integral floats read as ints
    assert diags == [] and repr(values["g"]) == "[4, 2, -1]"  # an item has no implied min 0: an input has
    _, diags = A.validate_args(program, {"o": [1, "8", 3]})
    assert [d.message for d in diags] == ["args.o[1]: 8 is more than the declared max 7"]
