"""`wf graph`: a drawing of a workflow, with the checker's proven agent counts on it.

Phases become groups (Mermaid subgraphs, Graphviz clusters). Every construct that starts
agents (agent, check, fanout, for, review, vote, tournament, repeat, fix, run) is a node
labelled with its kind, its line and its worst-case number of agents over the whole run;
a construct nested in another is linked to it by a dashed "body" edge. Data flow is drawn
as solid edges: a construct that reads a variable gets an edge from the construct that
assigned it (through any pure data steps in between), and inputs and constants are source
nodes.

The counts come from the checker itself. Its terms give one count per top-level
statement; for nested constructs, `_Counter` watches the same checker through its public
observer seam (`wflang/dsl/observe.py`) and records, for each construct, its own cost
times the repetitions of every construct around it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from wflang import exits
from wflang.dsl import ast
from wflang.dsl.checker import check_program
from wflang.dsl.loader import Loaded, load
from wflang.dsl.observe import CheckObserver
from wflang.dsl.sizes import ONE, Const, Step, Sym

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = exits.OK, exits.ERRORS, exits.USAGE
FORMATS = ("mermaid", "dot", "svg")

CONSTRUCTS = (ast.Agent, ast.Check, ast.Fanout, ast.Review, ast.Vote, ast.Tournament, ast.Repeat,
              ast.Fix, ast.RunWorkflow)
_WITH_BODY = ("fanout", "for", "review", "vote", "tournament", "repeat", "fix")


def kind_of(node: ast.Node) -> str:
    """The construct's keyword, as written in the source."""
    if isinstance(node, ast.Fanout):
        return "for" if node.sequential else "fanout"
    if isinstance(node, ast.RunWorkflow):
        return "run"
    return type(node).__name__.lower()


# ---------------------------------------------------------------- per-construct counts


@dataclass
class _Rounds:
    """The rounds of a `repeat`/`fix` body. The checker walks such a body once (every
    round costs the same: K × A) or once per round when list sizes grow (unrolled, round r
    counted only when K reaches r); `runs` says which it did."""

    k: Sym
    runs: int = 0

    def factor(self, r: int) -> Sym:
        if self.runs <= 1:
            return self.k
        return ONE if isinstance(self.k, Const) else Step(self.k, r)


@dataclass
class _RoundRef:
    rounds: _Rounds
    r: int = 0


# A repetition factor: a size, or round r of a loop (resolved once the checker is done).
_Factor = Sym | tuple[_Rounds, int]


class _Counter(CheckObserver):
    """Watches the checker (its public observer seam, wflang/dsl/observe.py) and records,
    for every construct, its own cost and the repetitions of every body around it."""

    def __init__(self) -> None:
        self.factors: list[Sym | _RoundRef] = []
        self.costs: dict[ast.Node, list[tuple[Sym, tuple[_Factor, ...]]]] = {}

    def repeated(self, times: Sym) -> None:
        self.factors.append(times)

    def rounds(self, k: Sym) -> None:
        self.factors.append(_RoundRef(_Rounds(k)))

    def round(self, r: int) -> None:
        ref = self.factors[-1]
        assert isinstance(ref, _RoundRef)
        ref.rounds.runs = max(ref.rounds.runs, r)
        ref.r = r

    def done(self) -> None:
        self.factors.pop()

    def construct(self, e: ast.Expr, agents: Sym) -> None:
        snapshot = tuple((f.rounds, f.r) if isinstance(f, _RoundRef) else f for f in self.factors)
        self.costs.setdefault(e, []).append((agents, snapshot))

    def total(self, node: ast.Node, env: dict[str, int]) -> int:
        out = 0
        for agents, factors in self.costs.get(node, []):
            n = agents.eval(env)
            for f in factors:
                n *= f[0].factor(f[1]).eval(env) if isinstance(f, tuple) else f.eval(env)
            out += n
        return out


