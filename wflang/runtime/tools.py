"""The tools an agent may call, confined to its workspace.

Reading (`read_file`, `list_dir`, `glob`, `grep`) is always offered; `write_file` and
`edit_file` need the "edit" permission, `run_shell` needs "shell". Every file access goes
through `workspace_fs.Workspace`, which walks paths by directory descriptor and never lets
the kernel follow a symlink, so nothing outside the workspace is read or written, however
the tree changes during a call (see that module for the rules on symlinks, hard links and
special files). A tool never raises: whatever goes wrong becomes an error string the model
reads (an `is_error` tool result), and every output is capped so one call cannot flood the
context.

`run_shell` runs the command through `shell_helper.py`, a process started with an
allow-listed environment (PATH, LANG/LC_*, TZ, TERM=dumb, HOME set to a scratch directory,
and the names the user lists in WF_SHELL_ENV), so neither the command nor its parent
holds a secret; the helper ends every process the command started (`setsid` ones
included) when the command exits or times out. It is still not a sandbox: the command
runs as the user, can read and write whatever the user can, and reach the network;
granting "shell" trusts the agent with the machine, which is why the permission must be
given explicitly.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import trio

from wflang.runtime.workspace_fs import FsError, Workspace

EDIT = "edit"
SHELL = "shell"


@dataclass(frozen=True)
class ToolResult:
    content: str
    is_error: bool = False


class ToolError(Exception):
    """A failure reported to the model as the tool's (error) result."""


@dataclass(frozen=True)
class ToolLimits:
    max_output_chars: int = 30_000  # any single tool result
    max_read_bytes: int = 10_000_000  # larger files: use grep or offset/limit
    max_entries: int = 500  # list_dir / glob results
    max_matches: int = 200  # grep result lines
    max_line_chars: int = 400  # one grep line
    max_scan_files: int = 20_000  # files grep/glob visit before stopping
    max_grep_file_bytes: int = 5_000_000
    shell_timeout: float = 120.0
    max_shell_timeout: float = 600.0


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]
    permission: str | None  # None: always available

    def definition(self) -> dict[str, Any]:
        """The entry for the Messages API `tools` parameter."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_PATH = {"type": "string", "description": "A path relative to the workspace root."}

SPECS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in [
        ToolSpec(
            "read_file",
            "Read a text file in the workspace. Long files are cut; use offset/limit (1-based lines) to page.",
            _object(
                {
                    "path": _PATH,
                    "offset": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "First line to read (1-based).",
                    },
                    "limit": {"type": "integer", "minimum": 1, "description": "Number of lines to read."},
                },
                ["path"],
            ),
            None,
        ),
        ToolSpec(
            "list_dir",
            "List a directory of the workspace; directories end with '/', symlinks with '@'.",
            _object({"path": {**_PATH, "default": "."}}, []),
            None,
        ),
        ToolSpec(
            "glob",
            "Find files and directories whose workspace-relative path matches a glob pattern "
            "('*' within a name, '**' across directories, '?', '[abc]', '{a,b}').",
            _object(
                {
                    "pattern": {"type": "string", "description": "e.g. 'src/**/*.py'"},
                    "path": {**_PATH, "default": ".", "description": "Directory to search from."},
                },
                ["pattern"],
            ),
            None,
        ),
        ToolSpec(
            "grep",
            "Search text files for a Python regular expression; prints path:line: text for each match.",
            _object(
                {
                    "pattern": {"type": "string", "description": "A Python regular expression."},
                    "path": {**_PATH, "default": ".", "description": "File or directory to search."},
                    "glob": {"type": "string", "description": "Only files matching this glob, e.g. '*.py'."},
                    "ignore_case": {"type": "boolean", "default": False},
                },
                ["pattern"],
            ),
            None,
        ),
        ToolSpec(
            "write_file",
            "Create or overwrite a text file in the workspace (parent directories are created).",
            _object({"path": _PATH, "content": {"type": "string"}}, ["path", "content"]),
            EDIT,
        ),
        ToolSpec(
            "edit_file",
            "Replace an exact string in a file. old_string must occur exactly once unless replace_all is true.",
            _object(
                {
                    "path": _PATH,
                    "old_string": {"type": "string"},
                    "new_string": {"type": "string"},
                    "replace_all": {"type": "boolean", "default": False},
                },
                ["path", "old_string", "new_string"],
            ),
            EDIT,
        ),
        ToolSpec(
            "run_shell",
            "Run a command with /bin/sh in the workspace root; returns the exit code and the combined "
            "stdout/stderr (cut when long). Killed after the timeout.",
            _object(
                {
                    "command": {"type": "string"},
                    "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "Seconds."},
                },
                ["command"],
            ),
            SHELL,
        ),
    ]
}

_VALIDATORS = {name: jsonschema.Draft202012Validator(spec.input_schema) for name, spec in SPECS.items()}

# Directories never worth walking for an agent's search and often huge.
_SKIP_DIRS = frozenset({".git"})
# list_dir marks: directories end with '/', symlinks with '@' (not followed); FIFOs,
# sockets and devices are named with their kind and never opened.
_LIST_SUFFIX = {"file": "", "directory": "/", "symlink": "@"}


def cap_text(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, keeping the head and the tail."""
    if len(text) <= limit:
        return text
    half = max(limit // 2, 1)
    omitted = len(text) - 2 * half
    return f"{text[:half]}\n[... {omitted} characters omitted ...]\n{text[-half:]}"


def _is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def _expand_braces(pattern: str) -> list[str]:
    """'*.{py,js}' -> ['*.py', '*.js'] (innermost-first, no escaping)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    out: list[str] = []
    for alternative in match.group(1).split(","):
        out.extend(_expand_braces(head + alternative + tail))
    return out


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if segment[j : j + 1] == "!":
                j += 1
            if segment[j : j + 1] == "]":  # a leading ']' is a literal member
                j += 1
            end = segment.find("]", j)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = segment[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^/" + body[1:]  # a negated class still stays within one name
                elif body.startswith("^"):
                    body = "\\" + body
                out.append("[" + body + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob over '/'-separated relative paths ('**' spans directories)."""
    alternatives = []
    for expanded in _expand_braces(pattern):
        parts = [p for p in expanded.split("/") if p not in ("", ".")]
        regex = ""
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "**":
                regex += ".*" if last else "(?:.*/)?"
            else:
                regex += _segment_regex(part) + ("" if last else "/")
        alternatives.append(regex)
    return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.DOTALL)


