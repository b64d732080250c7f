"""The live bound guard's words, shared by both targets.

Both back ends count the agents a run starts and refuse to start one past the bound that
`wf check` proved for the run's arguments (wflang/runtime/scheduler.py; the `guardAgent`
helper of wflang/transpiler/prelude.js). That can only happen through a bug in wflang,
so the message says which agent, where, which proven construct it belongs to, and that
the run is a bug report. `agent_sites` names each agent's place once, from the checked
tree; `GUARD_TEMPLATE` is the sentence, with `{n}`, `{label}`, `{where}` and `{bound}`.
"""

from __future__ import annotations

from wflang.dsl import ast
from wflang.dsl.bounds import Bound

GUARD_TEMPLATE = (
    'the proven bound would be broken: agent {n} ("{label}", {where}) is past the {bound} '
    "agents that wf check proved for these arguments, so the run stops without starting it. "
    "This is a bug in wflang, not in your workflow: please report it with the workflow and its "
    "arguments."
)
_DESC_LIMIT = 100


def guard_message(n: int, label: str, where: str, bound: int) -> str:
    return GUARD_TEMPLATE.format(n=n, label=label, where=where, bound=bound)


def agent_sites(program: ast.Program, bound: Bound | None) -> dict[int, str]:
    """For every agent and check node (by id), including those of `run` children: where
    it is, and the proven construct (a top-level statement's term) that counts it:
    `line 23 in "fanout over files (max 200, line 5) × 1 agent" (line 22)`."""
    terms = {t.line: t for t in bound.terms} if bound is not None else {}
    sites: dict[int, str] = {}
    for top in _top_statements(program):
        term = terms.get(top.span.line)
        construct = ""
        if term is not None:
            desc = term.desc if len(term.desc) <= _DESC_LIMIT else term.desc[: _DESC_LIMIT - 1] + "…"
            construct = f' in "{desc}" (line {term.line})'
        for node, file in _agents(top, program):
            of = f" of {file}" if file else ""
            sites[id(node)] = f"line {node.span.line}{of}{construct}"
    return sites


def _top_statements(program: ast.Program) -> list[ast.Stmt]:
    out: list[ast.Stmt] = []
    for s in program.body:
        out.extend(s.body if isinstance(s, ast.Phase) else [s])
    return out


def _agents(stmt: ast.Stmt, program: ast.Program) -> list[tuple[ast.Node, str]]:
    """The agent nodes a top-level statement runs, with the file of those in a child."""
    out: list[tuple[ast.Node, str]] = []
    for n in ast.walk(stmt):
        if isinstance(n, (ast.Agent, ast.Check)):
            out.append((n, ""))
        elif isinstance(n, ast.RunWorkflow) and n.program is not None:
            name = n.path
            for m in ast.walk([n.program.consts, n.program.body]):
                if isinstance(m, (ast.Agent, ast.Check)):
                    out.append((m, name))
    return out