def construct_counts(loaded: Loaded, sizes: dict[str, int] | None = None) -> dict[ast.Node, int]:
    """Worst-case agents of every agent-starting construct of a checked program, over the
    whole run (a nested agent counts every time its enclosing loops run it)."""
    assert loaded.ok and loaded.result is not None and loaded.result.bound is not None
    counter = _Counter()
    check_program(loaded.program, observer=counter)
    env = {**loaded.result.bound.worst_env, **(sizes or {})}
    return {node: counter.total(node, env) for node in counter.costs}


# ---------------------------------------------------------------- the graph


@dataclass
class Node:
    id: str
    kind: str  # a construct keyword, or "input", "const", "return"
    title: str
    line: int
    agents: int | None = None  # worst case, for constructs
    phase: str | None = None
    parent: str | None = None  # the enclosing construct's node id


@dataclass
class Edge:
    src: str
    dst: str
    label: str = ""
    body: bool = False  # construct -> a construct in its body


@dataclass
class Graph:
    name: str
    file: str
    total: int
    phases: list[tuple[str, int]]
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def constructs(self) -> list[Node]:
        return [n for n in self.nodes if n.agents is not None]


def build_graph(loaded: Loaded) -> Graph:
    assert loaded.ok and loaded.result is not None and loaded.result.bound is not None
    bound = loaded.result.bound
    g = Graph(loaded.program.header.name, loaded.path, bound.total, bound.phases())
    _Flow(loaded.program, g, construct_counts(loaded)).run()
    return g


# A data source: a construct's node id, or a not-yet-drawn input/constant ("input:files").
_Sources = frozenset[str]


