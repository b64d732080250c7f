"""Pause Python's cyclic garbage collector around a burst of allocation.

Parsing and checking allocate hundreds of thousands of short-lived objects (tokens,
lark trees, AST nodes) and create no reference cycles worth collecting; the collector
ran over and over during a parse and took about a quarter of its time (bench/).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