SHELL_ENV_VAR = "WF_SHELL_ENV"  # comma-separated extra variable names the user passes through
_SHELL_PASS = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")
_HELPER = str(Path(__file__).with_name("shell_helper.py"))


def shell_env(home: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The shell's whole environment: an allow-list, never a copy of ours. The shell's
    output goes back to the model and into the journal, so nothing secret may be in it;
    ANTHROPIC_* names are never passed, even when listed in WF_SHELL_ENV."""
    source = os.environ if environ is None else environ
    env = {k: source[k] for k in _SHELL_PASS if k in source}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    extra = [n.strip() for n in source.get(SHELL_ENV_VAR, "").split(",") if n.strip()]
    for name in extra:
        if name in source and not name.upper().startswith("ANTHROPIC_"):
            env[name] = source[name]
    env["HOME"] = home
    env["TERM"] = "dumb"
    return env


class Toolbox:
    """The tools of one agent run over one workspace, with the run's permissions."""

    def __init__(
        self, workspace: Path, permissions: Iterable[str] = (), limits: ToolLimits | None = None
    ) -> None:
        self.fs = Workspace(Path(workspace))
        self.root = self.fs.root
        self.permissions = frozenset(permissions)
        self.limits = limits or ToolLimits()
        self._home: str | None = None  # the shell's HOME, made on first use
        self._handlers: dict[str, Callable[[dict[str, Any]], str]] = {
            "read_file": self._read_file,
            "list_dir": self._list_dir,
            "glob": self._glob,
            "grep": self._grep,
            "write_file": self._write_file,
            "edit_file": self._edit_file,
        }

    # --- what the model is offered -------------------------------------------------------

    def granted(self, name: str) -> bool:
        spec = SPECS.get(name)
        return spec is not None and (spec.permission is None or spec.permission in self.permissions)

    def available(self) -> list[ToolSpec]:
        return [spec for spec in SPECS.values() if self.granted(spec.name)]

    def definitions(self) -> list[dict[str, Any]]:
        return [spec.definition() for spec in self.available()]

    # --- calling -------------------------------------------------------------------------

    async def call(self, name: str, args: object) -> ToolResult:
        """Run tool `name`; every failure comes back as an is_error result, never raised."""
        spec = SPECS.get(name)
        if spec is None:
            return ToolResult(f"unknown tool {name!r}", is_error=True)
        if not self.granted(name):
            return ToolResult(
                f"tool {name!r} needs the {spec.permission!r} permission, which this run does not grant",
                is_error=True,
            )
        error = jsonschema.exceptions.best_match(_VALIDATORS[name].iter_errors(args))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "input"
            return ToolResult(f"invalid arguments for {name} at {where}: {error.message}", is_error=True)
        assert isinstance(args, dict)
        try:
            if name == "run_shell":
                result = await self._run_shell(args)
            else:
                self.fs.new_call()
                result = ToolResult(await trio.to_thread.run_sync(self._handlers[name], args))
        except (ToolError, FsError) as exc:
            result = ToolResult(str(exc), is_error=True)
        except Exception as exc:  # a tool bug or an OS error must not kill the agent loop
            result = ToolResult(f"{name} failed: {type(exc).__name__}: {exc}", is_error=True)
        return ToolResult(cap_text(result.content, self.limits.max_output_chars), result.is_error)

    # --- paths: every file access goes through the descriptor-based Workspace ------------

    def close(self) -> None:
        """Release the workspace descriptor and remove the shell's scratch home."""
        self.fs.close()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def _read_file(self, args: dict[str, Any]) -> str:
        raw = args["path"]
        _, data = self.fs.read(raw, self.limits.max_read_bytes)
        if _is_binary(data):
            raise ToolError(f"{raw!r} looks like a binary file")
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        offset = args.get("offset", 1)
        limit = args.get("limit")
        end = len(lines) if limit is None else min(len(lines), offset - 1 + limit)
        text = "".join(lines[offset - 1 : end])
        budget = self.limits.max_output_chars - 200
        if len(text) > budget:
            # Cut at a line boundary and tell the model how to page on.
            kept, used = offset - 1, 0
            while kept < end and used + len(lines[kept]) <= budget:
                used += len(lines[kept])
                kept += 1
            text = "".join(lines[offset - 1 : kept])
            end = kept
        if offset != 1 or end != len(lines):
            text += f"\n[lines {offset}-{end} of {len(lines)}; pass offset/limit to read more]"
        return text

    def _list_dir(self, args: dict[str, Any]) -> str:
        entries: list[str] = []
        for name, kind in self.fs.list_dir(args.get("path", ".")):
            suffix = _LIST_SUFFIX.get(kind, f" [{kind}]")
            entries.append(name + suffix)
        if not entries:
            return "(empty directory)"
        more = len(entries) - self.limits.max_entries
        shown = entries[: self.limits.max_entries]
        return "\n".join(shown) + (f"\n[... {more} more entries]" if more > 0 else "")

    def _glob(self, args: dict[str, Any]) -> str:
        pattern: str = args["pattern"]
        if pattern.startswith("/") or ".." in pattern.split("/"):
            raise ToolError("glob patterns are relative to the search path and may not contain '..'")
        regex = glob_regex(pattern)
        found: list[str] = []
        for entry, _fd, _name, _st in self.fs.walk(args.get("path", "."), _SKIP_DIRS, self.limits.max_scan_files):
            if regex.match(entry.rel_base):
                found.append(entry.rel + ("/" if entry.kind == "directory" else ""))
        if not found:
            return "no matches"
        found.sort()
        more = len(found) - self.limits.max_entries
        return "\n".join(found[: self.limits.max_entries]) + (
            f"\n[... {more} more matches]" if more > 0 else ""
        )

    def _grep_files(self, raw: str) -> Iterator[tuple[str, str, bytes | None]]:
        """(path from the root, path from `raw`, content or None when too large) of each
        regular file `raw` names or holds; FIFOs, sockets and devices are never opened."""
        loc = self.fs.locate(raw)
        try:
            if loc.st is None:
                raise ToolError(f"no such file or directory: {raw!r}")
            is_dir = stat.S_ISDIR(loc.st.st_mode)
            if not is_dir:
                data = self.fs.read_at(loc.dir_fd, loc.name, loc.st, raw, self.limits.max_grep_file_bytes)
                yield loc.rel_text, loc.name, data
                return
        finally:
            loc.close()
        for entry, fd, name, st in self.fs.walk(raw, _SKIP_DIRS, self.limits.max_scan_files):
            if entry.kind != "file":
                continue
            try:
                data = self.fs.read_at(fd, name, st, entry.rel, self.limits.max_grep_file_bytes)
            except (FsError, OSError):
                continue  # changed since the listing, unreadable or multiply linked: skipped
            yield entry.rel, entry.rel_base, data

    def _grep(self, args: dict[str, Any]) -> str:
        try:
            regex = re.compile(args["pattern"], re.IGNORECASE if args.get("ignore_case") else 0)
        except re.error as exc:
            raise ToolError(f"invalid regular expression: {exc}") from None
        file_glob = args.get("glob")
        name_filter = glob_regex(file_glob) if file_glob else None
        out: list[str] = []
        total = 0
        for rel, rel_base, data in self._grep_files(args.get("path", ".")):
            if name_filter is not None:
                # Like ripgrep: a glob without '/' matches the file name anywhere.
                subject = rel.rsplit("/", 1)[-1] if "/" not in (file_glob or "") else rel_base
                if not name_filter.match(subject):
                    continue
            if data is None or _is_binary(data):
                continue
            for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if regex.search(line):
                    total += 1
                    if len(out) < self.limits.max_matches:
                        out.append(f"{rel}:{lineno}: {line[: self.limits.max_line_chars]}")
        if not out:
            return "no matches"
        more = total - len(out)
        return "\n".join(out) + (
            f"\n[... {more} more matches; narrow the pattern or path]" if more > 0 else ""
        )

    # --- editing tools ("edit") ------------------------------------------------------------

    def _write_file(self, args: dict[str, Any]) -> str:
        rel = self.fs.write(args["path"], args["content"].encode("utf-8", errors="surrogatepass"))
        return f"wrote {len(args['content'].encode('utf-8', errors='surrogatepass'))} bytes to {rel}"

    def _edit_file(self, args: dict[str, Any]) -> str:
        raw, old, new = args["path"], args["old_string"], args["new_string"]
        if old == "":
            raise ToolError("old_string is empty; use write_file to create a file")
        if old == new:
            raise ToolError("old_string and new_string are the same")
        try:
            rel, data = self.fs.read(raw, self.limits.max_read_bytes)
        except FsError as exc:
            if str(exc).startswith("no such file"):
                raise ToolError(f"no such file: {raw!r}") from None
            raise
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{raw!r} is not UTF-8 text; edit_file cannot change it") from None
        count = text.count(old)
        if count == 0:
            raise ToolError(f"old_string not found in {raw!r}")
        if count > 1 and not args.get("replace_all"):
            raise ToolError(
                f"old_string occurs {count} times in {raw!r}; include more context or set replace_all"
            )
        self.fs.write(raw, text.replace(old, new).encode("utf-8", errors="surrogatepass"))
        return f"replaced {count if args.get('replace_all') else 1} occurrence(s) in {rel}"

    # --- shell ("shell") -------------------------------------------------------------------

    async def _run_shell(self, args: dict[str, Any]) -> ToolResult:
        timeout = min(float(args.get("timeout") or self.limits.shell_timeout), self.limits.max_shell_timeout)
        keep = max((self.limits.max_output_chars - 300) // 2, 1)  # leaves room for the header
        head, tail = bytearray(), bytearray()
        total = 0
        if self._home is None:
            self._home = tempfile.mkdtemp(prefix="wf-shell-home-")
        proc = await trio.lowlevel.open_process(
            _shell_argv(args["command"]),
            cwd=self.root,
            env=shell_env(self._home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # away from our terminal's signals; a group to kill as a last resort
        )
        assert proc.stdout is not None
        timed_out = False
        try:
            with trio.move_on_after(timeout) as scope:
                while chunk := await proc.stdout.receive_some(65536):
                    total += len(chunk)
                    room = keep - len(head)
                    head += chunk[:room] if room > 0 else b""
                    if room < len(chunk):
                        tail += chunk[max(room, 0) :]
                        del tail[:-keep]
                await proc.wait()
            timed_out = scope.cancelled_caught
        finally:
            with trio.CancelScope(shield=True):
                if timed_out or proc.returncode is None:
                    await _end_helper(proc)
                await proc.wait()
                await proc.stdout.aclose()
        output = head.decode("utf-8", errors="replace")
        if tail:
            omitted = total - len(head) - len(tail)
            if omitted > 0:
                output += f"\n[... {omitted} bytes omitted ...]\n"
            output += tail.decode("utf-8", errors="replace")
        if timed_out:
            return ToolResult(f"command timed out after {timeout:g}s and was killed\n{output}", is_error=True)
        return ToolResult(f"exit code: {proc.returncode}\n{output}")


def _shell_argv(command: str) -> list[str]:
    """The helper (see shell_helper.py) between us and the command; a bare /bin/sh only
    where this Python cannot start itself again (an embedded interpreter)."""
    if sys.executable and os.path.exists(_HELPER):
        # -I -S: the helper ignores PYTHON* variables and site packages, imports nothing of ours.
        return [sys.executable, "-I", "-S", _HELPER, str(os.getpid()), command]
    return ["/bin/sh", "-c", command]


async def _end_helper(proc: trio.Process) -> None:
    """Stop a command at its timeout (or our cancellation): SIGTERM asks the helper to kill
    every descendant and reap them; if it does not finish soon, kill its process group."""
    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return
    with trio.move_on_after(5.0):
        await proc.wait()
        return
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