class _Flow:
    """Walks the program once (loop bodies twice, for values carried across rounds),
    creating a node per construct and edges from what each construct reads."""

    def __init__(self, program: ast.Program, g: Graph, counts: dict[ast.Node, int]) -> None:
        self.p = program
        self.g = g
        self.counts = counts
        self.ids: dict[ast.Node, str] = {}
        self.edges: dict[tuple[str, str, bool], list[str]] = {}
        self.lazy: dict[str, Node] = {}
        self.parents: dict[str, str | None] = {}

    def run(self) -> None:
        env: dict[str, _Sources] = {}
        for d in self.p.inputs:
            env[d.name] = frozenset({f"input:{d.name}"})
            self.lazy[f"input:{d.name}"] = Node(f"in_{d.name}", "input",
                                                f"input {d.name}: {_text(self.p, d.type)}", d.span.line)
        for c in self.p.consts:
            name = c.targets[0]
            env[name] = frozenset({f"const:{name}"})
            self.lazy[f"const:{name}"] = Node(f"const_{name}", "const", name, c.span.line)
        for s in self.p.body:
            if isinstance(s, ast.Phase):
                self.block(s.body, env, s.title, None)
            else:
                self.stmt(s, env, None, None)
        self.finish()

    def finish(self) -> None:
        used = {src for (src, _, _) in self.edges}
        drawn = [n for key, n in self.lazy.items() if key in used]
        self.g.nodes[:0] = drawn  # sources first: they read best at the top
        for (src, dst, body), names in self.edges.items():
            real = self.lazy[src].id if src in self.lazy else src
            self.g.edges.append(Edge(real, dst, ", ".join(names), body))

    # ------------------------------------------------------------ statements

    def block(self, stmts: list[ast.Stmt], env: dict[str, _Sources], phase: str | None,
              parent: str | None) -> None:
        for s in stmts:
            self.stmt(s, env, phase, parent)

    def stmt(self, s: ast.Stmt, env: dict[str, _Sources], phase: str | None, parent: str | None) -> None:
        if isinstance(s, ast.Assign):
            srcs = self.value(s.value, env, phase, parent)
            for t in s.targets:
                env[t] = srcs
        elif isinstance(s, ast.ExprStmt):
            self.value(s.value, env, phase, parent)
        elif isinstance(s, ast.If):
            then_env, else_env = dict(env), dict(env)
            self.block(s.then, then_env, phase, parent)
            self.block(s.orelse, else_env, phase, parent)
            for name in set(then_env) | set(else_env):
                env[name] = then_env.get(name, frozenset()) | else_env.get(name, frozenset())
        elif isinstance(s, ast.Phase):  # a phase in a top-level `if`
            self.block(s.body, env, s.title, parent)
        elif isinstance(s, ast.Return):
            # the first `return` is `ret`; early ones (in an `if`) are `ret2`, `ret3`, ...
            n = sum(1 for x in self.g.nodes if x.kind == "return")
            ret = "ret" if n == 0 else f"ret{n + 1}"
            self.g.nodes.append(Node(ret, "return", "return", s.span.line, phase=phase, parent=parent))
            if isinstance(s.value, CONSTRUCTS):
                self.edge(self.construct(s.value, env, phase, parent), ret, "")
                return
            for name in sorted(reads(s.value)):
                for src in sorted(env.get(name, frozenset())):
                    self.edge(src, ret, name)
        elif isinstance(s, ast.Fail):
            # where the run can end as failed: a node, fed by what its message reads
            node_id = f"fail{sum(1 for x in self.g.nodes if x.kind == 'fail') + 1}"
            self.g.nodes.append(Node(node_id, "fail", f"fail {_text(self.p, s.message, 30)}", s.span.line,
                                     phase=phase, parent=parent))
            self.parents[node_id] = parent
            if parent is not None:
                self.edge(parent, node_id, "", body=True)
            for name in sorted(reads(s.message)):
                for src in sorted(env.get(name, frozenset())):
                    self.edge(src, node_id, name)

    def value(self, e: ast.Expr, env: dict[str, _Sources], phase: str | None,
              parent: str | None) -> _Sources:
        """The sources of a statement's value; draws the construct if it is one."""
        if not isinstance(e, CONSTRUCTS):
            return _sources(reads(e), env)
        node_id = self.construct(e, env, phase, parent)
        return frozenset({node_id})

    def construct(self, e: ast.Expr, env: dict[str, _Sources], phase: str | None,
                  parent: str | None) -> str:
        node_id = self.ids.get(e)
        if node_id is None:
            node_id = self.ids[e] = f"n{len(self.ids) + 1}"
            where = _phase_option(e) or phase
            self.g.nodes.append(Node(node_id, kind_of(e), title(self.p, e), e.span.line,
                                     self.counts.get(e, 0), where, parent))
            self.parents[node_id] = parent
            if parent is not None:
                self.edge(parent, node_id, "", body=True)
        for name in sorted(header_reads(e)):
            for src in sorted(env.get(name, frozenset())):  # sorted: the same drawing in every process
                self.edge(src, node_id, name)
        self.body(e, env, phase, node_id)
        return node_id

    def body(self, e: ast.Expr, env: dict[str, _Sources], phase: str | None, node_id: str) -> None:
        me = frozenset({node_id})
        if isinstance(e, ast.Fanout):
            inner = {**env, e.var: me}
            if e.index_var:
                inner[e.index_var] = me
            self.block(e.body, inner, phase, node_id)
        elif isinstance(e, ast.Review):
            inner = {**env, e.var: me}
            if e.lens_var:
                inner[e.lens_var] = me
            self.block(e.body, inner, phase, node_id)
        elif isinstance(e, ast.Vote):
            self.block(e.body, dict(env), phase, node_id)
        elif isinstance(e, ast.Tournament):
            self.block(e.body, {**env, e.a: me, e.b: me}, phase, node_id)
        elif isinstance(e, (ast.Repeat, ast.Fix)):
            if isinstance(e, ast.Repeat) and e.var:
                env[e.var] = me
            # Twice: a value assigned late in a round is read early in the next one.
            for _ in range(2):
                self.block(e.body, env, phase, node_id)
                if isinstance(e, ast.Fix):
                    self.construct(e.check, env, phase, node_id)

    def edge(self, src: str, dst: str, label: str, body: bool = False) -> None:
        if src == dst:
            return  # a loop reading its own earlier rounds: the body edges already say so
        if not body and self.encloses(src, dst):
            return  # a loop variable read inside the loop: the body edges already say so
        names = self.edges.setdefault((src, dst, body), [])
        if label and label not in names:
            names.append(label)

    def encloses(self, outer: str, inner: str) -> bool:
        parent = self.parents.get(inner)
        while parent is not None:
            if parent == outer:
                return True
            parent = self.parents.get(parent)
        return False


