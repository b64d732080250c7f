"""Source spans: where a node came from, 1-based lines and columns, end exclusive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    line: int
    col: int
    end_line: int
    end_col: int

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.line, self.col, other.end_line, other.end_col)

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


NOWHERE = Span(0, 0, 0, 0)


def source_lines(source: str) -> list[str]:
    """The lines of a source as the lexer counts them: only `\\n` ends a line (a `\\r\\n`
    loses its `\\r`). str.splitlines would also split at `\\r`, `\\x0c`, `\\u2028` and
    others, and put a caret on the wrong line."""
    lines = source.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
