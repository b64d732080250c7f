"""Agent labels, derived from the checked tree, that both back ends use word for word.

A label is what Claude Code shows for an agent in `/workflows` (and what fake-answer
rules match). It names the agent by what it is, never by where it is in the file, so it
reads well and survives edits that move lines:

    <site> · <loop part> · <loop part> ...          confirmed · finding 3 · reviewer 2

- the **site** is the name the agent's value is assigned to (`found = agent ...`; an agent
  that is the body of `reports = fanout ...` is `reports`), `result` under `return`,
  else `agent` / `check`; a second site whose whole label would read the same (same name,
  same loop parts) is `name 2`, and so on, in source order. A `run` child's agents are prefixed with the child's
  workflow name (`summarise · summary`).
- a **loop part** per enclosing construct, outermost first, 1-based: a fan-out or `for`
  item `<noun> i` (the noun is the collection's name made singular: `files` → `file`;
  the loop variable when the collection has no name), a review `<noun> i · reviewer k`
  (`by lens in LENSES`: `lens k`), a vote `voter k`, a tournament `match m`, a repeat
  `round r`, a fix `attempt k` for the body and `check k` for the check after attempt k
  (`check 0` first).

An explicit `label=` is used with white space normalized as Claude Code shows it
(`normalize`), with ` · reviewer k` / ` · voter k` appended for
the copies of a review or vote. docs/semantics.md is the contract; this module is the
one implementation of its static half.
"""

from __future__ import annotations

import re
from collections import Counter

from wflang.dsl import ast

SEP = " · "

# JavaScript's `\s` (WhiteSpace and LineTerminator), spelled out so that Python reads the
# same set: Claude Code shows `String(label).replace(/\s+/g, " ").trim()`.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_SPACES = re.compile(f"[{_JS_SPACE}]+")
# the same, as JavaScript source, for the emitter
JS_NORMALIZE = ".replace(/\\s+/g, ' ').trim()"


def normalize(label: str) -> str:
    """An explicit label as Claude Code shows it: each run of white space one space, none
    at either end. Both targets apply it, so fake rules and journals match word for word."""
    return _JS_SPACES.sub(" ", label).strip(" ")


def singular(name: str) -> str:
    """`files` → `file`, `entries` → `entry`, `classes` → `class`; lower case; `status`,
    `analysis` and `glass` stay."""
    w = name.lower()
    if len(w) > 3 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return w[:-2]
    if len(w) > 1 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def item_noun(collection: ast.Expr | None, var: str) -> str:
    """What one item of a loop is called in a label."""
    name = None
    if isinstance(collection, ast.Name):
        name = collection.id
    elif isinstance(collection, ast.Field):
        name = collection.name
    if name is None:
        return var
    if len(var) >= 3 and name.lower().startswith(var.lower()):  # `lens in LENSES`, `doc in docs`
        return var.lower()
    return singular(name)


def review_copy_noun(e: ast.Review) -> str:
    return item_noun(e.lenses, e.lens_var) if e.lens_var is not None else "reviewer"


def site_names(program: ast.Program) -> dict[int, str]:
    """id(agent or check node) -> its site name, for every agent written in `program`
    (not in the workflows it runs: those have their own). Two sites are told apart by a
    number only when their whole labels would read alike (same name, same loop parts)."""
    found: list[tuple[ast.Expr, str, tuple[str, ...]]] = []

    def stmts(body: list[ast.Stmt], target: str | None, shape: tuple[str, ...]) -> None:
        for s in body:
            if isinstance(s, ast.Assign):
                expr(s.value, s.targets[0], shape)
            elif isinstance(s, ast.ExprStmt):
                expr(s.value, target, shape)
            elif isinstance(s, ast.Return):
                expr(s.value, "result", shape)
            elif isinstance(s, ast.If):
                stmts(s.then, target, shape)
                stmts(s.orelse, target, shape)
            elif isinstance(s, ast.Phase):
                stmts(s.body, None, shape)

    def expr(e: ast.Expr, target: str | None, shape: tuple[str, ...]) -> None:
        if isinstance(e, (ast.Agent, ast.Check)):
            found.append((e, target or ("check" if isinstance(e, ast.Check) else "agent"), shape))
        elif isinstance(e, ast.Fanout):
            stmts(e.body, target, shape + (item_noun(e.iter, e.var),))
        elif isinstance(e, ast.Review):
            stmts(e.body, target, shape + (item_noun(e.iter, e.var), review_copy_noun(e)))
        elif isinstance(e, ast.Vote):
            stmts(e.body, target, shape + ("voter",))
        elif isinstance(e, ast.Tournament):
            stmts(e.body, target, shape + ("match",))
        elif isinstance(e, ast.Repeat):
            stmts(e.body, target, shape + ("round",))
        elif isinstance(e, ast.Fix):
            stmts(e.body, target, shape + ("attempt",))
            expr(e.check, target, shape + ("check",))

    stmts(program.consts + program.body, None, ())
    seen: Counter[tuple[str, tuple[str, ...]]] = Counter()
    out: dict[int, str] = {}
    for node, name, shape in found:
        seen[name, shape] += 1
        n = seen[name, shape]
        out[id(node)] = name if n == 1 else f"{name} {n}"
    return out


def site_name(program: ast.Program, node: ast.Expr) -> str:
    """The site name of one agent (memoised on the program)."""
    table = program.__dict__.get("_label_sites")
    if table is None:
        table = program.__dict__["_label_sites"] = site_names(program)
    return table.get(id(node), "agent")
