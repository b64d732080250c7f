"""JSON text → value, with nesting too deep for Python's reader as an ordinary, located
JSON error (`json.JSONDecodeError`), never a RecursionError ("internal error").

Python's `json` module recurses once per array or object level and gives up near the
interpreter's frame limit (about 1,000 levels); arguments, fake-answer files and answers
of 100,000 nested lists must be refused like any other malformed JSON, at the place the
nesting gets too deep, so every caller's existing `except json.JSONDecodeError` applies.
"""

from __future__ import annotations

import json
from typing import Any

DEPTH_LIMIT = 500  # levels of arrays and objects reported as the limit (below Python's)


def loads(text: str, **kw: Any) -> Any:
    try:
        return json.loads(text, **kw)
    except RecursionError:
        pos = _too_deep_at(text)
        raise json.JSONDecodeError(
            f"arrays and objects nest too deeply here (more than {DEPTH_LIMIT} levels; Python's JSON reader "
            "stops near 1,000)",
            text, pos) from None


def _too_deep_at(text: str) -> int:
    """Offset of the first `[` or `{` that opens level DEPTH_LIMIT + 1 (strings skipped)."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch in "[{":
            depth += 1
            if depth > DEPTH_LIMIT:
                return i
        elif ch in "]}":
            depth -= 1
        i += 1
    return 0
