"""Blank this process's initial environment block, the one `/proc/<pid>/environ` shows.

`/proc/<pid>/environ` shows the block the kernel copied onto the stack at exec, not
`os.environ`: deleting a variable (unsetenv) removes a pointer but leaves the bytes, so a
process of the same user (an agent's `run_shell`; root reads any) still finds the API key
there, and every other secret the user exported (GITHUB_TOKEN, cloud keys...). Once the
SDK client holds the key, `wf run` first gives every variable a fresh copy on the heap
(setenv), so nothing points into the block any more, then overwrites the whole block with
NUL bytes in place (through `/proc/self/mem`). `os.environ`, `getenv` and the children
this process starts see exactly what they saw before; only the bytes /proc shows are gone.

This does not make the key unreachable by a process with ptrace rights over `wf` (it is
in the heap): that is why `shell` is not a sandbox.
"""

from __future__ import annotations

import os


def _env_range() -> tuple[int, int] | None:
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return None
    # Fields after the comm: state is field 3, so field N is fields[N - 3]; env_start and
    # env_end are fields 50 and 51 (Linux 3.5+).
    if len(fields) < 49:
        return None
    start, end = int(fields[47]), int(fields[48])
    return (start, end) if 0 < start < end else None


def scrub_initial_environ() -> int:
    """Overwrite the initial environment block with NUL bytes; the number of entries it
    held (0 where /proc is missing or the block cannot be written: nothing changed)."""
    where = _env_range()
    if where is None:
        return 0
    start, end = where
    try:
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            entries = [e for e in mem.read(end - start).split(b"\0") if e]
            # The C environment points into the block: move every variable to the heap
            # first, so blanking the block changes nothing this process or its children see.
            for name, value in list(os.environ.items()):
                os.environ[name] = value
            mem.seek(start)
            mem.write(b"\0" * (end - start))
    except (OSError, ValueError):
        return 0
    return len(entries)


def environ_block_holds(secret: str, pid: int | None = None) -> bool:
    """Whether `/proc/<pid>/environ` (default: this process) still shows `secret`."""
    try:
        with open(f"/proc/{pid or os.getpid()}/environ", "rb") as f:
            return secret.encode() in f.read()
    except OSError:
        return False
