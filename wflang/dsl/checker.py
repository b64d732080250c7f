"""Names, types, list maxima and the agent bound of a parsed program.

One pass over the tree, in statement order, with a scope of variable types. List types
carry a symbolic maximum (`sizes.Sym`) through every assignment, builtin and loop; every
agent-starting statement adds a `bounds.Term`. The result says whether the program
compiles and, if it does, its proven worst case.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from wflang.dsl import ast, builtins, functions
from wflang.dsl.arguments import INT_INPUT_MIN, literal_value, type_problem
from wflang.dsl.bounds import AGENT_CAP, ITEM_CAP, Bound, InputSize, Term
from wflang.dsl.diagnostics import Diagnostic, did_you_mean
from wflang.dsl.gcpause import paused
from wflang.dsl.observe import NULL_OBSERVER, CheckObserver
from wflang.dsl.sizes import (
    ONE,
    ZERO,
    Add,
    Const,
    Knob,
    Mul,
    Step,
    Sym,
    Var,
    add,
    monus,
    mul,
    smax,
    smin,
)
from wflang.dsl.span import Span
from wflang.dsl.types import (
    ANY,
    BOOL,
    ERROR,
    FLOAT,
    INT,
    NONE,
    STR,
    KeyFn,
    ListT,
    MapT,
    Opt,
    Prim,
    Ranged,
    Record,
    Type,
    Union,
    assignable,
    is_any,
    is_numeric,
    is_stringy,
    join,
    join_items,
    strip_opt,
    widen,
)

BUILTINS = builtins.NAMES
RESERVED = builtins.RESERVED  # builtin names no input or variable may take
PERMISSIONS = ("edit", "shell")
_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_UNROLL_LIMIT = 200


@dataclass
class Cost:
    """`agents`: the worst case of the paths that go on after this code. A `return` in an
    `if` leaves the workflow early: `exit` is the worst case of the paths that return
    inside it (counted from its start, None when none can), and `ends` says that every
    path returns, so nothing after it runs."""

    agents: Sym
    tokens: Sym | None
    desc: str
    exit: Sym | None = None
    ends: bool = False

    @staticmethod
    def none() -> Cost:
        return Cost(ZERO, ZERO, "no agents")

    def then(self, other: Cost) -> Cost:
        tokens = None if self.tokens is None or other.tokens is None else add(self.tokens, other.tokens)
        # A path returns inside `self`, or goes through `self` and returns inside `other`.
        exits = [x for x in (self.exit, None if other.exit is None else add(self.agents, other.exit)) if x is not None]
        exit_ = smax(*exits) if exits else None
        ends = self.ends or other.ends
        if self.agents == ZERO:
            return Cost(other.agents, tokens, other.desc, exit_, ends)
        if other.agents == ZERO:
            return Cost(self.agents, tokens, self.desc, exit_, ends)
        return Cost(add(self.agents, other.agents), tokens, f"{self.desc} + {other.desc}", exit_, ends)

    @property
    def worst(self) -> Sym:
        """Every path, whether it returns or goes on."""
        return self.agents if self.exit is None else smax(self.agents, self.exit)

    @staticmethod
    def sum(costs: list[Cost]) -> Cost:
        """`costs[0].then(costs[1]).then(...)`, with one `add` over all the terms."""
        agents = [c.agents for c in costs if c.agents != ZERO]
        tokens = None if any(c.tokens is None for c in costs) else add(*(c.tokens for c in costs))
        return Cost(add(*agents) if agents else ZERO, tokens, "")

    def times(self, n: Sym, desc: str) -> Cost:
        tokens = None if self.tokens is None else mul(n, self.tokens)
        return Cost(mul(n, self.agents), tokens, desc)


@dataclass
class CheckResult:
    program: ast.Program
    diagnostics: list[Diagnostic]
    bound: Bound | None
    result: Type = NONE  # the workflow's result: the join of every `return` (and none if it can end without)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


@dataclass
class _Ctx:
    phase: str | None
    loop: str | None = None  # "fanout" (stop when allowed first) | "repeat"
    in_item: bool = False  # inside a fan-out/for body: assignments are local
    outer: bool = False  # the workflow's own level: the top, a phase, an `if` there (no loop, no construct)
    in_if: bool = False  # inside an `if` (at the outer level: `return` there is an early exit)


_MISSING = Prim("missing")  # "not bound": a name's old value in a `_Vars` log


class _Vars(dict):
    """A scope's names, with an undo log while a branch or a loop is being checked: an
    `if` then joins only the names its branches wrote, not every name in scope (which made
    checking quadratic in the length of a program)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.log: list[tuple[str, Type]] = []
        self.depth = 0

    def __setitem__(self, name: str, t: Type) -> None:
        if self.depth:
            self.log.append((name, self.get(name, _MISSING)))
        super().__setitem__(name, t)

    def update(self, *args: object, **kw: Type) -> None:  # type: ignore[override]
        for name, t in dict(*args, **kw).items():  # type: ignore[call-overload]
            self[name] = t

    def pop(self, name: str, *default: object) -> object:  # type: ignore[override]
        if self.depth and name in self:
            self.log.append((name, self[name]))
        return super().pop(name, *default)

    def mark(self) -> int:
        if not self.depth:
            self.log.clear()
        self.depth += 1
        return len(self.log)

    def release(self) -> None:
        self.depth -= 1

    def touched(self, mark: int) -> dict[str, Type]:
        """Each name written since `mark`, with its value then (`_MISSING`: unbound)."""
        out: dict[str, Type] = {}
        for name, old in self.log[mark:]:
            out.setdefault(name, old)
        return out

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            name, old = self.log.pop()
            if old is _MISSING:
                super().pop(name, None)
            else:
                super().__setitem__(name, old)


FIX_NAMES = ("last", "attempt")  # in scope in a `fix` body


@dataclass
class _Scope:
    vars: dict[str, Type] = field(default_factory=dict)
    parent: _Scope | None = None
    consts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not isinstance(self.vars, _Vars):
            self.vars = _Vars(self.vars)

    def lookup(self, name: str) -> Type | None:
        s: _Scope | None = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            s = s.parent
        return None

    def names(self) -> list[str]:
        out: list[str] = []
        s: _Scope | None = self
        while s is not None:
            out.extend(s.vars)
            s = s.parent
        return out

    def assign(self, name: str, t: Type) -> None:
        # As in both runtimes, a write lands in the innermost scope: in an item's body
        # (fanout, for, review, vote, tournament) it makes an item-local name and the outer
        # one keeps its value, so its type and size must stay as they were.
        self.vars[name] = t

    def outer(self, name: str) -> Type | object:
        """The type a name has in the enclosing scopes (`_MISSING`: unbound there)."""
        found = self.parent.lookup(name) if self.parent is not None else None
        return _MISSING if found is None else found


def _has_phase(s: ast.If) -> bool:
    """Whether a phase block stands in this `if` (in a branch, or an `if` in a branch)."""
    for b in (s.then, s.orelse):
        for x in b:
            if isinstance(x, ast.Phase) or (isinstance(x, ast.If) and _has_phase(x)):
                return True
    return False


def _loop_targets(stmts: list[ast.Stmt]) -> list[str]:
    """The names a loop body assigns in its own scope (not in fan-out items, which are local)."""
    out: list[str] = []
    for s in stmts:
        if isinstance(s, ast.Assign):
            out += s.targets
            if isinstance(s.value, (ast.Repeat, ast.Fix)):
                out += _loop_targets(s.value.body)
        elif isinstance(s, ast.ExprStmt) and isinstance(s.value, (ast.Repeat, ast.Fix)):
            out += _loop_targets(s.value.body)
        elif isinstance(s, ast.If):
            out += _loop_targets(s.then) + _loop_targets(s.orelse)
    return out


def _per_phase(terms: list[Term]) -> dict[str | None, Sym]:
    """The worst case of a run of terms in each phase (None: outside any phase)."""
    out: dict[str | None, Sym] = {}
    for t in terms:
        for k, v in (t.per_phase or {t.phase: t.worst}).items():
            out[k] = add(out[k], v) if k in out else v
    return out


class _Stop(Exception):
    """An error after which the rest of the statement makes no sense to check."""


def check_program(program: ast.Program, observer: CheckObserver | None = None) -> CheckResult:
    """Check a program; `observer` (wflang/dsl/observe.py) watches the walk."""
    with paused():
        result = _Checker(program, observer=observer).run()
        if result.ok and result.bound is not None and has_toolless(program):
            # The batchable bound is the same proof counting only tool-less agents: a
            # second pass where every other agent costs 0 (errors were reported by the first).
            result.bound.batchable = _Checker(program, batchable_only=True).run().bound
        return result


def has_toolless(program: ast.Program) -> bool:
    """Whether any agent of the program (or of a workflow it runs) may be tool-less."""
    if any(o.name == "tools" for o in program.defaults):
        return True
    for n in ast.walk(program.body):
        if isinstance(n, (ast.Agent, ast.Check)) and any(o.name == "tools" for o in n.options):
            return True
        if isinstance(n, ast.RunWorkflow) and n.program is not None and has_toolless(n.program):
            return True
    return False


