"""Reading a `.wf` file from disk: parse it, attach the workflows it `run`s, check it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wflang.dsl import ast
from wflang.dsl.diagnostics import Diagnostic, WfError

if TYPE_CHECKING:  # imported when a load checks: a cached one (`load_cached`) needs neither
    from wflang.dsl.checker import CheckResult
    from wflang.dsl.program_cache import Checked, Dep


@dataclass
class Loaded:
    """A file's text and, when it parsed, its checked program."""

    path: str
    source: str | None
    result: CheckResult | Checked | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok and not any(
            d.severity == "error" for d in self.diagnostics)

    @property
    def program(self) -> ast.Program:
        assert self.result is not None
        return self.result.program


def read_source(path: str) -> tuple[str | None, Diagnostic | None]:
    try:
        with open(path, "rb") as f:  # not pathlib: it costs `wf check` a few percent to import
            data = f.read()
    except FileNotFoundError:
        return None, Diagnostic("WF001", f"no such file: {path}", None, "check the path")
    except IsADirectoryError:
        return None, Diagnostic("WF001", f"{path} is a directory", None, "name a .wf file")
    except OSError as e:
        return None, Diagnostic("WF001", f"cannot read {path}: {e.strerror}", None, "check its permissions")
    except ValueError:  # a NUL character in the path (`run "\x00x.wf"`): no file has that name
        return None, Diagnostic("WF001", f"cannot read {path!r}: a path cannot contain a NUL character", None,
                                "check the path")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return None, Diagnostic("WF002", f"{path} is not UTF-8 text (byte {e.start}, line {line})", None,
                                "save the file as UTF-8")


def parse_file(path: str, source: str, reads: list[Dep] | None = None) -> ast.Program:
    """Parse `source` and every workflow it runs (one level), attached to its `run` nodes;
    what each of those files held goes to `reads` (the program cache's dependencies)."""
    from wflang.dsl.parser import parse

    program = parse(source, path)
    for node in ast.walk(program.body):
        if isinstance(node, ast.RunWorkflow):
            from pathlib import Path  # only for a workflow that runs another

            child_path = Path(path).parent / node.path
            text, problem = read_source(str(child_path))
            if reads is not None:
                from wflang.dsl.program_cache import text_dep

                reads.append(text_dep(str(child_path), text))
            if text is not None:
                try:
                    node.program = parse(text, str(child_path))
                except WfError:
                    node.program = None  # the checker reports "does not check"
    return program


def load(path: str, source: str | None = None, reads: list[Dep] | None = None) -> Loaded:
    """Parse and check from scratch (`wf check`, `wf compile`, `wf graph`): the proof."""
    if source is None:
        source, problem = read_source(path)
        if problem is not None:
            return Loaded(path, None, None, [problem])
    assert source is not None
    try:
        program = parse_file(path, source, reads)
    except WfError as e:
        return Loaded(path, source, None, e.diagnostics)
    from wflang.dsl.checker import check_program

    result = check_program(program)
    return Loaded(path, source, result, list(result.diagnostics) + _agent_type_warnings(program, path))


def load_cached(path: str) -> Loaded:
    """`load`, served from the user's program cache (wflang/dsl/program_cache.py) when the
    same text was checked before and nothing the check read has changed since: a hit
    imports neither the parser nor the checker. `wf run` loads this way."""
    source, problem = read_source(path)
    if problem is not None:
        return Loaded(path, None, None, [problem])
    assert source is not None
    from wflang.dsl import program_cache

    k = program_cache.key(path, source)
    hit = program_cache.lookup(path, source, k)
    if hit is not None:  # the agent-type warnings read folders that may have changed: again
        return Loaded(path, source, hit, list(hit.diagnostics) + _agent_type_warnings(hit.program, path))
    reads: list[Dep] = []
    loaded = load(path, source, reads)
    if loaded.ok and loaded.result is not None:  # only a program that checks
        program_cache.store(path, source, loaded.result, reads, k)
    return loaded


def _agent_type_warnings(program: ast.Program, path: str) -> list[Diagnostic]:
    """Agent types Claude Code would not find, looked up where the workflow is likely to run:
    the current folder and the .wf's own folder (wflang/dsl/agent_types.py)."""
    if not any(isinstance(n, ast.RunWorkflow) or isinstance(n, ast.Option) and n.name == "agent_type"
               for n in ast.walk([program.defaults, program.body])):
        return []  # nothing to look up: `wf check` reads no folder and imports no pathlib
    from pathlib import Path

    from wflang.dsl.agent_types import check_agent_types

    return check_agent_types(program, [Path.cwd(), Path(path).resolve().parent])
