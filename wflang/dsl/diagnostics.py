"""Diagnostics: a code, a location, the source line with a caret, a hint.

Every mistake the front end finds becomes a `Diagnostic`; nothing else is raised to a
user. `render` produces the human form (Rust/Elm style); `as_json` the CI form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wflang.dsl.span import Span, source_lines


@dataclass
class Diagnostic:
    code: str  # "WF101": 1xx syntax, 2xx names and types, 3xx sizes and bounds, 4xx arguments
    message: str
    span: Span | None = None
    hint: str | None = None
    # Extra lines shown under the caret: a derivation, a list of candidates.
    notes: list[str] = field(default_factory=list)
    severity: str = "error"  # "error" | "warning"

    def as_json(self, file: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": file,
        }
        if self.span is not None:
            out.update(line=self.span.line, column=self.span.col,
                       end_line=self.span.end_line, end_column=self.span.end_col)
        if self.hint:
            out["hint"] = self.hint
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class WfError(Exception):
    """Carries diagnostics out of a stage that cannot go on (a parse error)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def render(diag: Diagnostic, file: str, source: str | None) -> str:
    """The human form:

    error[WF201]: unknown name `fils`
      --> pr-review.wf:12:27
       |
    12 |     reports = fanout f in fils:
       |                           ^^^^
       = hint: did you mean `files`?
    """
    head = f"{diag.severity}[{diag.code}]: {diag.message}"
    # The gutter is as wide as the line number, so `-->`, `|` and `=` line up (as rustc does).
    pad = " " * max(2, len(str(diag.span.line)) + 1) if diag.span is not None else "  "
    if diag.span is None or diag.span.line < 1:
        lines = [head, f"{pad[:-1]}--> {file}"]
    else:
        lines = [head, f"{pad[:-1]}--> {file}:{diag.span.line}:{diag.span.col}"]
        src_lines = source_lines(source) if source is not None else []
        if 1 <= diag.span.line <= len(src_lines):
            text = src_lines[diag.span.line - 1].expandtabs(1)
            num = str(diag.span.line)
            col = min(max(diag.span.col, 1), len(text) + 1)
            if diag.span.end_line == diag.span.line:
                width = max(1, diag.span.end_col - col)
            else:
                width = max(1, len(text) - col + 1)
            lines += [
                f"{pad}|",
                f"{num:>{len(pad) - 1}} | {text}".rstrip(),
                f"{pad}| {' ' * (col - 1)}{'^' * width}",
            ]
    for note in diag.notes:
        lines.append(f"{pad}= {note}")
    if diag.hint:
        lines.append(f"{pad}= hint: {diag.hint}")
    return "\n".join(lines)


def did_you_mean(word: str, candidates: list[str]) -> str | None:
    """The closest candidate by edit distance, if close enough to be a typo."""
    best: tuple[int, str] | None = None
    for cand in candidates:
        d = _distance(word.lower(), cand.lower())
        if best is None or d < best[0]:
            best = (d, cand)
    if best is None:
        return None
    limit = max(1, min(3, len(word) // 3 + 1))
    return best[1] if best[0] <= limit else None


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