class _Checker:
    def __init__(self, program: ast.Program, batchable_only: bool = False,
                 observer: CheckObserver | None = None) -> None:
        self.p = program
        self.observer = observer or NULL_OBSERVER
        self.batchable_only = batchable_only  # count only tool-less agents (the batchable bound)
        self.diags: list[Diagnostic] = []
        self.records: dict[str, Record] = {}
        self.record_decls = {d.name: d for d in program.types}
        self.inputs: list[InputSize] = []
        self.int_inputs: dict[str, Var] = {}
        self.int_mins: dict[str, tuple[int, Span]] = {}  # every int input's lower bound (default 0)
        self.const_ints: dict[str, tuple[int, Span]] = {}  # `LIMIT = 10`: usable as a size
        self.terms: list[Term] = []
        self.defaults: dict[str, ast.Expr] = {o.name: o.value for o in program.defaults}
        self.phase_titles: list[str] = []
        self.in_fix = 0  # depth of `fix` bodies being checked: `last` and `attempt` are theirs
        self.returns: list[Type] = []  # the type of every `return`, for the workflow's result type
        self.trial = 0  # inside a silent trial pass over a loop body (seed_none_names): record nothing
        self.seen_titles: dict[str, ast.Phase] = {}
        # The type each builtin's argument got when that call was last checked (by node):
        # a lower-bound question about an argument asks right after its call's arguments
        # were checked, in the same scope, and must not check them again (see checked_type).
        self.arg_types: dict[int, Type] = {}
        self.fns = functions.FunctionState()  # the program's `def`s (wflang/dsl/functions.py)

    # ------------------------------------------------------------ diagnostics

    def error(self, code: str, msg: str, span: Span | None, hint: str | None = None,
              notes: list[str] | None = None) -> None:
        self.diags.append(Diagnostic(code, msg, span, hint, notes or []))

    def targets_span(self, s: ast.Assign) -> Span:
        """The `a, b` of `a, b = ...`."""
        text = self.p.source_line(s.span.line)
        m = re.compile(r"[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*").match(text, s.span.col - 1)
        return Span(s.span.line, m.start() + 1, s.span.line, m.end() + 1) if m else s.span

    def word_span(self, span: Span, word: str, skip: int = 0) -> Span:
        """The span of `word` in the source line where `span` starts (from `skip` columns
        in), so the caret lands on a name rather than on its whole declaration."""
        text = self.p.source_line(span.line)
        m = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])").search(text, span.col - 1 + skip)
        if m is None:
            return span
        return Span(span.line, m.start() + 1, span.line, m.end() + 1)

    # ------------------------------------------------------------ top level

    def run(self) -> CheckResult:
        self.header()
        self.declare_types()
        scope = _Scope()
        self.declare_inputs(scope)
        self.check_defaults()
        agent_budget, token_budget = self.check_budget()
        functions.check_definitions(self)
        for c in self.p.consts:
            try:
                t = self.expr(c.value, scope)
            except _Stop:
                t = ANY
            if c.targets[0] in scope.vars:
                self.error("WF205", f"`{c.targets[0]}` is already defined", self.word_span(c.span, c.targets[0]),
                           "pick another name")
            scope.vars[c.targets[0]] = t
            scope.consts.add(c.targets[0])
            if isinstance(c.value, ast.IntLit) and c.value.value >= 0:
                self.const_ints[c.targets[0]] = (c.value.value, c.value.span)
        self.check_requires(scope)
        self.phase_titles = [ph.title for ph in self.p.phases()]
        ended: ast.Stmt | None = None  # a statement after which nothing runs
        for i, stmt in enumerate(self.p.body):
            if ended is not None and not isinstance(ended, ast.Return):
                self.unreachable(stmt, ended)
                ended = None
            if isinstance(stmt, ast.Phase):
                cost = self.phase_block(stmt, scope)
            else:
                if isinstance(stmt, ast.Return) and i != len(self.p.body) - 1:
                    self.error("WF207", "`return` must be the last statement of the workflow", stmt.span,
                               "move it to the end, or put it in an `if` to leave early; nothing after it "
                               "would run")
                cost, _ = self.stmt(stmt, scope, _Ctx(None, outer=True), top=True)
            if cost.ends and ended is None:
                ended = stmt
        bound = Bound(self.terms, self.inputs, agent_budget, token_budget, self.phase_titles)
        if not any(d.severity == "error" for d in self.diags):
            self.check_caps(bound)
        result = NONE if not self.returns else self.returns[0]
        for t in self.returns[1:]:
            result = join(result, t)
        falls_off = ended is None and not (self.p.body and isinstance(self.p.body[-1], ast.Return))
        if self.returns and falls_off:
            result = join(result, NONE)  # a path that ends without `return` gives none
        return CheckResult(self.p, self.diags, bound, result)

    def phase_block(self, s: ast.Phase, scope: _Scope) -> Cost:
        """A phase block at the top level or in a top-level `if`: each statement is a term."""
        if s.title in self.seen_titles:
            self.error("WF206", f'phase "{s.title}" appears twice', s.title_span,
                       f"phase titles are the progress groups of the compiled workflow; rename one "
                       f"(the first is on line {self.seen_titles[s.title].span.line})")
        self.seen_titles[s.title] = s
        cost, _ = self.block(s.body, scope, _Ctx(s.title, outer=True), top=True)
        return cost

    def unreachable(self, s: ast.Stmt, ended: ast.Stmt) -> None:
        self.error("WF207", "this statement never runs: every path before it returns", s.span,
                   f"the `if` on line {ended.span.line} returns in every branch; remove what follows, "
                   "or let a branch go on")

    def header(self) -> None:
        h = self.p.header
        if not _NAME_RE.match(h.name):
            self.error("WF208", f"workflow name `{h.name}` is not kebab-case", h.span,
                       f"use lowercase letters, digits and single dashes: `{_kebab(h.name)}`")
        if not h.description:
            self.error("WF208", "the workflow header has no description", h.span,
                       'add `description: "..."`; it is shown before the workflow runs')
        elif "\n" in h.description:
            self.error("WF208", "the description must be one line", h.fields.get("description"),
                       "put the details in `when:` or in comments")
        for p in h.permissions:
            if p not in PERMISSIONS:
                guess = did_you_mean(p, list(PERMISSIONS))
                where = h.fields.get("permissions")
                self.error("WF209", f"unknown permission `{p}`",
                           self.word_span(where, p, len("permissions")) if where else None,
                           f"did you mean `{guess}`?" if guess else "permissions are `edit` and `shell`")

    def declare_types(self) -> None:
        for d in self.p.types:
            if d.name in self.records or d.name in ("str", "int", "float", "bool", "list", "map"):
                self.error("WF205", f"type `{d.name}` is already defined", d.span, "pick another name")
                continue
            self.records[d.name] = Record(d.name, {})
        for d in self.p.types:
            rec = self.records.get(d.name)
            if rec is None:
                continue
            seen: set[str] = set()
            for f in d.fields:
                if f.name in seen:
                    self.error("WF205", f"field `{f.name}` appears twice in `{d.name}`",
                               self.word_span(f.span, f.name), "keep one")
                seen.add(f.name)
                rec.fields[f.name] = self.type_of(f.type, where=f"field `{d.name}.{f.name}`")
        for d in self.p.types:
            if self._recursive(d.name, d.name, set()):
                self.error("WF210", f"type `{d.name}` contains itself", self.word_span(d.span, d.name, 4),
                           "records cannot be recursive: their JSON Schema would be infinite")

    def _recursive(self, root: str, name: str, seen: set[str]) -> bool:
        decl = self.record_decls.get(name)
        if decl is None or name in seen:
            return False
        seen.add(name)
        for f in decl.fields:
            for n in ast.walk(f.type):
                if isinstance(n, ast.NamedType) and (n.name == root or self._recursive(root, n.name, seen)):
                    return True
        return False

    def type_of(self, t: ast.TypeExpr, where: str, need_max: bool = True) -> Type:
        if isinstance(t, ast.OptionalType):
            return Opt(self.type_of(t.inner, where, need_max))
        if isinstance(t, ast.UnionType):
            if len(set(t.options)) != len(t.options):
                repeat = next(o for i, o in enumerate(t.options) if o in t.options[:i])
                first = self.word_span(t.span, f'"{repeat}"')
                again = self.word_span(Span(first.line, first.end_col, first.line, first.end_col), f'"{repeat}"')
                self.error("WF211", f'"{repeat}" appears twice in this union', again, "remove the repeat")
            return Union(tuple(t.options))
        if isinstance(t, ast.ListType):
            item = self.type_of(t.item, where, need_max)
            if t.max is None:
                if need_max:
                    self.error("WF301", f"{where} is a list without a maximum", t.span,
                               f"every list declares its size: write `{_src(self.p, t)} max N`")
                return ListT(item, Const(0), "no max")
            size = self.size_of(t.max, "list max")
            self.list_min(t)
            return ListT(item, size, f"max, line {t.span.line}")
        if isinstance(t, ast.MapType):
            return self.map_type(t, where, need_max)
        if isinstance(t, ast.NamedType):
            prim = {"str": STR, "int": INT, "float": FLOAT, "bool": BOOL}.get(t.name)
            if prim is not None:
                return self.scalar_type(t, prim)
            for clause in (t.min, t.max):
                if clause is not None:
                    word = "min" if clause is t.min else "max"
                    self.error("WF212", f"`{word}` applies to ints, floats, strings and lists, not `{t.name}`",
                               clause.span, "remove it")
            rec = self.records.get(t.name)
            if rec is None:
                guess = did_you_mean(t.name, [*self.records, "str", "int", "float", "bool"])
                self.error("WF202", f"unknown type `{t.name}`", t.span,
                           f"did you mean `{guess}`?" if guess else "declare it with `type NAME:`")
                return ANY
            return rec
        return ANY

    def map_type(self, t: ast.MapType, where: str, need_max: bool = True) -> MapT:
        """`map[str, T] max N`: the keys are strings; like a list, a map declares its size
        (the maximum number of keys), so its keys, values and entries are bounded lists."""
        if not (isinstance(t.key, ast.NamedType) and t.key.name == "str"
                and t.key.max is None and t.key.min is None):
            self.error("WF212", f"a map's keys are strings, not `{_src(self.p, t.key)}`", t.key.span,
                       "write map[str, T] max N; to key by a number, use str(n) as the key")
        value = self.type_of(t.value, where, need_max)
        if t.max is None:
            if need_max:
                self.error("WF301", f"{where} is a map without a maximum", t.span,
                           f"every map declares how many keys it may hold: write `{_src(self.p, t)} max N`")
            return MapT(value, Const(0), "no max")
        size = self.size_of(t.max, "map max")
        self.list_min(t)
        return MapT(value, size, f"max, line {t.span.line}")

    def scalar_type(self, t: ast.NamedType, prim: Prim) -> Type:
        """`int`/`float` with `min`/`max` (a value range), `str` with them (a length in code
        points), `bool` without. Only int and float keep the range in their type: a field
        `n: int min 0 max 5` can size a `take` or a `range` (both targets refuse an answer
        outside it)."""
        if t.name == "bool":
            for clause in (t.min, t.max):
                if clause is not None:
                    word = "min" if clause is t.min else "max"
                    self.error("WF212", f"`{word}` applies to ints, floats, strings and lists, not `bool`",
                               clause.span, "remove it")
            return prim
        bounds: list[float | None] = []
        for clause in (t.min, t.max):
            if clause is None:
                bounds.append(None)
            elif isinstance(clause, ast.Name) and t.name == "int" and clause is t.max:
                bounds.append(None)  # `int max rounds`: an input's size, not a literal bound
            elif isinstance(clause, ast.FloatLit) and t.name != "float":
                word, whole = ("min", math.ceil(clause.value)) if clause is t.min else ("max", math.floor(clause.value))
                self.error("WF212", f"a bound of `{t.name}` is a whole number", clause.span,
                           f"write `{word} {whole}`" if t.name == "int" else
                           f"a length counts characters: write `{word} {whole}`")
                bounds.append(None)
            elif isinstance(clause, (ast.IntLit, ast.FloatLit)):
                if t.name == "str" and clause.value < 0:
                    self.error("WF302", "a string's length cannot be negative", clause.span, "use 0 or more")
                    bounds.append(None)
                else:
                    bounds.append(clause.value)
            else:
                self.error("WF303", f"the bounds of `{t.name}` must be numbers", clause.span, "write `max 10`")
                bounds.append(None)
        lo, hi = bounds
        if lo is not None and hi is not None and lo > hi:
            what = "length" if t.name == "str" else "value"
            self.error("WF308", f"`min {_num_src(lo)}` is above `max {_num_src(hi)}`: no {what} fits",
                       t.min.span if t.min is not None else t.span, "swap them, or lower the min")
        if t.name == "str" or (lo is None and hi is None):
            return prim
        return Ranged(t.name, lo, hi)

    def list_min(self, t: ast.ListType | ast.MapType) -> None:
        """`list[T] min N max M`: the fewest items an answer may have (JSON Schema minItems);
        `map[str, T] min N max M`: the fewest keys (minProperties)."""
        if t.min is None:
            return
        kind = "map" if isinstance(t, ast.MapType) else "list"
        if not isinstance(t.min, ast.IntLit) or t.min.value < 0:
            self.error("WF303", f"a {kind}'s min is a number, 0 or more", t.min.span, "write `min 1`")
            return
        if isinstance(t.max, ast.IntLit) and t.min.value > t.max.value:
            self.error("WF308", f"`min {t.min.value}` is above `max {t.max.value}`: no {kind} fits", t.min.span,
                       "swap them, or lower the min")

    def size_of(self, e: ast.Expr, what: str, scope: _Scope | None = None, known: Type | None = None) -> Sym:
        """A size: an int literal, an int input with a max, or + and × of those. With
        `scope` (a count read during the run: take, top, range), also any int whose type
        declares its range, `min 0` or more (a field `n: int min 0 max 5`): at most its max.
        Those builtins read a `none` count as 0, so an optional one is fine too. `known`:
        the type of `e` the caller already has (see declared_size)."""
        if scope is not None and not self._static_size(e):
            bounded = self.declared_size(e, what, scope, known)
            if bounded is not None:
                return bounded
        if isinstance(e, ast.IntLit):
            if e.value < 0:
                self.error("WF302", f"{what} cannot be negative", e.span, "use 0 or more")
                return ZERO
            return Const(e.value, Knob(f"{what} {e.value}", e.span))
        if isinstance(e, ast.Name) and e.id in self.int_inputs:
            lo, where = self.int_mins.get(e.id, (INT_INPUT_MIN, e.span))
            if lo < 0:
                self.error("WF308", f"{what}: `{e.id}` can be negative (its min is {lo}); a size is 0 or more",
                           e.span, f"declare `min 0` or more on the input (line {where.line}), "
                           f"or use another input for the size")
                return ZERO
            return self.int_inputs[e.id]
        if isinstance(e, ast.Name) and e.id in self.const_ints:
            value, span = self.const_ints[e.id]
            return Const(value, Knob(f"{e.id} = {value}", span))
        if isinstance(e, ast.BinOp) and e.op in ("+", "*"):
            a, b = self.size_of(e.left, what), self.size_of(e.right, what)
            return add(a, b) if e.op == "+" else mul(a, b)
        hint = "write a number, or an int input declared with `max N`"
        if scope is not None:
            hint += ", or an int whose type declares its range (a field `n: int min 0 max N`)"
        if isinstance(e, ast.Name):
            for d in self.p.inputs:
                if d.name == e.id and isinstance(d.type, ast.NamedType) and d.type.name == "int":
                    hint = f"add a maximum to the input: `input {d.name}: int max N` (line {d.span.line})"
        self.error("WF303", f"{what} must be known before the run", e.span, hint)
        return ZERO

    def static_size(self, e: ast.Expr, what: str) -> Sym | None:
        return self.size_of(e, what) if self._static_size(e) else None

    def declared_size(self, e: ast.Expr, what: str, scope: _Scope, known: Type | None = None) -> Sym | None:
        """The max of an int whose type declares its range. `known`: the type of `e` the
        caller has already checked (a builtin's argument): checking `e` again would check
        a count nested in counts (`take(xs, len(take(ys, ...)))`) twice per level, 2^depth."""
        if known is not None:
            t = strip_opt(known)
        else:
            try:
                t = strip_opt(self.expr(e, scope))
            except _Stop:
                return ZERO
        if not (isinstance(t, Ranged) and t.name == "int" and t.hi is not None):
            return None
        if t.lo is None or t.lo < 0:
            self.error("WF308", f"{what}: `{_src(self.p, e)}` can be negative (it is {t.describe()}); "
                       "a size is 0 or more", e.span, "declare `min 0` or more where its type is declared")
            return ZERO
        return Const(int(t.hi), Knob(f"{what}: {_src(self.p, e)} is {t.describe()}", e.span))

    def _static_size(self, e: ast.Expr) -> bool:
        """Is `e` a size `size_of` accepts: a literal, an int input with a max, + and × of those?"""
        if isinstance(e, ast.IntLit):
            return True
        if isinstance(e, ast.Name):
            return e.id in self.int_inputs or e.id in self.const_ints
        if isinstance(e, ast.BinOp) and e.op in ("+", "*"):
            return self._static_size(e.left) and self._static_size(e.right)
        return False

    def declare_inputs(self, scope: _Scope) -> None:
        for d in self.p.inputs:
            if d.name in scope.vars:
                first = next(x for x in self.p.inputs if x.name == d.name)
                self.error("WF205", f"input `{d.name}` is declared twice", self.word_span(d.span, d.name, 6),
                           f"keep one (the first is on line {first.span.line})")
                continue
            if d.name in RESERVED:
                self.error("WF205", f"`{d.name}` is a builtin; an input cannot take its name",
                           self.word_span(d.span, d.name, 6), "rename the input")
            t = self.input_type(d)
            if d.raw:
                self.check_raw_input(d)
            if d.default is not None:
                self.check_default(d, t)
            scope.vars[d.name] = t

    def check_raw_input(self, d: ast.InputDecl) -> None:
        """`input NAME: str raw`: the one input a string argument (`/NAME some text`) fills."""
        first = next(x for x in self.p.inputs if x.raw)
        if first is not d:
            self.error("WF228", f"`{d.name}` and `{first.name}` are both `raw`", self.word_span(d.span, "raw"),
                       f"one input receives the text of `/{self.p.header.name} some text`; keep `raw` on one "
                       f"(the first is on line {first.span.line})")
        inner = d.type.inner if isinstance(d.type, ast.OptionalType) else d.type
        if not (isinstance(inner, ast.NamedType) and inner.name == "str"):
            self.error("WF228", f"a `raw` input receives text, so it must be a `str`, not `{_src(self.p, d.type)}`",
                       d.type.span, f"declare `input {d.name}: str raw`, and read numbers from other inputs")

    def check_requires(self, scope: _Scope) -> None:
        """`require COND, MESSAGE`: pure expressions over the inputs and constants (an agent
        cannot stand in an expression); they start no agent and leave the bound as it is."""
        for r in self.p.requires:
            for e in (r.cond, r.message):
                try:
                    self.expr(e, scope)
                except _Stop:
                    pass

    def check_default(self, d: ast.InputDecl, t: Type) -> None:
        """A default must be a literal that fits the input as an argument would (`--args`)."""
        default = d.default
        assert default is not None
        if not _is_literal(default):
            self.error("WF213", f"the default of `{d.name}` must be a literal", default.span,
                       "write a number, a string, true/false, none, or a list or record of those")
            return
        problem = type_problem(literal_value(default), d.type, self.record_decls, d.name,
                               default_min=INT_INPUT_MIN)
        if problem is None:
            return
        target = strip_opt(t)
        if isinstance(target, Union) and isinstance(default, ast.StrLit):
            guess = did_you_mean(default.text, list(target.options))
            self.error("WF213", f'the default "{default.text}" is not one of {target.describe()}', default.span,
                       f'did you mean "{guess}"?' if guess else "give one of the declared options")
            return
        try:
            dt = self.expr(default, _Scope())
        except _Stop:
            return
        if not assignable(dt, t):
            self.error("WF213", f"the default of `{d.name}` is {dt.describe()}, not {t.describe()}",
                       default.span, f"give a default of type {t.describe()}")
            return
        detail = problem[len(d.name) + 2:] if problem.startswith(d.name + ": ") else problem
        self.error("WF213", f"the default of `{d.name}` does not fit its type: {detail}", default.span,
                   f"give a default that fits `{_src(self.p, d.type)}`, as an argument must")

    def input_type(self, d: ast.InputDecl) -> Type:
        t = d.type
        if isinstance(t, ast.NamedType) and t.name == "int":
            lo = t.min.value if isinstance(t.min, ast.IntLit) else INT_INPUT_MIN
            self.int_mins[d.name] = (lo, t.min.span if t.min is not None else t.span)
        if isinstance(t, ast.NamedType) and t.name == "int" and t.max is not None:
            if not isinstance(t.max, ast.IntLit):
                self.error("WF303", "an input's max must be a number", t.max.span, "write `max 10`")
                return INT
            if isinstance(t.min, ast.IntLit) and t.min.value > t.max.value:
                self.error("WF308", f"`min {t.min.value}` is above `max {t.max.value}`: no value fits", t.min.span,
                           "swap them, or lower the min")
            var = Var(d.name, Knob(f"input {d.name} max {t.max.value}", t.max.span))
            self.int_inputs[d.name] = var
            self.inputs.append(InputSize(d.name, t.max.value, "int", d.span.line))
            return INT
        if isinstance(t, ast.ListType):
            item = self.type_of(t.item, f"input `{d.name}`")
            if t.max is None:
                self.error("WF301", f"list input `{d.name}` has no maximum", t.span,
                           f"add one: `input {d.name}: {_src(self.p, t)} max N`; the agent bound is "
                           "computed from it")
                return ListT(item, Const(0), "no max")
            if not isinstance(t.max, ast.IntLit):
                self.error("WF303", "an input's max must be a number", t.max.span, "write `max 200`")
                return ListT(item, Const(0), "no max")
            if t.max.value > ITEM_CAP:
                self.error("WF304", f"input `{d.name}` allows {t.max.value} items; a fan-out takes at most "
                           f"{ITEM_CAP}", t.max.span, f"lower it to {ITEM_CAP} or less, or split the input")
            var = Var(d.name, Knob(f"input {d.name} max {t.max.value}", t.max.span))
            self.inputs.append(InputSize(d.name, t.max.value, "list", d.span.line))
            return ListT(item, var, f"input, line {d.span.line}")
        if isinstance(t, ast.MapType):
            return self.map_input(d, t)
        return self.type_of(t, f"input `{d.name}`")

    def map_input(self, d: ast.InputDecl, t: ast.MapType) -> MapT:
        """A map input, sized like a list input: its declared max (a number) bounds its
        keys, and the bound reads the argument's actual number of keys."""
        if t.max is None:
            self.map_type(t, f"input `{d.name}`", need_max=False)
            self.error("WF301", f"map input `{d.name}` has no maximum", t.span,
                       f"add one: `input {d.name}: {_src(self.p, t)} max N`; loops over its keys are "
                       "bounded by it")
            return MapT(ANY, Const(0), "no max")
        if not isinstance(t.max, ast.IntLit):
            self.error("WF303", "an input's max must be a number", t.max.span, "write `max 20`")
            return MapT(ANY, Const(0), "no max")
        value = self.map_type(t, f"input `{d.name}`").value
        if t.max.value > ITEM_CAP:
            self.error("WF304", f"input `{d.name}` allows {t.max.value} keys; a fan-out takes at most "
                       f"{ITEM_CAP}", t.max.span, f"lower it to {ITEM_CAP} or less, or split the input")
        var = Var(d.name, Knob(f"input {d.name} max {t.max.value}", t.max.span))
        self.inputs.append(InputSize(d.name, t.max.value, "map", d.span.line))
        return MapT(value, var, f"input, line {d.span.line}")

    def check_defaults(self) -> None:
        for o in self.p.defaults:
            if o.name in ("label", "phase"):
                self.error("WF214", f"`{o.name}` cannot be a default", o.span,
                           "give it on each agent with `with ...`")
                continue
            self.agent_option(o, _Scope())

    def check_budget(self) -> tuple[int | None, int | None]:
        agents = tokens = None
        for b in self.p.budget:
            if b.key not in ("agents", "output_tokens", "concurrency"):
                guess = did_you_mean(b.key, ["agents", "output_tokens", "concurrency"])
                self.error("WF215", f"unknown budget `{b.key}`", self.word_span(b.span, b.key),
                           f"did you mean `{guess}`?" if guess else
                           "budgets are agents, output_tokens and concurrency")
                continue
            if not isinstance(b.value, ast.IntLit) or b.value.value < 1:
                self.error("WF215", f"budget `{b.key}` takes a positive number", b.value.span,
                           f"write `budget {b.key} <= N`")
                continue
            if b.key == "agents":
                agents = b.value.value
            elif b.key == "output_tokens":
                tokens = b.value.value
            elif b.value.value > 16:
                self.error("WF215", "at most 16 agents run at once", b.value.span, "write 16 or less")
        return agents, tokens

    # ------------------------------------------------------------ caps and budgets

    def check_caps(self, bound: Bound) -> None:
        total = bound.total
        derivation = [f"{t.phase or '(top level)'}: {t.agents.eval(bound.worst_env)} from {t.desc} "
                      f"(line {t.line})" for t in self.terms]
        knobs = ", ".join(f"{k.what} (line {k.span.line})" for k in bound.knobs()) or "the loop counts"
        head = f"worst case {bound.numeric_formula()} = {total}"
        if total > AGENT_CAP:
            self.error("WF310", f"this workflow can start {total} agents; a run may start at most {AGENT_CAP}",
                       self.p.header.span, f"lower one of: {knobs}", [head, *derivation])
        if bound.agent_budget is not None and total > bound.agent_budget:
            span = next((b.span for b in self.p.budget if b.key == "agents"), None)
            self.error("WF311", f"this workflow can start {total} agents; its budget allows "
                       f"{bound.agent_budget}", span,
                       f"raise `budget agents` to {total}, or lower one of: {knobs}", [head, *derivation])
        if bound.token_budget is not None:
            tok = bound.tokens_for()
            if tok is not None and tok > bound.token_budget:
                span = next((b.span for b in self.p.budget if b.key == "output_tokens"), None)
                env = bound.worst_env
                steps = [f"{t.phase or '(top level)'}: {t.tokens.eval(env)} tokens from {t.desc} (line {t.line})"
                         for t in self.terms if t.tokens is not None]
                numeric = " + ".join(t.tokens.show(env) for t in self.terms if t.tokens is not None)
                self.error("WF312", f"this workflow can write {tok} output tokens; its budget allows "
                           f"{bound.token_budget}", span,
                           f"raise `budget output_tokens` to {tok}, lower `max_output_tokens`, "
                           f"or lower one of: {knobs}",
                           [f"worst case {numeric} = {tok} output tokens", *steps])

    def check_items(self, size: Sym, span: Span, what: str) -> None:
        env = {i.name: i.max for i in self.inputs}
        try:
            n = size.eval(env)
        except KeyError:
            return
        if n > ITEM_CAP:
            self.error("WF304", f"{what} can have {n} items; one fan-out takes at most {ITEM_CAP}", span,
                       "lower one of: " + (", ".join(f"{k.what} (line {k.span.line})" for k in size.knobs())
                                           or "the list sizes"),
                       [f"size {size.show()} = {n}"])

    # ------------------------------------------------------------ statements

    def block(self, stmts: list[ast.Stmt], scope: _Scope, ctx: _Ctx, top: bool = False) -> tuple[Cost, Type]:
        cost = Cost.none()
        value: Type = NONE
        for i, s in enumerate(stmts):
            if cost.ends and i and not isinstance(stmts[i - 1], ast.Return):
                self.unreachable(s, stmts[i - 1])
            if isinstance(s, ast.StopWhen):
                if ctx.loop is None or (ctx.loop == "fanout" and i != 0):
                    where = ("move it to the first line of the body: it decides whether an item starts at all"
                             if ctx.loop == "fanout" else "`stop when` is allowed in `fanout`, `for` and `repeat`")
                    self.error("WF216", "`stop when` outside a loop" if ctx.loop is None else
                               "`stop when` must be the first line of a fan-out body", s.span, where)
            c, value = self.stmt(s, scope, ctx, top)
            cost = cost.then(c)
        return cost, value

    def stmt(self, s: ast.Stmt, scope: _Scope, ctx: _Ctx, top: bool = False) -> tuple[Cost, Type]:
        try:
            if top and isinstance(s, ast.If) and ctx.phase is None and _has_phase(s):
                return self.phased_if(s, scope, ctx), NONE
            cost, value = self._stmt(s, scope, ctx)
        except _Stop:
            if isinstance(s, ast.Assign):
                # Bind the names anyway: one mistake, one error (not "unknown name" on every use).
                for n in s.targets:
                    if scope.lookup(n) is None:
                        scope.vars[n] = ERROR
            return Cost.none(), ANY
        if top and not isinstance(s, ast.Phase) and (cost.agents != ZERO or (cost.exit is not None and cost.exit != ZERO)):
            self.terms.append(Term(ctx.phase, s.span.line, cost.desc, cost.agents, cost.tokens, cost.exit))
        return cost, value

    def phased_if(self, s: ast.If, scope: _Scope, ctx: _Ctx) -> Cost:
        """A top-level `if` with phase blocks in it: one term for the total (the larger
        branch), and per phase the worst case where that phase can run."""
        self.expr(s.cond, scope)
        saved = self.terms
        self.terms = []
        try:
            c1, _, c2, _ = self.branches(s, scope, replace(ctx, in_if=True), top=True)
            then_terms, else_terms = self._branch_terms
        finally:
            self.terms = saved
        cost = self.if_cost(s, c1, c2)
        per = {k: smax(v, _per_phase(else_terms).get(k, ZERO)) for k, v in _per_phase(then_terms).items()}
        for k, v in _per_phase(else_terms).items():
            per.setdefault(k, v)
        if cost.worst != ZERO or per:
            self.terms.append(Term(None, s.span.line, cost.desc, cost.agents, cost.tokens, cost.exit,
                                   per, then_terms + else_terms))
        return cost

    def if_cost(self, s: ast.If, c1: Cost, c2: Cost) -> Cost:
        """`if`: the larger branch of those that go on; a branch that returns on every path
        counts only in `exit`."""
        going = [c for c in (c1, c2) if not c.ends]
        agents = smax(*(c.agents for c in going)) if going else ZERO
        tokens = None if c1.tokens is None or c2.tokens is None else smax(c1.tokens, c2.tokens)
        exits = [c.exit for c in (c1, c2) if c.exit is not None]
        desc = c1.desc if c2.worst == ZERO else (c2.desc if c1.worst == ZERO else f"max({c1.desc}, {c2.desc})")
        return Cost(agents, tokens, f"if (line {s.span.line}): {desc}", smax(*exits) if exits else None,
                    not going)

    def _stmt(self, s: ast.Stmt, scope: _Scope, ctx: _Ctx) -> tuple[Cost, Type]:
        if isinstance(s, ast.Assign):
            t, cost = self.rhs(s.value, scope, ctx)
            if len(s.targets) > 1:
                if not isinstance(s.value, ast.Review) or len(s.targets) != 2:
                    self.error("WF217", "only `review` unpacks, into `kept, dropped`", self.targets_span(s),
                               "assign to one name")
                    for n in s.targets:
                        self.bind(n, ANY, scope, s.span)
                    return cost, ANY
                self.bind(s.targets[0], t, scope, s.span)
                self.bind(s.targets[1], self.dropped_type(t), scope, s.span)
                return cost, t
            self.bind(s.targets[0], t, scope, s.span)
            return cost, t
        if isinstance(s, ast.ExprStmt):
            t, cost = self.rhs(s.value, scope, ctx)
            return cost, t
        if isinstance(s, (ast.Log, ast.Fail)):  # `fail` ends the run: no agent, nothing after it runs
            self.expr(s.message, scope)
            return Cost.none(), NONE
        if isinstance(s, ast.StopWhen):
            self.expr(s.cond, scope)
            return Cost.none(), NONE
        if isinstance(s, ast.Return):
            if not ctx.outer or (ctx.phase is not None and not ctx.in_if):
                self.error("WF207", "`return` belongs at the top level of the workflow", s.span,
                           "a block's value is its last line; `return` ends the whole workflow (it may "
                           "also stand in an `if` at the top level or in a phase, to leave early)")
            t, cost = self.rhs(s.value, scope, ctx)
            self.returns.append(t)
            if ctx.in_if:  # an early exit: the paths through here leave the workflow
                return Cost(ZERO, cost.tokens, cost.desc, cost.agents, True), t
            return cost, t
        if isinstance(s, ast.If):
            self.expr(s.cond, scope)
            c1, t1, c2, t2 = self.branches(s, scope, replace(ctx, in_if=True) if ctx.outer else ctx)
            return self.if_cost(s, c1, c2), join(t1, t2)
        if isinstance(s, ast.Phase):
            if ctx.outer and ctx.phase is None:  # in a top-level `if`: entered when its branch runs
                return self.phase_block(s, scope), NONE
            where = (f'another phase ("{ctx.phase}")' if ctx.outer else "a loop or a construct's body")
            self.error("WF218", f"a phase cannot be inside {where}", s.title_span,
                       "phases are top-level blocks; one may also stand in an `if` at the top level")
            return Cost.none(), NONE
        return Cost.none(), NONE

    def branches(self, s: ast.If, scope: _Scope, ctx: _Ctx, top: bool = False) -> tuple[Cost, Type, Cost, Type]:
        """Both branches from the same names; after them, each name either branch wrote
        has the join of its two outcomes (a name bound on one side only may be none).
        With `top` (an `if` holding phases), each branch's statements are terms, kept in
        `_branch_terms`."""
        names = scope.vars
        assert isinstance(names, _Vars)
        mark = names.mark()
        try:
            c1, t1 = self.block(s.then, scope, ctx, top=top)
            then_terms: list[Term] = []
            if top:
                then_terms, self.terms = self.terms, []
            then_old = names.touched(mark)
            then_new = {n: names.get(n, _MISSING) for n in then_old}
            names.undo(mark)
            c2, t2 = self.block(s.orelse, scope, ctx, top=top)
            self._branch_terms = (then_terms, self.terms) if top else ([], [])
            else_old = names.touched(mark)
            else_new = {n: names.get(n, _MISSING) for n in else_old}
            names.undo(mark)
        finally:
            names.release()
        for n in [*else_old, *(n for n in then_old if n not in else_old)]:
            # A name new to this scope on one side may still stand outside it (an item-local
            # write shadows it): the other side then sees the outer one.
            a = then_new[n] if n in then_new else else_old[n]
            b = else_new[n] if n in else_new else then_old[n]
            a = scope.outer(n) if a is _MISSING else a
            b = scope.outer(n) if b is _MISSING else b
            if a is not _MISSING:
                names[n] = join(a, b) if b is not _MISSING else join(a, NONE)
            elif b is not _MISSING:
                names[n] = join(b, NONE)
        return c1, t1, c2, t2

    def bind(self, name: str, t: Type, scope: _Scope, span: Span) -> None:
        s: _Scope | None = scope
        while s is not None:
            if name in s.consts:
                first = next((c.span.line for c in self.p.consts if c.targets[0] == name), None)
                self.error("WF219", f"`{name}` is a constant and cannot be reassigned", self.word_span(span, name),
                           f"constants (names in capitals, line {first}) are fixed; assign to a new name"
                           if first else "assign to a new name")
                return
            s = s.parent
        if name in RESERVED or name in ("budget", "answer"):
            self.error("WF219", f"`{name}` is a builtin name", self.word_span(span, name), "pick another name")
            return
        if self.in_fix and name in FIX_NAMES:
            self.error("WF219", f"`{name}` is the fix's own name here and cannot be assigned",
                       self.word_span(span, name),
                       "in a `fix` body, `last` is the last check's answer and `attempt` the attempt "
                       "number; assign to a new name")
            return
        if name in self.int_mins and scope.lookup(name) is not None:
            line = next(d.span.line for d in self.p.inputs if d.name == name)
            self.error("WF219", f"`{name}` is an int input and cannot be reassigned", self.word_span(span, name),
                       f"its value (line {line}) may size loops and lists, so it stays as given; "
                       "assign to a new name")
            return
        scope.assign(name, t)

    def dropped_type(self, kept: Type) -> Type:
        item = kept.item if isinstance(kept, ListT) else ANY
        size = kept.max if isinstance(kept, ListT) else ZERO
        rec = Record(None, {"item": item, "status": Union(("rejected", "undecided")), "accepts": INT,
                            "rejects": INT, "abstained": INT, "verdicts": ListT(ANY, ZERO, "")})
        return ListT(rec, size, kept.why if isinstance(kept, ListT) else "")

    # ------------------------------------------------------------ agent-starting right-hand sides

    @property
    def watch(self) -> CheckObserver:
        """The observer, silenced during a trial pass."""
        return NULL_OBSERVER if self.trial else self.observer

    def rhs(self, e: ast.Expr, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        t, cost = self._rhs(e, scope, ctx)
        if isinstance(e, (ast.Agent, ast.Check, ast.Fanout, ast.Review, ast.Vote, ast.Tournament, ast.Repeat,
                          ast.Fix, ast.RunWorkflow)):
            self.watch.construct(e, cost.agents)
        return t, cost

    def watched(self, times: Sym, stmts: list[ast.Stmt], scope: _Scope, ctx: _Ctx) -> tuple[Cost, Type]:
        """A body that runs `times` times per run of the code around it."""
        watch = self.watch
        watch.repeated(times)
        try:
            return self.block(stmts, scope, ctx)
        finally:
            watch.done()

    def _rhs(self, e: ast.Expr, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        if isinstance(e, ast.Agent):
            return self.agent(e, scope, ctx)
        if isinstance(e, ast.Check):
            self.expr(e.prompt, scope)
            tokens = self.options(e.options, scope)
            return Record(None, {"passed": BOOL, "details": STR}), Cost(self.one(e), tokens, "1 check")
        if isinstance(e, ast.Fanout):
            return self.fanout(e, scope, ctx)
        if isinstance(e, ast.Review):
            return self.review(e, scope, ctx)
        if isinstance(e, ast.Vote):
            return self.vote(e, scope, ctx)
        if isinstance(e, ast.Tournament):
            return self.tournament(e, scope, ctx)
        if isinstance(e, ast.Repeat):
            return self.repeat(e, scope, ctx)
        if isinstance(e, ast.Fix):
            return self.fix(e, scope, ctx)
        if isinstance(e, ast.RunWorkflow):
            return self.run_workflow(e, scope, ctx)
        return self.expr(e, scope), Cost.none()

    def agent(self, e: ast.Agent, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        self.expr(e.prompt, scope)
        tokens = self.options(e.options, scope)
        t: Type = STR
        if e.result is not None:
            t = self.type_of(e.result, "an agent's result")
            if isinstance(e.result, ast.ListType) and e.result.max is not None:
                t = ListT(t.item, t.max, f"agent result max, line {e.result.span.line}")  # type: ignore[attr-defined]
        if e.fallback is not None:
            t = self.fallback(e.fallback, t, scope)
        return t, Cost(self.one(e), tokens, "1 agent")

    def fallback(self, fallback: ast.Expr, t: Type, scope: _Scope) -> Type:
        """`agent ... else E`: E must fit the agent's type (or be `none`); the value is
        either, so a list fallback may widen the size (the join keeps the larger max)."""
        try:
            ft = self.expr(fallback, scope)
        except _Stop:
            return t
        if ft != NONE and not self.fits(fallback, ft, t, scope):
            self.error("WF213", f"the fallback is {ft.describe()}, not {t.describe()} like the agent's answer",
                       fallback.span, "give a value of the agent's result type (`-> T`, or str without one), "
                                      "or `none`")
            return t
        # either value: the join keeps a list's larger max (a plain string in a union: the union)
        return t if isinstance(fallback, ast.StrLit) and fallback.is_plain else join(t, ft)

    def fits(self, e: ast.Expr, et: Type, t: Type, scope: _Scope) -> bool:
        """May the value of `e` (of type `et`) stand where `t` is declared? Literals are
        read as written: a plain string fits a union that lists it, a record literal a
        record with exactly its fields, item by item."""
        target = strip_opt(t)
        if isinstance(e, ast.NoneLit):
            return isinstance(t, Opt)
        if isinstance(e, ast.StrLit) and e.is_plain and isinstance(target, Union):
            return e.text in target.options
        if isinstance(e, ast.DictLit) and isinstance(target, Record):
            given = dict(e.entries)
            return set(given) == set(target.fields) and all(
                self.fits(v, self.expr(v, scope), target.fields[k], scope) for k, v in given.items())
        if isinstance(e, ast.ListLit) and isinstance(target, ListT):
            return all(self.fits(x, self.expr(x, scope), target.item, scope) for x in e.items)
        if isinstance(target, Ranged) and isinstance(e, (ast.IntLit, ast.FloatLit)):
            return assignable(et, t) and (target.lo is None or e.value >= target.lo) and (
                target.hi is None or e.value <= target.hi)
        return assignable(et, t)

    def one(self, e: ast.Agent | ast.Check) -> Sym:
        """What one agent counts: 1, or in the batchable pass 1 only when it is tool-less."""
        if self.batchable_only and not ast.toolless(e.options, self.p.defaults):
            return ZERO
        return ONE

    def options(self, options: list[ast.Option], scope: _Scope) -> Sym | None:
        """Check `with` options; the agent's worst-case output tokens when known."""
        seen: set[str] = set()
        mot: int | None = None
        for o in options:
            if o.name in seen:
                self.error("WF214", f"option `{o.name}` is given twice", o.span, "keep one")
            seen.add(o.name)
            self.agent_option(o, scope)
            if o.name == "max_output_tokens" and isinstance(o.value, ast.IntLit):
                mot = o.value.value
        if mot is None:
            d = self.defaults.get("max_output_tokens")
            if isinstance(d, ast.IntLit):
                mot = d.value
        return Const(mot) if mot is not None else None

    def agent_option(self, o: ast.Option, scope: _Scope) -> None:
        if o.name not in ast.AGENT_OPTIONS:
            guess = did_you_mean(o.name, list(ast.AGENT_OPTIONS))
            self.error("WF214", f"unknown agent option `{o.name}`", self.word_span(o.span, o.name),
                       f"did you mean `{guess}`?" if guess else "options: " + ", ".join(ast.AGENT_OPTIONS))
            return
        try:
            t = self.expr(o.value, scope)
        except _Stop:
            return
        v = o.value
        if o.name == "effort" and isinstance(v, ast.StrLit) and v.is_plain and v.text not in ast.EFFORTS:
            self.error("WF214", f"unknown effort `{v.text}`", v.span, "efforts: " + ", ".join(ast.EFFORTS))
        elif o.name == "isolation" and not (isinstance(v, ast.StrLit) and v.is_plain and v.text == "worktree"):
            self.error("WF214", "isolation takes only \"worktree\"", v.span, 'write isolation="worktree"')
        elif o.name == "tools" and not isinstance(v, ast.NoneLit):
            self.error("WF214", "tools takes only `none`", v.span,
                       "write `tools=none` for an agent that sees only its prompt (no files, no commands)")
        elif o.name == "max_output_tokens" and not (isinstance(v, ast.IntLit) and v.value > 0):
            self.error("WF214", "max_output_tokens takes a positive number", v.span, "write e.g. 4000")
        elif o.name == "phase":
            if not (isinstance(v, ast.StrLit) and v.is_plain):
                self.error("WF214", "an agent's phase must be fixed text", v.span,
                           "phase titles are listed in the compiled meta; write a plain string")
            elif v.text not in self.phase_titles:
                self.phase_titles.append(v.text)
        elif o.name in ("model", "label", "agent_type", "effort") and not is_stringy(t):
            self.error("WF213", f"`{o.name}` takes a string, not {t.describe()}", v.span, f'write {o.name}="..."')

    # ------------------------------------------------------------ constructs

    def iter_list(self, e: ast.Expr, scope: _Scope, what: str,
                  not_list_hint: str = "use range(n) for a count") -> ListT:
        t = strip_opt(self.expr(e, scope))
        if isinstance(t, ListT):
            return t
        if self.trial and t == NONE:
            return ListT(ANY, ZERO, "none")  # iterating None yields nothing
        if t == ERROR:
            raise _Stop  # already reported where it was defined
        if isinstance(t, MapT):
            src = _src(self.p, e)
            self.error("WF220", f"{what} needs a list, not a map", e.span,
                       f"iterate its keys, values or entries: keys({src}), values({src}), entries({src})")
            raise _Stop
        if is_any(t):
            self.error("WF305", f"{what}: the size of this list is not known", e.span,
                       "iterate a list input declared with `max N`, an agent result `-> list[T] max N`, "
                       "or use take(xs, N)")
        else:
            self.error("WF220", f"{what} needs a list, not {t.describe()}", e.span, not_list_hint)
        raise _Stop

    def describe_iter(self, e: ast.Expr, t: ListT) -> str:
        env = {i.name: i.max for i in self.inputs}
        label = _src(self.p, e) if len(_src(self.p, e)) <= 30 else "the list"
        n = t.max.eval(env) if not t.max.vars() - env.keys() else t.max.show()
        if t.why.startswith("input"):
            return f"{label} (max {n}, line {t.why.split('line ')[-1]})"
        return f"{label} ≤ {n} ({t.why})" if t.why else f"{label} ≤ {n}"

    def item_scope(self, scope: _Scope, binds: dict[str, Type], span: Span | None = None) -> _Scope:
        for name in binds:
            self.no_size_shadow(name, span)
        return _Scope(dict(binds), scope)

    def no_size_shadow(self, name: str, span: Span | None) -> None:
        """A loop variable may not take the name of an int input or an int constant: sizes
        name them (`repeat max n`), and the name must mean the same everywhere."""
        if name in self.int_mins or name in self.const_ints:
            what = "an int input" if name in self.int_mins else "an int constant"
            self.error("WF205", f"`{name}` is {what}; a loop variable cannot take its name",
                       self.word_span(span, name) if span is not None else None,
                       "sizes such as `repeat max " + name + "` read it: pick another name")

    def fanout(self, e: ast.Fanout, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        kind = "for" if e.sequential else "fanout"
        lt = self.iter_list(e.iter, scope, kind)
        self.check_items(lt.max, e.iter.span, f"`{kind}` over {_src(self.p, e.iter)}")
        for o in e.options:
            if o.name != "concurrency":
                self.error("WF214", f"unknown fan-out option `{o.name}`", o.span, "a fan-out takes `concurrency=N`")
            elif not (isinstance(o.value, ast.IntLit) and 1 <= o.value.value <= 16):
                self.error("WF214", "concurrency takes a number from 1 to 16", o.value.span, "write concurrency=4")
        binds: dict[str, Type] = {e.var: lt.item}
        if e.index_var is not None:  # `fanout i, x in enumerate(C)`: i counts from 0
            binds[e.index_var] = INT
        inner = self.item_scope(scope, binds, e.span)
        body_cost, body_t = self.watched(lt.max, e.body, inner, _Ctx(ctx.phase, "fanout", True))
        desc = f"{kind} over {self.describe_iter(e.iter, lt)} × {_per(body_cost)}"
        value = ListT(_non_none(body_t), lt.max, f"{kind}, line {e.span.line}")
        return value, body_cost.times(lt.max, desc)

    def review(self, e: ast.Review, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        lt = self.iter_list(e.iter, scope, "review")
        self.check_items(lt.max, e.iter.span, f"`review` over {_src(self.p, e.iter)}")
        binds: dict[str, Type] = {e.var: lt.item}
        if e.lenses is not None:
            lenses = self.iter_list(e.lenses, scope, "review ... by v in L",
                                    'one reviewer per lens: by l in ["security", "speed"]; for copies write by N')
            n = lenses.max
            binds[e.lens_var or "_"] = lenses.item
            who = f"{n.show({i.name: i.max for i in self.inputs})} reviewers ({_src(self.p, e.lenses)})"
        else:
            assert e.count is not None
            n = self.size_of(e.count, "by")
            who = f"{n.show({i.name: i.max for i in self.inputs})} reviewers"
            if isinstance(e.count, ast.IntLit) and e.count.value < 1:
                self.error("WF306", "a review needs at least one reviewer", e.count.span, "write by 1 or more")
        if e.keep is not None:
            k = self.size_of(e.keep, "keep if")
            if isinstance(k, Const) and isinstance(n, Const) and k.n > n.n:
                self.error("WF306", f"keep if {k.n} can never hold with {n.n} reviewers", e.keep.span,
                           f"keep if at most {n.n}, or `keep if all`")
        inner = self.item_scope(scope, binds, e.span)
        body_cost, answer = self.watched(mul(lt.max, n), e.body, inner, _Ctx(ctx.phase, None, True))
        self.judge_cond(e.accept, answer, inner)
        desc = f"review: {self.describe_iter(e.iter, lt)} × {who}"
        if body_cost.agents != ONE:
            desc += f" × {_per(body_cost)}"
        cost = body_cost.times(mul(lt.max, n), desc)
        return ListT(lt.item, lt.max, f"review, line {e.span.line}"), cost

    def judge_cond(self, cond: ast.Expr, answer: Type, scope: _Scope) -> None:
        binds: dict[str, Type] = {"answer": answer}
        rec = strip_opt(answer)
        if isinstance(rec, Record):
            binds.update(rec.fields)
        self.expr(cond, _Scope(binds, scope))

    def vote(self, e: ast.Vote, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        n = self.size_of(e.count, "vote")
        if e.quorum is not None:
            q = self.size_of(e.quorum, "quorum")
            if isinstance(q, Const) and isinstance(n, Const) and q.n > n.n:
                self.error("WF306", f"a quorum of {q.n} can never be reached by {n.n} voters", e.quorum.span,
                           f"use quorum {n.n} or less")
        body_cost, answer = self.watched(n, e.body, self.item_scope(scope, {}), _Ctx(ctx.phase, None, True))
        env = {i.name: i.max for i in self.inputs}
        return _opt(answer), body_cost.times(n, f"vote: {n.show(env)} voters × {_per(body_cost)}")

    def tournament(self, e: ast.Tournament, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        lt = self.iter_list(e.iter, scope, "tournament")
        self.check_items(lt.max, e.iter.span, f"`tournament` over {_src(self.p, e.iter)}")
        inner = self.item_scope(scope, {e.a: lt.item, e.b: lt.item}, e.span)
        body_cost, answer = self.watched(monus(lt.max, 1), e.body, inner, _Ctx(ctx.phase, None, True))
        self.judge_cond(e.cond, answer, inner)
        desc = f"tournament: {self.describe_iter(e.iter, lt)} − 1 matches × {_per(body_cost)}"
        return _opt(lt.item), body_cost.times(monus(lt.max, 1), desc)

    def repeat(self, e: ast.Repeat, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        k = self.size_of(e.max, "repeat max")
        if e.var:
            # The round number lives only inside the loop (in both targets), so it may
            # neither shadow a name nor be read after the loop.
            if scope.lookup(e.var) is not None:
                self.error("WF205", f"`as {e.var}`: `{e.var}` is already defined", e.span,
                           "name the round with a new name")
            self.bind(e.var, INT, scope, e.span)
        value, cost, _ = self.rounds(e.body, k, scope, _Ctx(ctx.phase, "repeat", ctx.in_item), "repeat",
                                     e.max.span)
        if e.var:
            scope.vars.pop(e.var, None)
        return value, cost

    def fix(self, e: ast.Fix, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        k = self.size_of(e.max, "fix max")
        if e.stall is not None:
            s = self.size_of(e.stall, "stall")
            if isinstance(s, Const) and s.n < 1:
                self.error("WF306", "stall takes 1 or more", e.stall.span, "write stall 1 or more")
        body_ctx = _Ctx(ctx.phase, None, ctx.in_item)
        watch = self.watch
        watch.repeated(add(k, ONE))  # the check runs before the first attempt and after each
        try:
            check_t, check_cost = self.rhs(e.check, scope, body_ctx)
        finally:
            watch.done()
        if not isinstance(e.check, (ast.Check, ast.Agent)):
            self.error("WF221", "`until` takes a `check` (or an agent returning a record with `passed`)",
                       e.check.span, 'write until check "..."')
        elif isinstance(e.check, ast.Agent):
            rec = strip_opt(check_t)
            if not (isinstance(rec, Record) and "passed" in rec.fields):
                self.error("WF221", "the agent after `until` must return a record with a `passed` field",
                           e.check.span, "use `check \"...\"`, which returns {passed, details}")
        # The body reads the check's answer so far (None when that check agent failed) and
        # the attempt number, 1..K; they shadow outer names only inside the body.
        saved = {n: scope.vars[n] for n in FIX_NAMES if n in scope.vars}
        scope.vars.update({"last": _opt(check_t), "attempt": INT})
        self.in_fix += 1
        try:
            _, body_cost, first = self.rounds(e.body, k, scope, body_ctx, "fix", e.max.span)
        finally:
            self.in_fix -= 1
            for n in FIX_NAMES:
                scope.vars.pop(n, None)
            scope.vars.update(saved)
        env = {i.name: i.max for i in self.inputs}
        ks = k.show(env)
        # Built without simplification so the formula reads as the rule: K×A(body) + (K+1)×A(check).
        checks = Mul((Add((k, ONE)), check_cost.agents))
        agents = Add((body_cost.agents, checks)) if body_cost.agents != ZERO else checks
        tokens = None
        if body_cost.tokens is not None and check_cost.tokens is not None:
            tokens = add(body_cost.tokens, mul(add(k, ONE), check_cost.tokens))
        value = Record(None, {"passed": BOOL, "attempts": INT, "last": _opt(check_t)})
        return value, Cost(agents, tokens, f"fix: {ks} attempts × {_per(first)} + ({ks}+1) checks")

    def rounds(self, body: list[ast.Stmt], k: Sym, scope: _Scope, ctx: _Ctx,
               kind: str, where: Span | None = None) -> tuple[Type, Cost, Cost]:
        """K rounds of a body whose assignments carry over. When a round leaves every
        type as it found it, all rounds cost the same: K × A(body). Otherwise the rounds are
        unrolled, each counted only when K reaches it."""
        names = scope.vars
        assert isinstance(names, _Vars)
        mark = names.mark()
        watch = self.watch
        watch.rounds(k)
        try:
            return self._rounds(body, k, scope, ctx, kind, where, mark)
        finally:
            names.release()
            watch.done()

    def _rounds(self, body: list[ast.Stmt], k: Sym, scope: _Scope, ctx: _Ctx,
                kind: str, where: Span | None, mark: int) -> tuple[Type, Cost, Cost]:
        env = {i.name: i.max for i in self.inputs}
        k_max = k.eval(env)
        names = scope.vars
        assert isinstance(names, _Vars)
        self.seed_none_names(body, scope, ctx)
        self.watch.round(1)
        cost1, value = self.block(body, scope, ctx)
        if _same_types(names.touched(mark), names) or k_max <= 1:
            self._merge_after_loop(names.touched(mark), scope)
            if cost1.agents == ONE:
                return value, Cost(Mul((k, ONE)), None if cost1.tokens is None else mul(k, cost1.tokens),
                                   f"{kind}: {k.show(env)} rounds × 1 agent"), cost1
            return value, cost1.times(k, f"{kind}: {k.show(env)} rounds × {_per(cost1)}"), cost1
        if k_max > _UNROLL_LIMIT:
            self.error("WF307", f"this `{kind}` grows lists every round and runs up to {k_max} rounds", where,
                       f"lower its max to {_UNROLL_LIMIT} or less, or keep list sizes fixed across rounds "
                       "(e.g. take(xs, N))")
            return value, cost1.times(k, kind), cost1
        # The rounds' costs are summed once at the end: adding each round to the running
        # sum re-read the whole sum every round (quadratic in the rounds).
        gated = [cost1.times(Step(k, 1) if not isinstance(k, Const) else ONE, "")]
        uniform = True
        for r in range(2, k_max + 1):
            n_diags = len(self.diags)
            self.watch.round(r)
            c, value = self.block(body, scope, ctx)
            del self.diags[n_diags:]  # the same mistakes again: reported once, in round 1
            gate = Step(k, r) if not isinstance(k, Const) else ONE
            gated.append(c.times(gate, ""))
            uniform = uniform and c.agents == cost1.agents and c.tokens == cost1.tokens
        total = Cost.sum(gated)
        self._merge_after_loop(names.touched(mark), scope)
        if uniform:
            # Lists grew, but every round starts the same agents: the sum of the gated rounds
            # is exactly K × A(body), which reads as the rule.
            return value, cost1.times(k, f"{kind}: {k.show(env)} rounds × {_per(cost1)} "
                                         "(unrolled: sizes grow, agents do not)"), cost1
        return value, Cost(total.agents, total.tokens, f"{kind}: {k.show(env)} rounds, unrolled (sizes grow)"), cost1

    def seed_none_names(self, body: list[ast.Stmt], scope: _Scope, ctx: _Ctx) -> None:
        """The join rule for a name first set to `none` and assigned in a loop body: from
        round 1 on, its type is `T?` (T: what the body assigns), not `none`, so code written
        for a later round (`acc + got` behind `if acc == none`) checks. Found by a silent
        trial pass over the body, whose effects are undone."""
        targets = [n for n in dict.fromkeys(_loop_targets(body)) if scope.lookup(n) == NONE]
        if not targets:
            return
        names = scope.vars
        assert isinstance(names, _Vars)
        n_diags, n_returns = len(self.diags), len(self.returns)
        mark = names.mark()
        self.trial += 1
        found: dict[str, Type | None] = {}
        try:
            try:
                self.block(body, scope, ctx)
            except _Stop:
                pass
            found = {n: scope.lookup(n) for n in targets}
        finally:
            names.undo(mark)
            names.release()
            for n in targets:  # a name of an enclosing scope is not in this scope's undo log
                scope.assign(n, NONE)
            del self.diags[n_diags:]
            del self.returns[n_returns:]
            self.trial -= 1
        for n, t in found.items():
            if t is not None and t != NONE and not is_any(t):
                scope.assign(n, join(NONE, t))

    def _merge_after_loop(self, before: dict[str, Type], scope: _Scope) -> None:
        """`before`: the names the loop wrote, with their values before it."""
        for name, old in before.items():
            t = scope.vars.get(name, _MISSING)
            if old is not _MISSING and t is not _MISSING and not _same(old, t):
                scope.vars[name] = join(old, t)

    def run_workflow(self, e: ast.RunWorkflow, scope: _Scope, ctx: _Ctx) -> tuple[Type, Cost]:
        args_t = self.expr(e.args, scope) if e.args is not None else Record(None, {})
        child = e.program
        if child is None:
            self.error("WF222", f'cannot load "{e.path}"', e.span, "the path is relative to this file")
            return ANY, Cost.none()
        if any(isinstance(n, ast.RunWorkflow) for n in ast.walk(child.body)):
            self.error("WF222", f'"{e.path}" runs another workflow itself; `run` is one level deep', e.span,
                       "inline the inner workflow")
            return ANY, Cost.none()
        result = check_program(child)
        if not result.ok or result.bound is None:
            first = next(d for d in result.diagnostics if d.severity == "error")
            self.error("WF222", f'"{e.path}" does not check: {first.message}', e.span,
                       f"run `wf check {e.path}`")
            return ANY, Cost.none()
        # The child's input sizes are the sizes of what this call passes, or their maxima.
        subst: dict[str, Sym] = {}
        fields = strip_opt(args_t).fields if isinstance(strip_opt(args_t), Record) else {}  # type: ignore[attr-defined]
        given = {k for k, _ in e.args.entries} if isinstance(e.args, ast.DictLit) else set(fields)
        for inp in result.bound.inputs:
            t = fields.get(inp.name)
            if inp.kind in ("list", "map") and isinstance(t, (ListT, MapT)):
                subst[inp.name] = t.max
            elif inp.kind == "int" and isinstance(e.args, ast.DictLit):
                val = dict(e.args.entries).get(inp.name)
                # A value known before the run bounds the child; any other value is checked
                # against the child's declared max when it runs, so that max bounds it.
                subst[inp.name] = self.size_of(val, f"`{inp.name}` for {e.path}") \
                    if val is not None and self._static_size(val) else Const(inp.max)
            else:
                subst[inp.name] = Const(inp.max)
        for d in child.inputs:
            if d.default is None and d.name not in given:
                self.error("WF403", f'"{e.path}" needs the argument `{d.name}`', e.span,
                           f"pass it: run \"{e.path}\" with {{{d.name}: ...}}")
        counted = result.bound
        if self.batchable_only:
            counted = result.bound.batchable or Bound([], result.bound.inputs)
        agents = counted.agents.subst(subst)
        tokens = result.bound.tokens
        return ANY, Cost(agents, tokens.subst(subst) if tokens is not None else None,
                         f'run "{e.path}" ({result.bound.formula()})')

    # ------------------------------------------------------------ pure expressions

    def expr(self, e: ast.Expr, scope: _Scope) -> Type:
        t = self._expr(e, scope)
        return t

    def _expr(self, e: ast.Expr, scope: _Scope) -> Type:
        if isinstance(e, ast.StrLit):
            for p in e.parts:
                if isinstance(p, ast.Expr):
                    self.expr(p, scope)
            return STR
        if isinstance(e, ast.IntLit):
            return INT
        if isinstance(e, ast.FloatLit):
            if e.value != e.value or e.value in (float("inf"), float("-inf")):
                self.error("WF213", "this number is too large to represent", e.span,
                           "numbers are 64-bit floats in both targets: stay under 1.7e308")
            return FLOAT
        if isinstance(e, ast.BoolLit):
            return BOOL
        if isinstance(e, ast.NoneLit):
            return NONE
        if isinstance(e, ast.Name):
            return self.name(e, scope)
        if isinstance(e, ast.Field):
            return self.field(e, scope)
        if isinstance(e, ast.Accessor):
            return KeyFn(ANY)
        if isinstance(e, ast.Index):
            t = strip_opt(self.expr(e.obj, scope))
            it = self.expr(e.index, scope)
            if isinstance(t, ListT):
                if not is_numeric(it):
                    self.error("WF213", f"a list index must be a number, not {it.describe()}", e.index.span,
                               "use xs[0], xs[-1]")
                return _opt(t.item)
            if isinstance(t, MapT):
                if not is_stringy(it):
                    self.error("WF213", f"a map's key is a string, not {it.describe()}", e.index.span,
                               'write m["key"] or m[str(n)]')
                return _opt(t.value)  # a missing key reads as none
            if isinstance(t, Record):
                return ANY
            if is_stringy(t):
                return STR
            if not is_any(t):
                self.error("WF213", f"cannot index {t.describe()}", e.span, "only lists and strings index")
            return ANY
        if isinstance(e, ast.Slice):
            t = strip_opt(self.expr(e.obj, scope))
            for b in (e.lo, e.hi):
                if b is not None:
                    self.expr(b, scope)
            if isinstance(t, ListT):
                size = t.max
                if e.lo is None and isinstance(e.hi, ast.IntLit) and e.hi.value >= 0:
                    size = smin(t.max, Const(e.hi.value))
                return ListT(t.item, size, t.why)
            return t
        if isinstance(e, ast.BinOp):
            return self.binop(e, scope)
        if isinstance(e, ast.Compare):
            a = self.expr(e.left, scope)
            b = self.expr(e.right, scope)
            if e.op in ("<", "<=", ">", ">=") and not _comparable(a, b):
                self.error("WF213", f"cannot order {a.describe()} and {b.describe()}", e.span,
                           "compare numbers with numbers, strings with strings")
            self.union_literal(a, e.right)
            self.union_literal(b, e.left)
            return BOOL
        if isinstance(e, ast.BoolOp):
            return join(self.expr(e.left, scope), self.expr(e.right, scope))
        if isinstance(e, ast.UnaryOp):
            t = self.expr(e.operand, scope)
            if e.op == "-" and not is_numeric(t):
                self.error("WF213", f"cannot negate {t.describe()}", e.span, "`-` takes a number")
            return BOOL if e.op == "not" else widen(t)  # `-` leaves a declared range
        if isinstance(e, ast.CondExpr):
            self.expr(e.cond, scope)
            return join(self.expr(e.then, scope), self.expr(e.orelse, scope))
        if isinstance(e, (ast.ListLit, ast.TupleLit)):
            item: Type | None = None
            for x in e.items:
                xt = self.expr(x, scope)
                item = xt if item is None else join(item, xt)
            return ListT(item or ANY, Const(len(e.items)), f"literal, line {e.span.line}")
        if isinstance(e, ast.DictLit):
            return Record(None, {k: self.expr(v, scope) for k, v in e.entries})
        if isinstance(e, ast.ListComp):
            return self.listcomp(e, scope)
        if isinstance(e, ast.Lambda):
            return KeyFn(self.expr(e.body, _Scope({p: ANY for p in e.params}, scope)))
        if isinstance(e, ast.Call):
            return self.call(e, scope)
        if isinstance(e, (ast.Agent, ast.Check, ast.Fanout, ast.Review, ast.Vote, ast.Tournament,
                          ast.Repeat, ast.Fix, ast.RunWorkflow)):
            self.error("WF223", "agents start only in a statement of their own", e.span,
                       "assign the result to a name first: `x = agent ...`")
            raise _Stop
        return ANY

    def union_literal(self, t: Type, other: ast.Expr) -> None:
        """`x.severity == "hgih"` can never hold: say so."""
        t = strip_opt(t)
        if isinstance(t, Union) and isinstance(other, ast.StrLit) and other.is_plain \
                and other.text not in t.options:
            guess = did_you_mean(other.text, list(t.options))
            self.error("WF224", f'"{other.text}" is not one of {t.describe()}', other.span,
                       f'did you mean "{guess}"?' if guess else "compare with one of the declared options")

    def name(self, e: ast.Name, scope: _Scope) -> Type:
        t = scope.lookup(e.id)
        if t is not None:
            return t
        if e.id == "budget":
            self.error("WF225", "`budget` alone is not a value", e.span,
                       "read budget.remaining or budget.total")
            raise _Stop
        if e.id in RESERVED:
            self.error("WF201", f"`{e.id}` is a builtin function", e.span, f"call it: {e.id}(...)")
            raise _Stop
        guess = did_you_mean(e.id, scope.names())
        if e.id in FIX_NAMES and not guess:
            self.error("WF201", f"unknown name `{e.id}`", e.span,
                       "`last` (the last check's answer, {passed, details}) and `attempt` (1, 2, ...) "
                       "exist only in the body of a `fix`; after it, read `.last` and `.attempts` of "
                       "its value")
            raise _Stop
        self.error("WF201", f"unknown name `{e.id}`", e.span,
                   f"did you mean `{guess}`?" if guess else "assign it before this line, or declare an input")
        raise _Stop

    def field(self, e: ast.Field, scope: _Scope) -> Type:
        if isinstance(e.obj, ast.Name) and e.obj.id == "budget" and scope.lookup("budget") is None:
            if e.name in ("remaining", "total"):
                return Opt(INT)
            self.error("WF225", f"`budget` has no field `{e.name}`", e.span,
                       "use budget.remaining or budget.total")
            raise _Stop
        obj = self.expr(e.obj, scope)
        opt = isinstance(obj, Opt)
        t = strip_opt(obj)
        if isinstance(t, Record):
            if e.name in t.fields:
                ft = t.fields[e.name]
                return Opt(ft) if opt and not isinstance(ft, Opt) else ft
            if t.name == "budget":
                self.error("WF225", f"`budget` has no field `{e.name}`", _field_name_span(e),
                           "use budget.remaining or budget.total")
                raise _Stop
            guess = did_you_mean(e.name, list(t.fields))
            self.error("WF225", f"`{t.describe()}` has no field `{e.name}`", _field_name_span(e),
                       f"did you mean `.{guess}`?" if guess else
                       "fields: " + ", ".join(t.fields) if t.fields else "this record has no fields")
            raise _Stop
        if isinstance(t, MapT):
            self.error("WF225", f"`.{e.name}` on a map, whose keys are known only when it runs", e.span,
                       f'read a key with m["{e.name}"] (none when it is missing)')
            raise _Stop
        if isinstance(t, ListT):
            self.error("WF225", f"`.{e.name}` on a list", e.span,
                       f"take each item's field with a comprehension: [x.{e.name} for x in ...]")
            raise _Stop
        if is_any(t) or (isinstance(t, Prim) and t.name == "none"):
            return ANY
        self.error("WF225", f"`.{e.name}` on {t.describe()}, which has no fields", e.span,
                   "only records have fields; give the agent a result type (-> T) to get a record")
        raise _Stop

    def binop(self, e: ast.BinOp, scope: _Scope) -> Type:
        a = widen(strip_opt(self.expr(e.left, scope)))
        b = widen(strip_opt(self.expr(e.right, scope)))
        if self.trial and NONE in (a, b):
            return NONE  # a name still `none` in the trial pass: its value then (an operand None gives None)
        if e.op == "|":
            if is_any(a) or is_any(b):
                return ANY
            if isinstance(a, Record) and isinstance(b, Record):
                return Record(None, {**a.fields, **b.fields})
            if isinstance(a, MapT) or isinstance(b, MapT):
                self.error("WF213", "`|` merges records, not maps", e.span,
                           "join their entries: to_map(entries(a) + entries(b)) (a repeated key takes b's value)")
                return ANY
            self.error("WF213", f"`|` merges records, not {a.describe()} and {b.describe()}", e.span,
                       "write {...} | {...}")
            return ANY
        if e.op == "+":
            if isinstance(a, ListT) and isinstance(b, ListT):
                return ListT(join_items(a, b), add(a.max, b.max), f"+, line {e.span.line}")
            if is_stringy(a) and is_stringy(b):
                return STR if not (is_any(a) and is_any(b)) else ANY
        if is_numeric(a) and is_numeric(b):
            if e.op == "/":
                return FLOAT
            return FLOAT if FLOAT in (a, b) else (ANY if is_any(a) or is_any(b) else INT)
        if is_any(a) or is_any(b):
            return ANY
        self.error("WF213", f"`{e.op}` does not apply to {a.describe()} and {b.describe()}", e.span,
                   "arithmetic takes numbers; `+` also joins two strings or two lists")
        return ANY

    def listcomp(self, e: ast.ListComp, scope: _Scope) -> Type:
        inner = _Scope({}, scope)
        size: Sym = ONE
        why = ""
        for c in e.clauses:
            if isinstance(c, ast.CompFor):
                lt = self.iter_list(c.iter, inner, "a comprehension")
                size = mul(size, lt.max)
                why = lt.why
                self.no_size_shadow(c.var, e.span)
                inner.vars[c.var] = lt.item
                if c.index_var is not None:
                    self.no_size_shadow(c.index_var, e.span)
                    inner.vars[c.index_var] = INT
            else:
                self.expr(c.cond, inner)
        return ListT(self.expr(e.elt, inner), size, f"comprehension, line {e.span.line}" if why else why)

    # ------------------------------------------------------------ builtins

    def call(self, e: ast.Call, scope: _Scope) -> Type:
        fn = self.fns.table.get(e.func)
        if fn is not None:  # a `def` of the program: A(call) = 0, sizes from its body
            return functions.call(self, fn, e, scope)
        b = builtins.get(e.func)
        if b is None:
            guess = did_you_mean(e.func, list(BUILTINS))
            self.error("WF226", f"unknown function `{e.func}`", self.word_span(e.span, e.func),
                       f"did you mean `{guess}`?" if guess else "builtins: " + ", ".join(BUILTINS))
            raise _Stop
        args = [self.expr(a, scope) for a in e.args]
        self.arg_types.update(zip(map(id, e.args), args, strict=True))
        allowed = set(b.keywords)
        for k in e.kwargs:
            if k.name not in allowed:
                self.error("WF227", f"`{e.func}` takes no argument `{k.name}`", k.span,
                           f"it takes: {', '.join(sorted(allowed))}" if allowed else f"`{e.func}` takes no keywords")
            elif k.name != "by":
                self.expr(k.value, scope)
        arity = b.arity
        if not arity[0] <= len(args) <= arity[1]:
            n = f"{arity[0]}" if arity[0] == arity[1] else f"{arity[0]} to {arity[1]}"
            self.error("WF227", f"`{e.func}` takes {n} argument{'s' if arity[1] > 1 else ''}, not {len(args)}",
                       e.span, b.usage)
            raise _Stop
        return b.check(self, e, args, scope)

    def source(self, node: ast.Node) -> str:
        return _src(self.p, node)

    def constant(self, name: str) -> ast.Expr | None:
        c = next((c for c in self.p.consts if c.targets == [name]), None)
        return c.value if c is not None else None

    def checked_type(self, e: ast.Expr, scope: _Scope) -> Type:
        """The type of a builtin's argument `e`, as its call's check just found it: checking
        it again (min/max's lower bound inside range's start) doubled the work per level of
        nesting, `range(max(len(range(max(...), 5)), 0), 5)` took 2^depth."""
        t = self.arg_types.get(id(e))
        return t if t is not None else self.expr(e, scope)

    def lower_bound(self, e: ast.Expr, scope: _Scope) -> int | None:
        """A number that the int value of `e` is known never to go below (and never None),
        or None when there is none: int literals, int inputs (their `min`, default 0),
        int constants, len(...), + of those, × of non-negative ones, max(...) of ints with
        one known, min(...) of known ones."""
        if isinstance(e, ast.IntLit):
            return e.value
        if isinstance(e, ast.Name):
            if e.id in self.const_ints:
                return self.const_ints[e.id][0]
            if e.id in self.int_mins:  # never shadowed nor reassigned (no_size_shadow, bind)
                return self.int_mins[e.id][0]
            return None
        if isinstance(e, ast.BinOp) and e.op in ("+", "*"):
            a, b = self.lower_bound(e.left, scope), self.lower_bound(e.right, scope)
            if a is None or b is None:
                return None
            if e.op == "+":
                return a + b
            return a * b if a >= 0 and b >= 0 else None
        if isinstance(e, ast.Call) and not e.kwargs:
            b = builtins.get(e.func)
            return b.lower(self, e, scope) if b is not None else None
        return None

    def need_list(self, e: ast.Call, i: int, args: list[Type]) -> ListT | None:
        t = strip_opt(args[i])
        if isinstance(t, ListT):
            return t
        if t == ERROR:
            return None  # already reported where it was defined
        if is_any(t):
            self.error("WF305", f"{e.func}: the size of this list is not known", e.args[i].span,
                       "use a list whose maximum is declared or derived")
            return None
        b = builtins.get(e.func)
        self.error("WF213", f"`{e.func}` takes a list, not {t.describe()}", e.args[i].span,
                   b.usage if b is not None else None)
        return None

    def key_orders(self, e: ast.Call, lt: ListT | None, by: ast.Keyword | None, scope: _Scope) -> list[Type]:
        """Type the key against the item type and record each component's union order;
        the type of each component of the key."""
        item = lt.item if lt is not None else ANY
        comps: list[ast.Expr | None]
        if by is None:
            comps = [None]
        elif isinstance(by.value, ast.TupleLit):
            comps = list(by.value.items)
        else:
            comps = [by.value]
        orders: list[list[str] | None] = []
        types: list[Type] = []
        for c in comps:
            kt: Type
            if c is None:
                kt = item
            elif isinstance(c, ast.Accessor):
                kt = self.accessor(c, item)
            elif isinstance(c, ast.Lambda):
                if len(c.params) != 1:
                    self.error("WF227", "a key lambda takes one parameter", c.span, "write lambda x: ...")
                    kt = ANY
                else:
                    kt = self.expr(c.body, _Scope({c.params[0]: item}, scope))
            else:
                self.error("WF227", "`by` takes a key: `.field`, a tuple of them, or a lambda", c.span,
                           "write by=.severity or by=(.file, .line)")
                kt = ANY
            types.append(kt)
            kt = strip_opt(kt)
            orders.append(list(kt.options) if isinstance(kt, Union) else None)
        e.key_orders = orders if any(o is not None for o in orders) else None
        return types

    def accessor(self, a: ast.Accessor, item: Type) -> Type:
        t = item
        for name in a.path:
            t = strip_opt(t)
            if isinstance(t, Record):
                if name not in t.fields:
                    guess = did_you_mean(name, list(t.fields))
                    self.error("WF225", f"`{t.describe()}` has no field `{name}`", a.span,
                               f"did you mean `.{guess}`?" if guess else "fields: " + ", ".join(t.fields))
                    return ANY
                t = t.fields[name]
            elif is_any(t):
                return ANY
            else:
                self.error("WF225", f"`.{name}` on {t.describe()}, which has no fields", a.span,
                           "the items of this list are not records")
                return ANY
        return t




def _field_name_span(e: ast.Field) -> Span:
    """The `name` of `obj.name`: the part that is wrong when the field does not exist."""
    s = e.span
    if s.line != s.end_line or s.end_col - len(e.name) <= s.col:
        return s
    return Span(s.end_line, s.end_col - len(e.name), s.end_line, s.end_col)


def _kebab(name: str) -> str:
    """`PrReview`, `pr_review` → `pr-review`: the suggestion for a header name."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name).replace("_", "-").lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "", words)).strip("-") or "my-workflow"


def _src(p: ast.Program, node: ast.Node) -> str:
    """The source text of a one-line node, for messages."""
    s = node.span
    if s.line == 0 or s.line != s.end_line:
        return type(node).__name__.lower()
    return p.source_line(s.line)[s.col - 1:s.end_col - 1]


def _per(c: Cost) -> str:
    if c.agents == ONE:
        return "1 agent"
    if isinstance(c.agents, Const):
        # "1 agent + 1 check" says no more than "2 agents"
        plain = all(re.fullmatch(r"\d+ (agents?|checks?)|no agents", p) for p in c.desc.split(" + "))
        return f"{c.agents.n} agents" if plain else f"({c.desc})"
    return f"({c.desc})"


def _num_src(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _opt(t: Type) -> Type:
    return t if isinstance(t, Opt) or is_any(t) else Opt(t)


def _non_none(t: Type) -> Type:
    return strip_opt(t)


def _comparable(a: Type, b: Type) -> bool:
    a, b = strip_opt(a), strip_opt(b)
    if is_any(a) or is_any(b):
        return True
    if is_numeric(a) and is_numeric(b):
        return True
    return is_stringy(a) and is_stringy(b)


def _same(a: Type, b: Type) -> bool:
    if isinstance(a, ListT) and isinstance(b, ListT):
        return a.max == b.max and _same(a.item, b.item)
    if isinstance(a, MapT) and isinstance(b, MapT):
        return a.max == b.max and _same(a.value, b.value)
    if isinstance(a, Record) and isinstance(b, Record):
        return a.fields.keys() == b.fields.keys() and all(_same(a.fields[k], b.fields[k]) for k in a.fields)
    return a == b


def _same_types(before: dict[str, Type], after: dict[str, Type]) -> bool:
    """Did a round leave every name it wrote (`before`: their old values) as it found it?
    A name the round bound for the first time counts as a change."""
    for name, old in before.items():
        t = after.get(name, _MISSING)
        if t is not _MISSING and (old is _MISSING or not _same(old, t)):
            return False
    return True


def _is_literal(e: ast.Expr) -> bool:
    if isinstance(e, (ast.IntLit, ast.FloatLit, ast.BoolLit, ast.NoneLit)):
        return True
    if isinstance(e, ast.StrLit):
        return e.is_plain
    if isinstance(e, (ast.ListLit, ast.TupleLit)):
        return all(_is_literal(x) for x in e.items)
    if isinstance(e, ast.DictLit):
        return all(_is_literal(v) for _, v in e.entries)
    return False
