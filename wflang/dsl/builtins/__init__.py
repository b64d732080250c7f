"""Every builtin of the language, each declared once (base.py says what a declaration
holds; /work/notes/builtins.md and docs/language.md §13 say how to add one: a row in its
builtins table, which tests/test_docs_builtins.py checks).

`get(name)` finds a builtin's declaration in one hop; `NAMES` lists them in the order
diagnostics show. The families: lists.py (len, flatten, take, top, sort, unique, min, max,
sum, any, all, range, chunks, keys), text.py (join, lower, upper, strip, json, str, int) and
strings.py (split, lines, replace, find, contains, starts_with, ends_with, slug, round,
fixed, and the regular expressions matches, re_replace, findall of regex_dialect.py),
maps.py (values, entries, group_by, count_by, to_map), paths.py (basename, dirname, extension,
stem, url, hash).
"""

from __future__ import annotations

from wflang.dsl.builtins import lists, maps, paths, strings, text  # noqa: F401  (registers their builtins)
from wflang.dsl.builtins.base import REGISTRY, Builtin, Checking, builtin

_ORDER = ("len", "flatten", "take", "top", "sort", "unique", "join", "lower", "upper", "strip",
          "min", "max", "sum", "any", "all", "json", "str", "int", "range", "chunks", "keys")
NAMES: tuple[str, ...] = _ORDER + tuple(n for n in REGISTRY if n not in _ORDER)
# The names no input or variable may take. Builtins added later stay free as names
# (`repeat ... as round` was written before round() existed): a call `round(x)` always
# means the builtin, since there are no user functions, and a bare `round` the variable.
RESERVED: frozenset[str] = frozenset(_ORDER)


def get(name: str) -> Builtin | None:
    return REGISTRY.get(name)


__all__ = ["NAMES", "REGISTRY", "RESERVED", "Builtin", "Checking", "builtin", "get"]
