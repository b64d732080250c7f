"""Values and builtins, held to docs/semantics.md (and to what JavaScript prints)."""

from __future__ import annotations

import pytest

from wflang.dsl import values as V
from wflang.dsl.builtins import REGISTRY
from wflang.dsl.values import canonical, compare, equal, js_number, text, truthy

BUILTIN = {name: b.py for name, b in REGISTRY.items()}  # each builtin's Python meaning

# ---------------------------------------------------------------- numbers as JS prints them


@pytest.mark.parametrize("x, js", [
    (0, "0"), (-0.0, "0"), (1, "1"), (-7, "-7"), (4 / 2, "2"), (2.5, "2.5"), (0.1 + 0.2, "0.30000000000000004"),
    (1 / 3, "0.3333333333333333"), (100.0, "100"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
    (1.5e21, "1.5e+21"), (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (0.00001234, "0.00001234"),
    (123e-20, "1.23e-18"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (2**64, "18446744073709552000"), (2.0**64, "18446744073709552000"), (2**53 - 1, "9007199254740991"),
    (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (float("nan"), "NaN"), (-1e-7, "-1e-7"),
])
def test_js_number(x, js):
    assert js_number(x) == js


def test_num_makes_integral_results_integers():
    assert V.arith("/", 4, 2) == 2 and isinstance(V.arith("/", 4, 2), int)
    assert isinstance(V.arith("+", 0.5, 0.5), int)
    assert V.arith("/", 1, 4) == 0.25
    assert V.normalize({"a": [1.0, 2.5, {"b": 3.0}]}) == {"a": [1, 2.5, {"b": 3}]}
    assert isinstance(V.normalize([1.0])[0], int)


# ---------------------------------------------------------------- text


def test_text_scalars():
    assert text("a b") == "a b"
    assert text(None) == "null"
    assert text(True) == "true" and text(False) == "false"
    assert text(3) == "3" and text(2.0) == "2" and text(0.5) == "0.5"


def test_text_of_lists_and_records_is_js_pretty_json():
    assert text([]) == "[]"
    assert text({}) == "{}"
    assert text([1, "é", None]) == '[\n  1,\n  "é",\n  null\n]'
    assert text({"b": 1, "a": {"x": [True]}, "c": 1e21}) == (
        '{\n  "b": 1,\n  "a": {\n    "x": [\n      true\n    ]\n  },\n  "c": 1e+21\n}')
    assert text({"k": 2.0}) == '{\n  "k": 2\n}'
    assert text({"q": 'say "hi"\n'}) == '{\n  "q": "say \\"hi\\"\\n"\n}'
    assert text([[], {}]) == "[\n  [],\n  {}\n]"


def test_json_builtin_quotes_strings():
    assert BUILTIN["json"]("x") == '"x"'
    assert BUILTIN["json"](None) == "null"
    assert BUILTIN["json"]({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'


# ---------------------------------------------------------------- truthy, equal, canonical


@pytest.mark.parametrize("v, t", [
    (None, False), (False, False), (0, False), (0.0, False), ("", False), ([], False), ({}, False),
    (True, True), (1, True), (-0.5, True), ("0", True), ([0], True), ({"a": None}, True), ("false", True),
])
def test_truthy(v, t):
    assert truthy(v) is t


def test_equal():
    assert equal(1, 1.0)
    assert not equal(True, 1) and not equal(0, False)
    assert equal(None, None) and not equal(None, 0) and not equal(None, [])
    assert equal([1, {"a": [2.0]}], [1, {"a": [2]}])
    assert not equal([1, 2], [2, 1])
    assert equal({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not equal({"a": 1}, {"a": 1, "b": None})
    assert not equal("1", 1)


def test_canonical():
    assert canonical({"b": 1, "a": [1, 2.0, "é"]}) == '{"a":[1,2,"é"],"b":1}'
    assert canonical(None) == "null"
    assert canonical("x") == '"x"'
    assert canonical({"z": {"y": 1, "x": 2}}) == '{"z":{"x":2,"y":1}}'


# ---------------------------------------------------------------- compare


def test_compare_ranks_kinds():
    ordered = [None, False, True, -3, 0, 2.5, 10, "", "B", "a", "é", [], [0], [0, 0], [1], {"a": 1}, {"b": 0}, {}]  # records by canonical(): "{}" sorts last
    for i, a in enumerate(ordered):
        for j, b in enumerate(ordered):
            assert compare(a, b) == (i > j) - (i < j), (a, b)


def test_compare_strings_by_code_point():
    assert compare("Z", "a") < 0
    assert compare("\uffff", "\U0001f600") < 0  # code points, not UTF-16 units


def test_compare_with_union_order():
    order = ["low", "medium", "high"]
    assert V.compare_in_order("low", "high", order) < 0
    assert V.compare_in_order("high", "medium", order) > 0
    assert V.compare_in_order("zzz", "low", order) > 0  # not in the list: after it
    assert V.compare_in_order("aaa", "zzz", order) < 0  # both outside: string order
    assert V.compare_keys(["a", "low"], ["a", "high"], [None, order], compound=True) < 0
    assert V.compare_keys(["b", "low"], ["a", "high"], [None, order], compound=True) > 0


# ---------------------------------------------------------------- operators


def test_arithmetic():
    assert V.arith("+", 1, None) is None and V.arith("*", None, 2) is None
    assert V.arith("/", 1, 0) is None and V.arith("%", 5, 0) is None
    assert V.arith("%", -7, 3) == 2 and V.arith("%", 7, -3) == -2  # sign of the divisor
    assert V.arith("+", "a", "b") == "ab"
    assert V.arith("+", [1], [2]) == [1, 2]
    assert V.arith("-", 5, 7) == -2
    assert V.negate(None) is None and V.negate(3) == -3
    with pytest.raises(V.ValueError_):
        V.arith("+", "a", 1)
    with pytest.raises(V.ValueError_):
        V.arith("+", True, 1)


def test_comparisons_and_membership():
    assert V.compare_op("==", 1, 1.0) and V.compare_op("!=", "a", None)
    assert V.compare_op("<", None, 0) and V.compare_op(">=", "b", "a")
    assert V.compare_op("in", {"a": 1}, [{"a": 1.0}])
    assert V.compare_op("in", "ell", "hello")
    assert V.compare_op("in", "k", {"k": None})
    assert not V.compare_op("in", 1, None)
    assert V.compare_op("not in", 1, None)


def test_merge_field_index_slice():
    assert V.merge({"a": 1, "b": 2}, {"b": 3, "c": 4}) == {"a": 1, "b": 3, "c": 4}
    assert list(V.merge({"a": 1, "b": 2}, {"b": 3, "c": 4})) == ["a", "b", "c"]
    assert V.merge(None, {"a": 1}) == {"a": 1} and V.merge({"a": 1}, None) == {"a": 1}
    assert V.field({"a": 1}, "a") == 1 and V.field({"a": 1}, "b") is None and V.field(None, "a") is None
    xs = [10, 20, 30]
    assert V.index(xs, -1) == 30 and V.index(xs, 3) is None and V.index(xs, -4) is None
    assert V.index(None, 0) is None
    assert V.index("a😀b", 1) == "😀"  # strings index by code point
    assert V.slice_(xs, -2, None) == [20, 30] and V.slice_(xs, None, 99) == xs and V.slice_(xs, 2, 1) == []
    assert V.slice_("héllo", 1, 3) == "él"
    assert V.iterate(None) == []


# ---------------------------------------------------------------- builtins


def test_len_flatten_take():
    assert BUILTIN["len"](None) == 0 and BUILTIN["len"]("a😀") == 2 and BUILTIN["len"]({"a": 1, "b": 2}) == 2 and BUILTIN["len"]([1]) == 1
    assert BUILTIN["flatten"]([[1, None], None, 2, [], [3]]) == [1, None, 2, 3]
    assert BUILTIN["flatten"](None) == []
    assert BUILTIN["take"]([1, 2, 3], 2) == [1, 2] and BUILTIN["take"]([1], 5) == [1] and BUILTIN["take"]([1], -1) == []


def test_top_and_sort_are_stable():
    rows = [{"n": "a", "s": 1}, {"n": "b", "s": 2}, {"n": "c", "s": 1}, {"n": "d", "s": 2}]
    s = lambda r: r["s"]  # noqa: E731
    assert [r["n"] for r in BUILTIN["top"](rows, 3, by=s)] == ["b", "d", "a"]
    assert [r["n"] for r in BUILTIN["sort"](rows, by=s)] == ["a", "c", "b", "d"]
    assert [r["n"] for r in BUILTIN["sort"](rows, by=s, reverse=True)] == ["b", "d", "a", "c"]
    assert BUILTIN["sort"]([3, None, "a", 1]) == [None, 1, 3, "a"]
    assert BUILTIN["top"]([1, 3, 2], 2) == [3, 2]


def test_top_with_union_order():
    sev = [{"s": "low"}, {"s": "high"}, {"s": "medium"}, {"s": "high"}]
    out = BUILTIN["top"](sev, 2, by=lambda r: r["s"], orders=[["low", "medium", "high"]])
    assert out == [{"s": "high"}, {"s": "high"}]
    out = BUILTIN["sort"](sev, by=lambda r: r["s"], orders=[["low", "medium", "high"]])
    assert [r["s"] for r in out] == ["low", "medium", "high", "high"]


def test_unique_join_case_strip():
    xs = [{"f": "a", "l": 1}, {"f": "a", "l": 1.0}, {"f": "b", "l": 1}]
    assert BUILTIN["unique"](xs, by=lambda r: [r["f"], r["l"]]) == [xs[0], xs[2]]
    assert BUILTIN["unique"]([1, 1.0, "1", True]) == [1, "1", True]
    assert BUILTIN["join"]([1, None, "x", [2]], ", ") == '1, null, x, [\n  2\n]'
    assert BUILTIN["join"](["a", "b"]) == "ab"
    assert BUILTIN["lower"](None) is None and BUILTIN["lower"]("ÀB") == "àb" and BUILTIN["upper"]("ab") == "AB"
    assert BUILTIN["strip"](" \t\n\r\f\va b\v ") == "a b"
    assert BUILTIN["strip"]("\u00a0x\u00a0") == "\u00a0x\u00a0"  # only the six ASCII blanks


def test_min_max_sum_any_all():
    assert BUILTIN["min"]([]) is None and BUILTIN["max"](None) is None
    assert BUILTIN["min"]([3, 1, 2]) == 1 and BUILTIN["max"]([3, 1, 2]) == 3
    assert BUILTIN["min"](4, 2, 9) == 2 and BUILTIN["max"]("a", "b") == "b"
    rows = [{"k": 1, "n": "x"}, {"k": 2, "n": "y"}, {"k": 2, "n": "z"}, {"k": 1, "n": "w"}]
    assert BUILTIN["max"](rows, by=lambda r: r["k"])["n"] == "y"  # the first of equal extremes
    assert BUILTIN["min"](rows, by=lambda r: r["k"])["n"] == "x"
    assert BUILTIN["sum"]([1, None, 2.5]) == 3.5 and BUILTIN["sum"]([]) == 0 and BUILTIN["sum"]([0.5, 0.5]) == 1
    assert BUILTIN["any"]([0, "", "x"]) and not BUILTIN["any"]([]) and BUILTIN["all"]([]) and not BUILTIN["all"]([1, []])


def test_str_int_range_chunks_keys():
    assert BUILTIN["str"](None) == "null" and BUILTIN["str"](2.0) == "2"
    assert BUILTIN["int"](3.9) == 3 and BUILTIN["int"](-3.9) == -3 and BUILTIN["int"]("42") == 42 and BUILTIN["int"]("-7") == -7
    assert BUILTIN["int"](" 7 ") is None and BUILTIN["int"]("+7") == 7
    assert BUILTIN["int"]("4.2") is None and BUILTIN["int"]("x") is None and BUILTIN["int"](None) is None and BUILTIN["int"](True) is None
    assert BUILTIN["range"](3) == [0, 1, 2] and BUILTIN["range"](2, 4) == [2, 3] and BUILTIN["range"](0) == []
    assert BUILTIN["chunks"]([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]] and BUILTIN["chunks"]([], 3) == []
    assert BUILTIN["chunks"]([1, 2], 0) == [[1], [2]]
    assert BUILTIN["keys"]({"b": 1, "a": 2}) == ["b", "a"] and BUILTIN["keys"](None) == [] and BUILTIN["keys"]([1]) == []


def test_builtins_are_as_lenient_as_the_js_helpers():
    assert BUILTIN["len"](5) == 0 and BUILTIN["lower"](3) is None and BUILTIN["strip"](None) is None
    assert BUILTIN["sum"]([1, "x", None, True, 2]) == 3
    assert BUILTIN["sort"]("cab") == ["a", "b", "c"] and BUILTIN["take"]({"k": 1, "j": 2}, 1) == ["k"]
    assert BUILTIN["take"]([1, 2], None) == [] and BUILTIN["flatten"](7) == []
    assert V.index([1, 2], 0.5) is None and V.index(5, 0) is None and V.index([1, 2], "a") is None
    assert V.slice_([1, 2, 3], 0.9, 2.5) == [1, 2]
    assert V.iterate(3) == [] and V.iterate("ab") == ["a", "b"] and V.iterate({"a": 1}) == ["a"]


def test_lone_surrogates_in_lists_are_escaped_as_json_stringify_does():
    # JSON.stringify(["a\ud800b"]) === '["a\\ud800b"]' (well-formed stringify)
    assert V.to_json(["a\ud800b"], indent=None) == '["a\\ud800b"]'
    assert V.text({"k": "\udfff"}) == '{\n  "k": "\\udfff"\n}'
