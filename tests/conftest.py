"""Settings for the whole test session.

wflang keeps per-user caches under XDG_CACHE_HOME (or ~/.cache)/wflang/: the parser's
tables (wflang/dsl/lalr.py) and the checked programs of `wf run` (wflang/dsl/program_cache.py).
The tests use a folder of their own, made empty for each session and inherited by every
`wf` process they start, so no entry from the user's runs, another checkout or an earlier
session can serve a test. Tests of the caches themselves point it at their own tmp_path.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_CACHE = tempfile.mkdtemp(prefix="wflang-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)
