"""No input makes the front end raise: random text and mutated programs give a report
(diagnostics or a bound), never an exception. Any traceback found here is a front-end bug.

Seeds for mutation: the design example, tests/dsl/valid/*.wf and the golden mistakes.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wflang.cli import EXIT_ERRORS, EXIT_OK, check_command
from wflang.dsl.arguments import validate_args
from wflang.dsl.loader import Loaded, load
from wflang.dsl.report import as_json, human

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
SEEDS = [p.read_text(encoding="utf-8") for p in [
    ROOT / "examples" / "pr-review" / "pr-review.wf",
    *sorted((HERE / "valid").glob("*.wf")),
    *sorted((HERE / "golden").glob("*.wf"))[::4],
]]
# Fragments of the language, so random text gets past the lexer often enough to matter.
TOKENS = [
    "workflow", "w", ":", "\n", "\n    ", "\n        ", "    ", " ", "description", '"d"', "input", "x",
    "list[str]", "max", "10", "int", "=", "type", "T", "phase", '"P"', "agent", '"a {x}"', "->", "with",
    "model=", "fanout", "for", "in", "review", "by", "keep if", "accept when", "vote", "quorum",
    "tournament", "vs", "pick", "when", "repeat", "as", "fix", "stall", "until", "check", "run", '"o.wf"',
    "if", "elif", "else", "log", "return", "stop when", "budget", "agents <=", "defaults", "(", ")", "[",
    "]", "{", "}", ",", ".", "+", "-", "*", "/", "%", "|", "==", "<", "not", "and", "or", "lambda", "#c",
    '"""', "'", "\\", "\t", "{{", "}}", "\\n", "take(", "flatten(", "top(", "len(", "chunks(", "range(",
    "by=.f", "none", "true", "1.5", "_", "é", "\r\n", "\x00",
]

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_text(text: str) -> Loaded:
    """What `wf check` does with a file's text, minus the file: the report must render."""
    loaded = load("fuzz.wf", text)
    report = human(loaded)
    assert report.endswith(("ok", "error", "errors")) or "\npermissions: " in report, report
    json.dumps(as_json(loaded))
    n_lines = text.count("\n") + 2
    for d in loaded.diagnostics:
        assert d.code.startswith("WF") and d.message, d
        if d.span is not None and d.span.line > 0:
            assert d.span.line <= n_lines, (d, text)
    if loaded.ok:
        bound = loaded.result.bound  # type: ignore[union-attr]
        assert bound is not None and bound.total >= 0
    return loaded


# ---------------------------------------------------------------- mutations


@st.composite
def mutated(draw: Any) -> str:
    """A seed program with one to four small edits of the kinds people make."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


def _at(draw: Any, text: str) -> int:
    return draw(st.integers(0, max(0, len(text) - 1)))


def delete_chars(draw: Any, text: str) -> str:
    i = _at(draw, text)
    return text[:i] + text[i + draw(st.integers(1, 5)):]


def duplicate_chars(draw: Any, text: str) -> str:
    i = _at(draw, text)
    j = i + draw(st.integers(1, 8))
    return text[:j] + text[i:j] + text[j:]


def swap_chars(draw: Any, text: str) -> str:
    i = _at(draw, text)
    if i + 1 >= len(text):
        return text
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def insert_token(draw: Any, text: str) -> str:
    i = _at(draw, text)
    return text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]


def _lines_edit(draw: Any, text: str, edit: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    if edit == "delete":
        del lines[i]
    elif edit == "duplicate":
        lines.insert(i, lines[i])
    elif edit == "swap" and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif edit == "indent":
        change = draw(st.sampled_from(["    ", "  ", " ", "\t", "-"]))
        if change == "-":
            lines[i] = lines[i][4:] if lines[i].startswith("    ") else lines[i].lstrip(" ")
        else:
            lines[i] = change + lines[i]
    return "\n".join(lines)


def delete_line(draw: Any, text: str) -> str:
    return _lines_edit(draw, text, "delete")


def duplicate_line(draw: Any, text: str) -> str:
    return _lines_edit(draw, text, "duplicate")


def swap_lines(draw: Any, text: str) -> str:
    return _lines_edit(draw, text, "swap")


def reindent_line(draw: Any, text: str) -> str:
    return _lines_edit(draw, text, "indent")


def truncate(draw: Any, text: str) -> str:
    return text[:_at(draw, text)]


MUTATIONS = [delete_chars, duplicate_chars, swap_chars, insert_token, insert_token, delete_line,
             duplicate_line, swap_lines, reindent_line, reindent_line, truncate]


# ---------------------------------------------------------------- the tests


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    check_text(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_random_token_soup(text: str) -> None:
    check_text('workflow w:\n    description: "d"\n\n' + text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_programs(text: str) -> None:
    check_text(text)


@settings(max_examples=40, deadline=None)
@given(mutated(), st.booleans())
def test_mutated_programs_through_cli(text: str, as_json_flag: bool) -> None:
    """The whole `wf check` path, file reading and report writing included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.wf"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out, err = io.StringIO(), io.StringIO()
        status = check_command([str(path)], None, as_json_flag, out, err)
    assert status in (EXIT_OK, EXIT_ERRORS)
    assert err.getvalue() == ""
    if as_json_flag:
        assert json.loads(out.getvalue())["ok"] == (status == EXIT_OK)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 500) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(
        ["files", "focus", "rounds", "mode", "x", "file", "severity"]), inner, max_size=4),
    max_leaves=20,
)
_EXAMPLE = load(str(ROOT / "examples" / "pr-review" / "pr-review.wf"))
_EVERYTHING = load(str(HERE / "valid" / "everything.wf"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_random_arguments(raw: Any) -> None:
    """Arguments of any JSON shape give values or diagnostics, never an exception."""
    for loaded in (_EXAMPLE, _EVERYTHING):
        values, diags = validate_args(loaded.program, raw)
        assert isinstance(values, dict)
        for d in diags:
            assert d.code.startswith("WF4")
        human(loaded, "args.json", None, diags)


# ---------------------------------------------------------------- depth

_OPEN_CLOSE = [("(", ")"), ("[", "]"), ("str(", ")"), ("{a: ", "}"), ("not ", ""), ("- ", ""), ("1 + ", ""),
               ("len([", "])"), ('"{', '}"')]


@st.composite
def deep_program(draw: Any) -> str:
    """Nesting of random brackets, calls, operators and blocks, from shallow to far past
    the limit: every one is checked or refused with WF117, never a RecursionError."""
    layers = draw(st.lists(st.sampled_from(_OPEN_CLOSE), min_size=1, max_size=40))
    times = draw(st.integers(1, 12))
    expr = "1"
    for _ in range(times):
        for o, c in layers:
            expr = o + expr + c
    ifs = draw(st.integers(0, 70))
    body = "".join("    " * i + "if true:\n" for i in range(ifs)) + "    " * ifs + f"x = {expr}\n"
    return 'workflow w:\n    description: "d"\n\n' + body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_program())
def test_deep_nesting_never_recurses_without_end(text: str) -> None:
    loaded = check_text(text)
    assert all(d.code != "WF117" or "levels deep" in d.message for d in loaded.diagnostics)
