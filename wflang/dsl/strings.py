"""String literals: escapes, `{expr}` interpolation, `{{ }}` escapes, dedented `\"\"\"`.

The lexer hands over the raw token text; this module turns it into the parts of a
`StrLit` while keeping, for every interpolation, where its source starts, so the
expressions inside get exact spans.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from wflang.dsl.diagnostics import Diagnostic, WfError
from wflang.dsl.span import Span

_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'",
    "{": "{", "}": "}", "\n": "",
}


@dataclass
class Interpolation:
    source: str
    line: int  # where the expression text starts
    col: int


class _Text:
    """The characters of a literal after dedenting, and where each one stands in the
    source. Positions are computed only where needed (an interpolation, an error), so a
    long prompt costs a few string operations, not an object per character."""

    def __init__(self, raw: str, line: int, col: int, dedent: bool) -> None:
        lines = raw.split("\n")
        # (source line, source column of the first kept character) for each kept line
        origins = [(line + k, col if k == 0 else 1) for k in range(len(lines))]
        if dedent:
            if len(lines) > 1 and lines[0] == "":
                lines, origins = lines[1:], origins[1:]
            if len(lines) > 1 and lines[-1].strip(" \t") == "":
                lines, origins = lines[:-1], origins[:-1]
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip(" \t")]
            cut = min(indents) if indents else 0
            kept = []
            for ln, (sl, sc) in zip(lines, origins, strict=True):
                k = min(cut, len(ln) - len(ln.lstrip(" \t")))
                kept.append((ln[k:], (sl, sc + k)))
            lines = [k[0] for k in kept]
            origins = [k[1] for k in kept]
        self.text = "\n".join(lines)
        self.origins = origins
        self.starts = []
        pos = 0
        for ln in lines:
            self.starts.append(pos)
            pos += len(ln) + 1

    def where(self, i: int) -> tuple[int, int]:
        k = bisect_right(self.starts, i) - 1
        line, col = self.origins[k]
        return line, col + i - self.starts[k]


_SPECIAL = re.compile(r"[\\{}]")


def split_string(raw: str, span: Span, parse_expr: Callable[[Interpolation], object]) -> list:
    """The parts of a string token: plain text and parsed interpolations, in order."""
    if raw.startswith('"""'):
        src = _Text(raw[3:-3], span.line, span.col + 3, dedent=True)
    else:
        src = _Text(raw[1:-1], span.line, span.col + 1, dedent=False)
    chars = src.text
    parts: list = []
    text: list[str] = []
    i = 0
    n = len(chars)

    def fail(msg: str, at: int, hint: str) -> None:
        line, col = src.where(at)
        raise WfError([Diagnostic("WF104", msg, Span(line, col, line, col + 1), hint)])

    while i < n:
        m = _SPECIAL.search(chars, i)
        if m is None:
            text.append(chars[i:])
            break
        if m.start() > i:
            text.append(chars[i:m.start()])
        i = m.start()
        c = chars[i]
        if c == "\\":
            if i + 1 >= n:
                fail("a string cannot end with a lone backslash", i, "write `\\\\` for a backslash")
            e = chars[i + 1]
            if e in _SIMPLE_ESCAPES:
                text.append(_SIMPLE_ESCAPES[e])
                i += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}.get(e)
            if width is None:
                fail(f"unknown escape `\\{e}` in a string", i,
                     "known escapes: \\n \\t \\r \\0 \\\\ \\\" \\' \\xHH \\uHHHH \\UHHHHHHHH")
            digits = chars[i + 2:i + 2 + width]
            try:
                if len(digits) != width:
                    raise ValueError
                text.append(chr(int(digits, 16)))
            except ValueError:
                fail(f"`\\{e}` needs {width} hex digits", i, f"for example \\{e}{'0' * (width - 1)}A")
            i += 2 + width
            continue
        if c == "{":
            if i + 1 < n and chars[i + 1] == "{":
                text.append("{")
                i += 2
                continue
            j = _matching_brace(chars, i)
            if j is None:
                fail("`{` opens an interpolation that is never closed", i,
                     "close it with `}`, or write `{{` for a literal brace")
            source = chars[i + 1:j]
            if not source.strip():
                fail("empty interpolation `{}`", i, "put an expression inside, or write `{{}}` for literal braces")
            if text:
                parts.append("".join(text))
                text = []
            line, col = src.where(i + 1)
            parts.append(parse_expr(Interpolation(source, line, col)))
            i = j + 1
            continue
        if i + 1 < n and chars[i + 1] == "}":
            text.append("}")
            i += 2
            continue
        fail("a single `}` in a string", i, "write `}}` for a literal brace")
    if text or not parts:
        parts.append("".join(text))
    return parts


def _matching_brace(chars: str, start: int) -> int | None:
    depth = 0
    quote: str | None = None
    i = start
    while i < len(chars):
        ch = chars[i]
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
