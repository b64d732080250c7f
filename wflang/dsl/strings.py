"""String literals: escapes, `{expr}` interpolation, `{{ }}` escapes, dedented `\"\"\"`.

The lexer hands over the raw token text; this module turns it into the parts of a
`StrLit` while keeping, for every interpolation, where its source starts, so the
expressions inside get exact spans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wflang.dsl.diagnostics import Diagnostic, WfError
from wflang.dsl.span import Span

_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'",
    "{": "{", "}": "}", "\n": "",
}


@dataclass
class _Char:
    ch: str
    line: int
    col: int


@dataclass
class Interpolation:
    source: str
    line: int  # where the expression text starts
    col: int


def _positioned(raw: str, line: int, col: int) -> list[_Char]:
    out = []
    for ch in raw:
        out.append(_Char(ch, line, col))
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
    return out


def _dedent(chars: list[_Char]) -> list[_Char]:
    """Triple-quoted strings: drop the first newline, a last whitespace-only line, and
    the indentation common to every non-blank line."""
    if chars and chars[0].ch == "\n":
        chars = chars[1:]
    lines: list[list[_Char]] = [[]]
    for c in chars:
        if c.ch == "\n":
            lines[-1].append(c)
            lines.append([])
        else:
            lines[-1].append(c)
    if len(lines) > 1 and all(c.ch in " \t" for c in lines[-1]):
        lines.pop()
        if lines and lines[-1] and lines[-1][-1].ch == "\n":
            lines[-1].pop()
    indents = []
    for ln in lines:
        body = [c for c in ln if c.ch != "\n"]
        if any(c.ch not in " \t" for c in body):
            n = 0
            while n < len(body) and body[n].ch in " \t":
                n += 1
            indents.append(n)
    cut = min(indents) if indents else 0
    out: list[_Char] = []
    for ln in lines:
        k = 0
        while k < cut and k < len(ln) and ln[k].ch in " \t":
            k += 1
        out.extend(ln[k:])
    return out


def split_string(raw: str, span: Span, parse_expr: Callable[[Interpolation], object]) -> list:
    """The parts of a string token: plain text and parsed interpolations, in order."""
    if raw.startswith('"""'):
        chars = _dedent(_positioned(raw[3:-3], span.line, span.col + 3))
    else:
        chars = _positioned(raw[1:-1], span.line, span.col + 1)
    parts: list = []
    text: list[str] = []
    i = 0
    n = len(chars)

    def fail(msg: str, at: _Char, hint: str) -> None:
        raise WfError([Diagnostic("WF104", msg, Span(at.line, at.col, at.line, at.col + 1), hint)])

    while i < n:
        c = chars[i]
        if c.ch == "\\":
            if i + 1 >= n:
                fail("a string cannot end with a lone backslash", c, "write `\\\\` for a backslash")
            e = chars[i + 1].ch
            if e in _SIMPLE_ESCAPES:
                text.append(_SIMPLE_ESCAPES[e])
                i += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}.get(e)
            if width is None:
                fail(f"unknown escape `\\{e}` in a string", c,
                     "known escapes: \\n \\t \\r \\0 \\\\ \\\" \\' \\xHH \\uHHHH \\UHHHHHHHH")
            digits = "".join(x.ch for x in chars[i + 2:i + 2 + width])
            try:
                if len(digits) != width:
                    raise ValueError
                text.append(chr(int(digits, 16)))
            except ValueError:
                fail(f"`\\{e}` needs {width} hex digits", c, f"for example \\{e}{'0' * (width - 1)}A")
            i += 2 + width
            continue
        if c.ch == "{":
            if i + 1 < n and chars[i + 1].ch == "{":
                text.append("{")
                i += 2
                continue
            j = _matching_brace(chars, i)
            if j is None:
                fail("`{` opens an interpolation that is never closed", c,
                     "close it with `}`, or write `{{` for a literal brace")
            inner = chars[i + 1:j]
            source = "".join(x.ch for x in inner)
            if not source.strip():
                fail("empty interpolation `{}`", c, "put an expression inside, or write `{{}}` for literal braces")
            if text:
                parts.append("".join(text))
                text = []
            start = inner[0]
            parts.append(parse_expr(Interpolation(source, start.line, start.col)))
            i = j + 1
            continue
        if c.ch == "}":
            if i + 1 < n and chars[i + 1].ch == "}":
                text.append("}")
                i += 2
                continue
            fail("a single `}` in a string", c, "write `}}` for a literal brace")
        text.append(c.ch)
        i += 1
    if text or not parts:
        parts.append("".join(text))
    return parts


def _matching_brace(chars: list[_Char], start: int) -> int | None:
    depth = 0
    quote: str | None = None
    i = start
    while i < len(chars):
        ch = chars[i].ch
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                return i if ch == "}" else None
        i += 1
    return None
