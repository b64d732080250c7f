"""The checked program of a `wf run`, cached per user beside the parser's tables.

A fresh `wf run` imports the parser and the checker and parses and checks the workflow
before its first agent: most of a short run's own time (docs/decisions.md, "Runtime").
The checked tree is the same for the same text, so the loader keeps it here, pickled,
and a later run of the unchanged workflow unpickles it without importing the parser, lark
or the checker.

What a hit requires, so that a cached tree is never one that no longer checks:
- the file's name holds a key over this format, the Python (`cache_tag`), a fingerprint of
  wflang's own code (size and mtime of every `.py` and `.lark` file of the installed
  package: an edited checkout never reads an old tree), the path as given (it is in the
  tree and in diagnostics) and the source text; the file repeats the key;
- every other file the load read is read again and must be the same: the workflows it
  `run`s (their text's sha256, or "unreadable") and the parser's own tables or lark;
- the file is a regular file owned by this user and writable by nobody else (unpickling
  runs code: a planted file must never be read). It lives under XDG_CACHE_HOME (or
  ~/.cache)/wflang/, never in the workspace or beside the `.wf`.
Only programs that checked without errors are stored, with the checker's warnings. The
agent-type warnings are not stored: the loader looks them up again on a hit, since they
depend on folders (`.claude/agents`) that can change under an unchanged source.
Any problem (no home, a read-only or full disk, a damaged file, another format, a tree
that does not pickle) is a miss, and the loader checks from scratch as before.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wflang.dsl.gcpause import paused

if TYPE_CHECKING:
    from wflang.dsl import ast
    from wflang.dsl.bounds import Bound
    from wflang.dsl.diagnostics import Diagnostic
    from wflang.dsl.types import Type

_FORMAT = 1  # bump when what is stored changes
_PREFIX = "program-"
_KEEP = 64  # programs kept: the most recently used
# wflang/ itself (this file is wflang/dsl/program_cache.py); tests point it elsewhere.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What a fresh load read besides the source: ("text", path, sha256 or None when it could
# not be read) for a workflow it runs, ("stat", path, (size, mtime_ns)) for the parser.
Dep = tuple[str, str, Any]


@dataclass
class Checked:
    """What a checked program is to its readers (the fields of checker.CheckResult),
    without importing the checker."""

    program: ast.Program
    diagnostics: list[Diagnostic]
    bound: Bound | None
    result: Type

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def folder() -> str | None:
    """The cache folder, the parser's (wflang/dsl/lalr.py); None without an absolute home."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wflang") if os.path.isabs(base) else None


def package_fingerprint(root: str | None = None) -> str:
    """Every `.py` and `.lark` file of the package under `root` with its size and mtime:
    about 80 stat calls, far cheaper than hashing the code."""
    root = root or PACKAGE_ROOT
    cut = len(root) + 1
    lines: list[str] = []
    stack = [root]
    while stack:
        here = stack.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    continue
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.endswith((".py", ".lark")):
                    st = entry.stat()
                    lines.append(f"{entry.path[cut:]}\0{st.st_size}\0{st.st_mtime_ns}")
    lines.sort()
    return "\n".join(lines)


def _sha256(text: str) -> str:
    import hashlib  # imported by the journal anyway in a run

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def key(path: str, source: str) -> str | None:
    """The entry's key (None when the package's files cannot be listed: no cache)."""
    tag = sys.implementation.cache_tag or "python"
    try:
        fingerprint = package_fingerprint()
    except Exception:  # a package in a zip, a folder gone: no key
        return None
    return _sha256(f"{_FORMAT}\0{tag}\0{fingerprint}\0{path}\0{_sha256(source)}")


def text_dep(path: str, text: str | None) -> Dep:
    return ("text", path, None if text is None else _sha256(text))


def _stat_dep(path: str) -> Dep:
    st = os.stat(path)
    return ("stat", path, (st.st_size, st.st_mtime_ns))


