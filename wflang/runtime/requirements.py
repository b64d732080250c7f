"""`require COND, MESSAGE` lines: which do not hold for a run's arguments.

`wf check --args` and `wf run` refuse such arguments before any agent starts, with the
message; the interpreter checks a `run` child's own lines when it starts, and the compiled
script evaluates the same conditions right after reading its arguments (docs/semantics.md
"Arguments").
"""

from __future__ import annotations

from pathlib import Path

from wflang.dsl import ast
from wflang.dsl import values as V
from wflang.dsl.diagnostics import Diagnostic
from wflang.dsl.values import Value
from wflang.runtime.backend import AgentRequest, AgentResult
from wflang.runtime.interpreter import Frame, Interpreter, Scope
from wflang.runtime.scheduler import RunError, Scheduler


def unmet(program: ast.Program, values: dict[str, Value]) -> list[tuple[ast.Require, str]]:
    """The `require` lines that do not hold for these validated arguments (defaults
    applied), with their messages: what `wf check --args` and `wf run` refuse before any
    agent starts. Pure: the constants and conditions start no agent."""
    if not program.requires:
        return []
    interp = Interpreter(program, Scheduler(_NoAgents()))
    info = interp._program_info(program, values, is_child=False)
    frame = Frame(Scope(), info, None)
    frame.scope.vars.update(V.normalize(values))
    for c in program.consts:
        frame.scope.vars[c.targets[0]] = interp.eval(c.value, frame)
    return interp.unmet(program, frame)


class _NoAgents:
    """The backend of a scheduler that evaluates only pure expressions."""

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        raise RunError("a `require` line started an agent")


def diagnostics(program: ast.Program, values: dict[str, Value]) -> list[Diagnostic]:
    """One WF405 per `require` line that does not hold, located at the line; a condition
    that cannot be evaluated is reported the same way, with the run error's words."""
    try:
        failed = unmet(program, values)
    except RunError as exc:
        return [Diagnostic("WF405", f"a `require` line could not be evaluated: {exc}", None,
                           "make the condition work for every argument that fits the inputs")]
    return [Diagnostic("WF405", message, r.span,
                       "these arguments do not meet this `require`; `wf run` and the compiled script "
                       "stop with its message before any agent starts") for r, message in failed]
