"""`wf compile FILE [-o OUT] [--install [--force]]`: what the CLI calls.

The file is loaded and checked first (the workflows it `run`s too); any error diagnostic
means nothing is written. Without `-o` the script goes to stdout; `--install` writes
`.claude/workflows/<name>.js` under the current directory, where Claude Code finds saved
workflows, and refuses to replace a different file there unless `--force`.

Exit codes: 0 written; 1 the workflow does not compile (or an install would overwrite a
different file); 2 usage: bad options, an unreadable input, an unwritable output.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TextIO

from wflang import exits
from wflang.color import paint
from wflang.dsl.diagnostics import Diagnostic, render
from wflang.dsl.loader import load
from wflang.transpiler.emit import CompileError, compile_script

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = exits.OK, exits.ERRORS, exits.USAGE
_FILE_PROBLEMS = ("WF001",)  # the file could not be read: a usage error (not UTF-8 is an error, as in `wf check`)


def compile_command(file: str, out: str | None, install: bool, force: bool,
                    stdout: TextIO, stderr: TextIO) -> int:
    if out is not None and install:
        stderr.write("wf compile: give either -o OUT or --install, not both\n")
        return EXIT_USAGE
    if force and not install:
        stderr.write("wf compile: --force only applies to --install\n")
        return EXIT_USAGE
    loaded = load(file)
    for d in loaded.diagnostics:
        stderr.write(paint(render(d, file, loaded.source), stderr) + "\n")
    if loaded.source is None:
        return EXIT_USAGE if any(d.code in _FILE_PROBLEMS for d in loaded.diagnostics) else EXIT_ERRORS
    if not loaded.ok:
        errors = sum(d.severity == "error" for d in loaded.diagnostics)
        stderr.write(f"wf compile: {file}: {errors} error{'s' if errors != 1 else ''}; nothing written\n")
        return EXIT_ERRORS
    program = loaded.program
    assert loaded.result is not None
    bound = loaded.result.bound
    try:
        script, warnings = compile_script(program, bound=bound, source_name=Path(file).name)
    except CompileError as e:
        span = e.node.span if e.node is not None and e.node.span.line else None
        where = e.program if e.program is not None and e.program is not program else None
        stderr.write(render(Diagnostic("WF500", f"cannot compile: {e.message if span else e}", span),
                            where.file if where else file, where.source if where else loaded.source) + "\n")
        return EXIT_ERRORS
    for w in warnings:
        where = w.program if w.program is not program else None
        stderr.write(render(w.diagnostic, where.file if where else file,
                            where.source if where else loaded.source) + "\n")
    worst = f" (at most {bound.total} agents)" if bound is not None else ""
    if install:
        return _install(script, program.header.name, force, worst, stderr)
    if out is None:
        stdout.write(script)
        return EXIT_OK
    try:
        _write_atomically(Path(out), script)
    except OSError as e:
        stderr.write(f"wf compile: cannot write {out}: {e.strerror or e}\n")
        return EXIT_USAGE
    stderr.write(f"wrote {out}{worst}\n")
    return EXIT_OK


def _install(script: str, name: str, force: bool, worst: str, stderr: TextIO) -> int:
    target = Path(".claude") / "workflows" / f"{name}.js"
    if target.is_symlink():
        # Claude Code refuses symlinked workflow files; do not write through one either.
        stderr.write(f"wf compile: {target} is a symbolic link; remove it and install again\n")
        return EXIT_USAGE
    if target.exists():
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current == script:
            stderr.write(f"{target} is already up to date{worst}\n")
            return EXIT_OK
        if not force:
            stderr.write(f"wf compile: {target} exists and differs from this compile; "
                         "pass --force to replace it\n")
            return EXIT_ERRORS
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, script)
    except OSError as e:
        stderr.write(f"wf compile: cannot write {target}: {e.strerror or e}\n")
        return EXIT_USAGE
    stderr.write(f"installed {target}{worst}; run it in Claude Code as /{name}\n")
    return EXIT_OK


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomically(path: Path, text: str) -> None:
    """Write next to the target, then rename: a reader never sees half a script."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a script is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