def _sources(names: set[str], env: dict[str, _Sources]) -> _Sources:
    out: set[str] = set()
    for n in names:
        out |= env.get(n, frozenset())
    return frozenset(out)


def _phase_option(e: ast.Expr) -> str | None:
    """`with phase="Verify"`: the agent shows under that phase."""
    for o in getattr(e, "options", []):
        if o.name == "phase" and isinstance(o.value, ast.StrLit) and o.value.is_plain:
            return o.value.text
    return None


# ---------------------------------------------------------------- what an expression reads


def reads(e: ast.Node | None, bound: frozenset[str] = frozenset()) -> set[str]:
    """The free variable names an expression reads (comprehension and lambda variables
    are bound inside it, not read)."""
    if e is None:
        return set()
    if isinstance(e, ast.Name):
        return set() if e.id in bound else {e.id}
    if isinstance(e, ast.ListComp):
        out: set[str] = set()
        inner = set(bound)
        for c in e.clauses:
            if isinstance(c, ast.CompFor):
                out |= reads(c.iter, frozenset(inner))
                inner.add(c.var)
                if c.index_var:
                    inner.add(c.index_var)
            else:
                out |= reads(c.cond, frozenset(inner))
        return out | reads(e.elt, frozenset(inner))
    if isinstance(e, ast.Lambda):
        return reads(e.body, bound | set(e.params))
    out = set()
    for child in _children(e):
        out |= reads(child, bound)
    return out


def _children(node: ast.Node) -> Iterator[ast.Node]:
    for name in node.__dataclass_fields__:
        if name in ("span", "program"):
            continue
        value = getattr(node, name)
        items = value if isinstance(value, list) else [value]
        for v in items:
            if isinstance(v, ast.Node):
                yield v
            elif isinstance(v, tuple):  # DictLit entries: (key, value)
                yield from (x for x in v if isinstance(x, ast.Node))


def header_reads(e: ast.Expr) -> set[str]:
    """What a construct reads itself, outside its body: the prompt and options of an
    agent, the collection and counts of a loop, the arguments of a `run`."""
    parts: list[ast.Node | None]
    if isinstance(e, (ast.Agent, ast.Check)):
        parts = [e.prompt, *e.options]
    elif isinstance(e, ast.Fanout):
        parts = [e.iter, *e.options]
    elif isinstance(e, ast.Review):
        parts = [e.iter, e.count, e.lenses, e.keep]
    elif isinstance(e, ast.Vote):
        parts = [e.count, e.quorum]
    elif isinstance(e, ast.Tournament):
        parts = [e.iter]
    elif isinstance(e, ast.Repeat):
        parts = [e.max]
    elif isinstance(e, ast.Fix):
        parts = [e.max, e.stall]
    elif isinstance(e, ast.RunWorkflow):
        parts = [e.args]
    else:
        parts = []
    out: set[str] = set()
    for p in parts:
        out |= reads(p)
    return out


# ---------------------------------------------------------------- node titles


