"""docs/language.md documents every builtin of the registry (wflang/dsl/builtins), each
with its size rule: one row per builtin in the table between `<!-- builtins-table` and
`<!-- /builtins-table -->` (the comment above the table states the convention)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wflang.dsl import builtins

DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"
HEADER = ["call", "result", "meaning", "max of the result"]
CALL = re.compile(r"`([a-z_][a-z0-9_]*)\(([^`]*)\)`")
COLLECTION = re.compile(r"\b(list|map)\[")


def cells(row: str) -> list[str]:
    """A table row's cells: split at `|` outside backticks (`|xs|` is a size, not a column)."""
    out, cur, code = [], "", False
    for ch in row.strip()[1:-1] if row.strip().endswith("|") else row.strip()[1:]:
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def table() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.find("<!-- builtins-table"), text.find("<!-- /builtins-table -->")
    assert 0 <= start < end, "docs/language.md has no builtins table (<!-- builtins-table --> ... <!-- /builtins-table -->)"
    body = text[text.index("-->", start) + 3:end]
    rows = [cells(line) for line in body.splitlines() if line.strip().startswith("|")]
    assert rows and rows[0] == HEADER, f"the builtins table's header must be {HEADER}, not {rows[:1]}"
    assert rows[1] and all(set(c) <= set("-:") for c in rows[1]), "the second row must be |---|..."
    return rows[2:]


def documented() -> dict[str, list[str]]:
    """Builtin name -> its row; a row naming no call or several builtins fails here."""
    out: dict[str, list[str]] = {}
    for row in table():
        assert len(row) == len(HEADER), f"a row of {len(row)} cells, not {len(HEADER)}: {row}"
        names = {m.group(1) for m in CALL.finditer(row[0])}
        assert len(names) == 1, f"the call cell must show calls of one builtin, in backticks: {row[0]!r}"
        name = names.pop()
        assert name not in out, f"`{name}` has two rows in the builtins table"
        out[name] = row
    return out


def test_every_row_is_a_builtin_of_the_registry() -> None:
    extra = set(documented()) - set(builtins.REGISTRY)
    assert not extra, f"docs/language.md documents builtins the registry does not have: {sorted(extra)}"


@pytest.mark.parametrize("name", builtins.NAMES)
def test_the_builtin_is_documented_with_its_size_rule(name: str) -> None:
    rows = documented()
    assert name in rows, (f"`{name}` (wflang/dsl/builtins) has no row in the builtins table of "
                          "docs/language.md §13: add `| `call` | result | meaning | max of the result |`")
    call, result, meaning, size = rows[name]
    assert result and meaning, f"`{name}`: the result type and the meaning must be written"
    for kw in builtins.get(name).keywords:
        assert f"{kw}=" in call, f"`{name}`: the call cell must show its keyword `{kw}=`"
    # the size rule: a formula for a list or map result, `—` (not a list) for any other value
    if COLLECTION.search(result):
        assert size and not size.startswith("—"), f"`{name}` gives a {result}: state the max of its result"
    else:
        assert size.startswith("—"), (f"`{name}` gives {result}, not a list or map: its size cell starts "
                                      f"with `—`, or its result type must name the list/map, not {size!r}")


def test_the_table_parser_reads_sizes_as_one_cell() -> None:
    assert cells("| `take(xs, n)` | `list[T]` | first n | `min(|xs|, n)` |") == [
        "`take(xs, n)`", "`list[T]`", "first n", "`min(|xs|, n)`"]
