"""Diagnostics count lines as the lexer does: only `\\n` ends one, so a U+2028 or a lone
`\\r` inside the text never moves the caret to another line."""

from __future__ import annotations

from wflang.dsl.loader import load
from wflang.dsl.report import human
from wflang.dsl.span import source_lines


def test_source_lines_split_at_newline_only() -> None:
    assert source_lines("a\u2028b\nc\r\nd\re") == ["a\u2028b", "c", "d\re"]


def test_caret_stays_on_its_line_after_a_line_separator() -> None:
    src = 'workflow a:\n    description: "x"\nX = "a\u2028b"\ny = nope\n'
    report = human(load("t.wf", src))
    assert "4 | y = nope\n  |     ^^^^" in report


def test_lone_carriage_returns_keep_spans_inside_the_text() -> None:
    loaded = load("f.wf", "\r\r\t0")
    assert all(d.span is None or d.span.line <= 1 for d in loaded.diagnostics)