def _text(p: ast.Program, node: ast.Node, limit: int = 40) -> str:
    """The source of a node on one line, shortened."""
    s = node.span
    if s.line == 0:
        return ""
    lines = p.source.splitlines()[s.line - 1:s.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        text = lines[0][s.col - 1:s.end_col - 1]
    else:
        text = " ".join([lines[0][s.col - 1:], *lines[1:-1], lines[-1][:s.end_col - 1]])
    return _shorten(" ".join(text.split()), limit)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _prompt_text(e: ast.Expr, limit: int = 36) -> str:
    """A prompt's opening words, with interpolations shown as `{…}`."""
    if isinstance(e, ast.StrLit):
        raw = "".join(p if isinstance(p, str) else "{…}" for p in e.parts)
        return '"' + _shorten(" ".join(raw.split()), limit) + '"'
    return "(prompt)"


def title(p: ast.Program, e: ast.Expr) -> str:
    if isinstance(e, (ast.Agent, ast.Check)):
        label = next((o.value for o in e.options if o.name == "label"), None)
        shown = _text(p, label) if label is not None else _prompt_text(e.prompt)
        if isinstance(e, ast.Check):
            return f"check {shown}"
        result = _text(p, e.result, 30) if e.result is not None else "text"
        return f"agent {shown} → {result}"
    if isinstance(e, ast.Fanout):
        if e.index_var:
            return f"{kind_of(e)} {e.index_var}, {e.var} in enumerate({_text(p, e.iter)})"
        return f"{kind_of(e)} {e.var} in {_text(p, e.iter)}"
    if isinstance(e, ast.Review):
        by = f"{e.lens_var} in {_text(p, e.lenses)}" if e.lenses is not None else _text(p, e.count)
        keep = " keep if all" if e.keep_all else (f" keep if {_text(p, e.keep)}" if e.keep is not None else "")
        return f"review {e.var} in {_text(p, e.iter)} by {by}{keep}"
    if isinstance(e, ast.Vote):
        quorum = f" quorum {_text(p, e.quorum)}" if e.quorum is not None else ""
        return f"vote {_text(p, e.count)}{quorum}"
    if isinstance(e, ast.Tournament):
        return f"tournament {e.a} vs {e.b} in {_text(p, e.iter)}"
    if isinstance(e, ast.Repeat):
        return f"repeat max {_text(p, e.max)}" + (f" as {e.var}" if e.var else "")
    if isinstance(e, ast.Fix):
        stall = f" stall {_text(p, e.stall)}" if e.stall is not None else ""
        return f"fix max {_text(p, e.max)}{stall}"
    if isinstance(e, ast.RunWorkflow):
        return f'run "{e.path}"'
    return kind_of(e)


def agents_text(n: int) -> str:
    return f"{n} agent" if n == 1 else f"{n} agents"


def node_caption(n: Node) -> tuple[str, str]:
    """Two lines: what the node is, and where it is with its proven count."""
    if n.agents is None:
        return n.title, f"line {n.line}"
    return n.title, f"line {n.line} · {agents_text(n.agents)}"


def phase_caption(title_: str, agents: int) -> str:
    return f"{title_} · {agents_text(agents)}" if agents else title_


# ---------------------------------------------------------------- Mermaid


def _mermaid_escape(text: str) -> str:
    # Entity codes keep quotes, angle brackets and backticks from ending or styling a label.
    for ch, code in (("#", "#35;"), ("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;"),
                     ("|", "#124;")):
        text = text.replace(ch, code)
    return text


def _mermaid_node(n: Node) -> str:
    first, second = node_caption(n)
    label = f'"{_mermaid_escape(first)}<br/>{_mermaid_escape(second)}"'
    if n.kind in ("input", "const"):
        return f"{n.id}[/{label}/]"
    if n.kind == "return":
        return f"{n.id}([{label}])"
    if n.kind == "fail":
        return f"{n.id}>{label}]"
    if n.kind == "run":
        return f"{n.id}{{{{{label}}}}}"
    if n.kind in _WITH_BODY:
        return f"{n.id}[[{label}]]"
    return f"{n.id}[{label}]"


def _phase_groups(g: Graph) -> Iterator[tuple[int, str, list[Node]]]:
    """(number, caption, nodes) of each phase drawn as a group (an empty top level is not)."""
    for i, (ptitle, agents) in enumerate(g.phases, 1):
        members = [n for n in g.nodes if n.phase == ptitle]
        if ptitle != "(top level)" or members:
            yield i, phase_caption(ptitle, agents), members


def to_mermaid(g: Graph) -> str:
    out = ["flowchart TD", f"    %% {g.name}: worst case {agents_text(g.total)}"]
    out.extend(f"    {_mermaid_node(n)}" for n in g.nodes if n.phase is None)
    for i, caption, members in _phase_groups(g):
        out.append(f'    subgraph phase{i}["{_mermaid_escape(caption)}"]')
        out.extend(f"        {_mermaid_node(n)}" for n in members)
        out.append("    end")
    for e in g.edges:
        if e.body:
            out.append(f"    {e.src} -.-> {e.dst}")
        elif e.label:
            out.append(f"    {e.src} -->|{_mermaid_escape(e.label)}| {e.dst}")
        else:
            out.append(f"    {e.src} --> {e.dst}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- Graphviz dot


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_DOT_SHAPES = {"input": "parallelogram", "const": "parallelogram", "return": "oval", "run": "hexagon",
               "fail": "octagon"}


def _dot_node(n: Node) -> str:
    first, second = node_caption(n)
    shape = _DOT_SHAPES.get(n.kind, "box3d" if n.kind in _WITH_BODY else "box")
    style = ', style="rounded"' if shape == "box" else ""
    return f"{n.id} [label={_dot_quote(first + chr(10) + second)}, shape={shape}{style}];"


def to_dot(g: Graph) -> str:
    out = [f"digraph {_dot_quote(g.name)} {{",
           f"    label={_dot_quote(f'{g.name}: worst case {agents_text(g.total)}')};",
           "    labelloc=t;",
           '    node [fontname="Helvetica", fontsize=11];',
           '    edge [fontname="Helvetica", fontsize=10];']
    out.extend(f"    {_dot_node(n)}" for n in g.nodes if n.phase is None)
    for i, caption, members in _phase_groups(g):
        out.append(f"    subgraph cluster_{i} {{")
        out.append(f"        label={_dot_quote(caption)};")
        out.append('        style="rounded,dashed";')
        out.extend(f"        {_dot_node(n)}" for n in members)
        out.append("    }")
    # Inputs and constants on the top row, the result at the bottom: the flow reads downwards.
    sources = " ".join(f"{n.id};" for n in g.nodes if n.kind in ("input", "const"))
    if sources:
        out.append(f"    {{ rank=source; {sources} }}")
    rets = " ".join(f"{n.id};" for n in g.nodes if n.kind == "return")
    if rets:
        out.append(f"    {{ rank=sink; {rets} }}")
    for e in g.edges:
        attrs = "style=dashed, arrowhead=empty" if e.body else (f"label={_dot_quote(e.label)}" if e.label else "")
        out.append(f"    {e.src} -> {e.dst}" + (f" [{attrs}];" if attrs else ";"))
    out.append("}")
    return "\n".join(out) + "\n"


class GraphvizMissing(Exception):
    pass


def to_svg(dot_text: str) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing("--format svg needs Graphviz's `dot`, which is not installed. "
                              "Install it (`apt-get install graphviz`, `brew install graphviz`) "
                              "or use --format mermaid (the default) or --format dot.")
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GraphvizMissing(f"Graphviz `dot` could not run: {e}") from e
    if done.returncode != 0:
        raise GraphvizMissing(f"Graphviz `dot` failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


# ---------------------------------------------------------------- the command


def render(loaded: Loaded, fmt: str) -> str:
    g = build_graph(loaded)
    if fmt == "mermaid":
        return to_mermaid(g)
    if fmt == "dot":
        return to_dot(g)
    return to_svg(to_dot(g))


def graph_command(file: str, fmt: str, out: str | None, stdout: TextIO, stderr: TextIO) -> int:
    from wflang.dsl.report import human

    if fmt not in FORMATS:
        print(f"error: unknown format {fmt!r} (formats: {', '.join(FORMATS)})", file=stderr)
        return EXIT_USAGE
    loaded = load(file)
    if not loaded.ok:
        from wflang.color import paint

        print(paint(human(loaded), stderr), file=stderr)
        return EXIT_USAGE if any(d.code == "WF001" for d in loaded.diagnostics) else EXIT_ERRORS
    try:
        text = render(loaded, fmt)
    except GraphvizMissing as e:
        print(f"error: {e}", file=stderr)
        return EXIT_ERRORS
    if out is None:
        stdout.write(text)
        return EXIT_OK
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as e:
        print(f"error: cannot write {out}: {e.strerror or e}", file=stderr)
        return EXIT_USAGE
    print(f"wrote {out}", file=stderr)
    return EXIT_OK

