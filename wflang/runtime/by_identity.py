"""A cache of what is built once per object, found again by identity.

The runtime's schemas are shared constants, one per agent site, and read as immutable once
used: what depends only on a schema (the fake's plan and validator, the engine's fitter)
is built at its first agent and found again by `id()`, one dict read, cheaper than hashing
a schema's contents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class ByIdentity:
    """What is built once per schema object, found again by identity (the runtime's schemas
    are shared constants, one per agent site; a schema is read as immutable once used). An
    entry keeps its schema alive, so the id cannot be reused while it is cached."""

    def __init__(self, size: int = 256) -> None:
        self._entries: dict[int, tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        self._size = size

    def get(self, schema: Any, build: Callable[[Any], Any]) -> Any:
        hit = self._entries.get(id(schema))  # one dict read, atomic: no lock on a hit
        if hit is not None and hit[0] is schema:
            return hit[1]
        built = build(schema)
        with self._lock:
            self._entries[id(schema)] = (schema, built)
            if len(self._entries) > self._size:  # the oldest goes (rebuilt if it is asked for again)
                del self._entries[next(iter(self._entries))]
        return built