def parser_dep() -> Dep:
    """The parser the fresh load ran on: the cached stand-alone tables, or lark itself."""
    from wflang.dsl import lalr, parser

    if getattr(parser._lark, "standalone", False):
        return _stat_dep(sys.modules[lalr._MODULE].__file__ or "")
    import lark

    return _stat_dep(lark.__file__ or "")


def _dep_holds(dep: Dep) -> bool:
    kind, path, seen = dep
    if kind == "text":
        from wflang.dsl.loader import read_source

        text, _ = read_source(path)
        return text_dep(path, text) == dep
    if kind == "stat":
        try:
            return _stat_dep(path) == dep
        except OSError:
            return False
    return False


def _entry_path(k: str) -> str | None:
    base = folder()
    return None if base is None else os.path.join(base, f"{_PREFIX}{sys.implementation.cache_tag}-{k[:40]}.pickle")


def _read_own_file(path: str) -> bytes | None:
    """The file's bytes when it is a regular file of this user that nobody else can write."""
    if not hasattr(os, "getuid"):
        return None
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return f.read()
    finally:
        if fd >= 0:
            os.close(fd)


def lookup(path: str, source: str, k: str | None = None) -> Checked | None:
    """The cached check of `source` (read from `path`), or None: a miss. `k`: its key,
    when the caller has it (the fingerprint is read once per load)."""
    try:
        k = k or key(path, source)
        entry = None if k is None else _entry_path(k)
        if entry is None or k is None:
            return None
        blob = _read_own_file(entry)
        if blob is None:
            return None
        try:  # the C unpickler alone, as lalr.py: `pickle` imports more than it saves here
            from _pickle import loads
        except ImportError:  # not CPython
            from pickle import loads
        with paused():  # a tree of many objects, no cycles to collect
            fmt, stored_key, deps, program, diagnostics, bound, result = loads(blob)
        from wflang.dsl import ast

        if fmt != _FORMAT or stored_key != k or not isinstance(program, ast.Program):
            return None
        if program.file != path or program.source != source or not all(_dep_holds(d) for d in deps):
            return None
        checked = Checked(program, list(diagnostics), bound, result)
        if not checked.ok:
            return None
        try:
            os.utime(entry)  # recently used: pruning keeps it
        except OSError:
            pass
        return checked
    except Exception:  # missing, damaged, foreign: check from scratch
        return None


def store(path: str, source: str, checked: Any, deps: list[Dep], k: str | None = None) -> None:
    """Keep the check of `source` for the next run (best effort; only a program that checked)."""
    if not checked.ok or checked.bound is None:
        return
    tmp = None
    try:
        try:  # the C pickler alone: `import pickle` costs a run a few milliseconds
            from _pickle import dumps
        except ImportError:  # not CPython
            from pickle import dumps

        k = k or key(path, source)
        entry = None if k is None else _entry_path(k)
        if entry is None or k is None or not hasattr(os, "getuid"):
            return
        blob = dumps((_FORMAT, k, [*deps, parser_dep()], checked.program, list(checked.diagnostics),
                      checked.bound, checked.result), protocol=5)
        os.makedirs(os.path.dirname(entry), mode=0o700, exist_ok=True)
        tmp = f"{entry}.{os.getpid()}-{os.urandom(4).hex()}.tmp"  # never a stale one of a dead process
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, entry)  # atomic: a concurrent `wf run` reads the old file or the new one
        tmp = None
        _prune(entry)
    except Exception:  # a read-only or full disk, a tree that does not pickle: no cache
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _prune(entry: str) -> None:
    """Delete the least recently used programs beyond `_KEEP` (best effort)."""
    base = os.path.dirname(entry)
    try:
        others = [os.path.join(base, n) for n in os.listdir(base)
                  if n.startswith(_PREFIX) and n.endswith(".pickle")]
        others.sort(key=os.path.getmtime, reverse=True)
        for old in others[_KEEP:]:
            os.unlink(old)
    except OSError:
        pass
