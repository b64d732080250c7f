"""JSON text → value, with nesting deeper than DEPTH_LIMIT as an ordinary, located JSON
error (`json.JSONDecodeError`), never a RecursionError ("internal error").

Python's `json` module recurses once per array or object level and gives up near the
interpreter's frame limit (about 1,000 levels), and so does code that walks a value (our
normalizing, validation, repr); arguments, fake-answer files and answers of 100,000
nested lists must be refused like any other malformed JSON, at the place the nesting gets
too deep, so every caller's existing `except json.JSONDecodeError` applies. The limit is
checked, not left to the reader: a value 900 deep reads, and then broke whatever walked it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

# Levels of arrays and objects a value may have. Python's reader stops near 1,000, and our
# recursive walkers of values (normalizing, redaction, display) take 2-4 frames a level;
# 200 leaves them room, and is far deeper than any type a workflow declares.
DEPTH_LIMIT = 200


class TooDeep(json.JSONDecodeError):
    """The JSON is well formed but nests deeper than DEPTH_LIMIT."""


def loads(text: str, **kw: Any) -> Any:
    try:
        value = json.loads(text, **kw)
    except RecursionError:
        value = _DEEP
    if value is _DEEP or _deeper_than_limit(text):
        raise TooDeep(f"arrays and objects nest too deeply here (more than {DEPTH_LIMIT} levels)",
                      text, _too_deep_at(text)) from None
    return value


_DEEP = object()
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _deeper_than_limit(text: str) -> bool:
    """For well-formed JSON: do arrays and objects nest more than DEPTH_LIMIT levels?
    At C speed (str.count, re, accumulate): it runs on every text read, model replies too."""
    if text.count("[") + text.count("{") <= DEPTH_LIMIT:  # too few to nest that deep
        return False
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return len(brackets) > 2 * DEPTH_LIMIT and max(accumulate(map(_STEP.__getitem__, brackets))) > DEPTH_LIMIT


def loads_capped(text: str, marker: str, **kw: Any) -> Any:
    """`loads`, except that each array or object opening level DEPTH_LIMIT + 1 is read as
    the string `marker`: a reply whose answer nests too deeply still has its envelope
    (ids, usage, the other fields), so the caller can name the place and ask again.
    Malformed JSON raises `json.JSONDecodeError` as `loads` does."""
    try:
        return loads(text, **kw)
    except TooDeep:
        pass
    spans = _too_deep_spans(text)
    if not spans:  # unbalanced: let the reader say where
        return loads(text, **kw)
    parts, at = [], 0
    for start, end in spans:
        parts += [text[at:start], json.dumps(marker)]
        at = end
    parts.append(text[at:])
    return loads("".join(parts), **kw)


def find_marker(value: Any, marker: str) -> list[str | int] | None:
    """The path (keys and indexes) to the first `marker` string in `value`, or None;
    iterative, as `value` may be DEPTH_LIMIT levels deep."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if item == marker and isinstance(item, str):
            return path
        if isinstance(item, dict):
            stack.extend((v, [*path, k]) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, [*path, i]) for i, v in reversed(list(enumerate(item))))
    return None


def describe_path(path: list[str | int]) -> str:
    """A JSON pointer, shortened in the middle when long: `/a/0/0/…/0 (501 levels)`."""
    if not path:
        return "the root"
    parts = [str(p) for p in path]
    if len(parts) <= 8:
        return "/" + "/".join(parts)
    return "/" + "/".join(parts[:4]) + "/…/" + "/".join(parts[-2:]) + f" ({len(parts)} levels down)"


def _brackets(text: str) -> Iterator[tuple[int, int]]:
    """(offset, depth after it) of every `[`, `{`, `]` and `}` outside strings, in order."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch in "[{":
            depth += 1
            yield i, depth
        elif ch in "]}":
            depth -= 1
            yield i, depth
        i += 1


def _too_deep_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each array or object that opens level DEPTH_LIMIT + 1, strings
    skipped; [] when the brackets do not balance."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, -1
    for i, depth in _brackets(text):
        if depth == DEPTH_LIMIT + 1 and text[i] in "[{":
            start = i
        elif depth == DEPTH_LIMIT and text[i] in "]}":
            spans.append((start, i + 1))
        elif depth < 0:
            return []
    return spans if depth == 0 else []


def _too_deep_at(text: str) -> int:
    """Offset of the first `[` or `{` that opens level DEPTH_LIMIT + 1 (strings skipped)."""
    return next((i for i, depth in _brackets(text) if depth > DEPTH_LIMIT), 0)
