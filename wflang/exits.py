"""The exit status of every `wf` command: one table, the one docs/cli.md shows.

Each command module imports its codes from here, and tests/test_exits.py holds the
docs' table, the per-command lists and the behaviour to it, command by command.
"""

from __future__ import annotations

OK = 0
ERRORS = 1  # the input has errors (a .wf, the arguments), or the run failed
USAGE = 2  # the command line: a bad option or value, a path that cannot be read or written
INTERNAL = 3  # a bug in wflang
INTERRUPTED = 130  # Ctrl-C

MEANING: dict[int, str] = {
    OK: "success",
    ERRORS: "the input has errors (a `.wf` that does not check, arguments that do not fit its inputs, "
            "a fake file that is not valid), or the run failed",
    USAGE: "usage error: unknown option, a bad option value, a FILE or `--args` file that cannot be "
           "read, an output path that cannot be written",
    INTERNAL: "internal error (a bug in wflang: the message says how to get the traceback, `WF_DEBUG=1`)",
    INTERRUPTED: "interrupted (Ctrl-C); a run can be resumed",
}

# Which codes each command can end with (docs/cli.md lists the same, per command).
BY_COMMAND: dict[str, tuple[int, ...]] = {
    "check": (OK, ERRORS, USAGE, INTERNAL),
    "compile": (OK, ERRORS, USAGE, INTERNAL),
    "run": (OK, ERRORS, USAGE, INTERNAL, INTERRUPTED),
    "runs": (OK, USAGE, INTERNAL),
    "show": (OK, USAGE, INTERNAL),
    "graph": (OK, ERRORS, USAGE, INTERNAL),
    "new": (OK, ERRORS, USAGE, INTERNAL),
    "fake": (OK, ERRORS, USAGE, INTERNAL),
}

# The few words `--help` shows per code.
SHORT: dict[int, str] = {OK: "ok", ERRORS: "errors in the input or a failed run", USAGE: "usage",
                         INTERNAL: "internal error", INTERRUPTED: "interrupted"}
