"""Source spans: where a node came from, 1-based lines and columns, end exclusive."""

from __future__ import annotations

from dataclasses import dataclass

from wflang.dsl.reprs import field_repr


@dataclass(frozen=True, repr=False)
class Span:
    """Where a node is written: from (line, col) up to, not including, (end_line, end_col)."""

    __repr__ = field_repr  # the dataclass text, made on demand (reprs.py)

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


def source_lines(text: str) -> list[str]:
    """The lines of a source as the grammar counts them: only `\\n` (or `\\r\\n`) ends a line,
    so a lone `\\r` or form feed never shifts a diagnostic's line number."""
    return [line.removesuffix("\r") for line in text.split("\n")]
