"""The trio interpreter of a checked `.wf` tree, with the meaning docs/semantics.md gives.

Pure expressions are evaluated synchronously (the grammar puts agents only in statements
of their own); statements and block constructs are async. Concurrency is structured:
every concurrent construct (fanout, review, vote, a tournament round) is one nursery, and
every agent goes through the `Scheduler`, which owns limits, budget, journal and usage.

Each concurrent task carries an immutable `Frame`: its variable scope, its phase, and
what its agents' labels and sample indices are made of.
"""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import trio

from wflang.dsl import ast, builtins, labels
from wflang.dsl import values as V
from wflang.dsl.guard import agent_sites, guard_message
from wflang.dsl.schema import CHECK_SCHEMA, SchemaError, list_max, records_of, result_schema, wrap_key
from wflang.dsl.shared_head import shared_heads
from wflang.runtime.backend import AgentRequest
from wflang.runtime.fit import NOT_FIT, fitter
from wflang.runtime.functions import call_function
from wflang.runtime.progress import RunObserver
from wflang.runtime.scheduler import BoundExceeded, RunError, RunFailed, Scheduler
from wflang.runtime.slots import OrderedSlots

Value = Any


# ---------------------------------------------------------------- scopes and frames


class Scope:
    """Variables of one level. Reads fall through to the parent; writes stay here."""

    __slots__ = ("vars", "parent")

    def __init__(self, vars: dict[str, Value] | None = None, parent: Scope | None = None) -> None:
        self.vars = vars if vars is not None else {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Value]:
        s: Scope | None = self
        while s is not None:
            if name in s.vars:
                return True, s.vars[name]
            s = s.parent
        return False, None


class ProgramInfo:
    """One program being run: the top workflow, or a child of `run`. (This module's
    records are plain classes, not dataclasses: a dataclass costs some 3 M instructions to
    make at import.)"""

    __slots__ = ("program", "records", "sizes", "defaults", "is_child", "schemas", "heads", "sites")

    def __init__(self, program: ast.Program, records: dict[str, ast.TypeDecl], sizes: dict[str, int],
                 defaults: dict[str, Value] | None = None, is_child: bool = False) -> None:
        self.program = program
        self.records = records
        self.sizes = sizes  # int input values, for `list[T] max n` schemas
        self.defaults: dict[str, Value] = {} if defaults is None else defaults
        self.is_child = is_child
        self.schemas: dict[int, dict[str, Any] | None] = {}
        self.heads: dict[int, str] | None = None  # id(agent node) -> shared head, on first use
        self.sites: dict[int, _Site] = {}  # id(agent node) -> its _Site, on first use


# Options that only name an agent: evaluated per agent, they leave its request's other
# fields (model, effort, tools ...) the same for every agent of the site.
_NAMING_OPTIONS = frozenset({"label", "phase"})
_LITERALS = (ast.IntLit, ast.FloatLit, ast.BoolLit, ast.NoneLit)


def _literal(e: ast.Expr) -> bool:
    """Whether `e` has the same value in every frame (and evaluating it cannot fail)."""
    if isinstance(e, ast.StrLit):
        return all(isinstance(p, str) for p in e.parts)
    return isinstance(e, _LITERALS)


_PENDING: Any = object()  # a _Site's schema before its first agent's options are evaluated


class _Site:
    """What every agent of one `agent`/`check` site shares in one program, worked out at
    its first agent (a fan-out asks for a thousand from one site): the options that are
    literals or defaults, the request's fields when no other option varies, the label's
    site name, the schema and how the answer is unwrapped and cut. (A plain class with
    slots: a dataclass costs some 3 M instructions to make at import.)"""

    __slots__ = ("opts", "dynamic", "fixed", "label", "site_label", "head", "schema", "template", "wrap", "inner",
                 "most")

    def __init__(self, opts: dict[str, Value], dynamic: list[ast.Option], fixed: bool, label: str | None,
                 site_label: str, head: str | None) -> None:
        self.opts = opts  # the defaults and the literal options
        self.dynamic = dynamic  # the options evaluated per agent, in source order
        self.fixed = fixed  # no option but label and phase varies: one template serves every agent
        self.label = label  # the explicit label, normalized, when it is a literal
        self.site_label = site_label  # the label's site name (with a child's workflow name)
        self.head = head  # the shared head of its prompts (dsl/shared_head.py)
        # Made after the first agent's options are evaluated (`_ready`), so a bad option
        # is still reported before a bad schema, as when nothing was kept per site:
        self.schema: dict[str, Any] | None = _PENDING
        self.template: AgentRequest | None = None  # prompt, label, phase, sample and order to fill
        self.wrap: str | None = None  # the key a list or scalar answer is wrapped in
        self.inner: dict[str, Any] | None = None  # the schema of what is under `wrap` (or the whole)
        self.most: int | None = None  # a list result's declared max


class Frame:
    """What a task runs in; never changed once made (a new one per item, phase, copy:
    `_with`)."""

    def __init__(self, scope: Scope, prog: ProgramInfo, phase: str | None, indices: tuple[int, ...] = (),
                 parts: tuple[str, ...] = (), copy: str | None = None, sample: int = 0) -> None:
        self.scope = scope
        self.prog = prog
        self.phase = phase  # the enclosing phase block's title (in a `run` child: the caller's)
        self.indices = indices  # loop indices, 1-based, outermost first (the start order)
        self.parts = parts  # the same as label loop parts: `file 3`, `reviewer 2` (dsl/labels.py)
        self.copy = copy  # the innermost vote voter / review reviewer, `voter 2` (explicit labels)
        self.sample = sample  # the journal's sample index


def _with(f: Frame, **changes: Any) -> Frame:
    """A copy of `f` with `changes` (once per item of a fan-out, per copy, per phase)."""
    g = object.__new__(Frame)
    g.__dict__.update(f.__dict__, **changes)
    return g


def _filled(template: AgentRequest, **changes: Any) -> AgentRequest:
    """`replace(template, **changes)` at a tenth of its cost (once per agent; AgentRequest
    is a frozen dataclass without __post_init__)."""
    request = object.__new__(AgentRequest)
    request.__dict__.update(template.__dict__, **changes)
    return request


class _Return(Exception):
    def __init__(self, value: Value) -> None:
        self.value = value


class RunOutcome:
    __slots__ = ("value", "logs")

    def __init__(self, value: Value, logs: list[tuple[str | None, str]]) -> None:
        self.value = value
        self.logs = logs


FIX_NAMES = ("last", "attempt")  # bound in a `fix` body

# ---------------------------------------------------------------- helpers


def items_outcome(failed: int, none: int, n: int) -> str:
    """The fan-out log line's tail (semantics.md): failures and None values apart."""
    if failed and none:
        return f"{failed} of {n} items failed, {none} gave none"
    if failed:
        return f"{failed} of {n} items failed"
    return f"{none} of {n} items gave none (not a failure)"


def fix_outcome(passed: bool, attempts: int, limit: int) -> str:
    """The log line a `fix` ends on (semantics.md), the same in both targets."""
    tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
    if passed:
        return "the check passed at once" if attempts == 0 else f"the check failed, then passed after {tries}"
    if attempts < limit:
        return f"the check still fails after {tries} (stalled: the same result again)"
    return f"the check still fails after {tries}"


def source_text(program: ast.Program, span: Any) -> str:
    """The source text of a node, whitespace-collapsed when it spans lines."""
    if span.line == 0:
        return "?"
    lines = program.source.splitlines()
    if span.line == span.end_line:
        text = lines[span.line - 1][span.col - 1 : span.end_col - 1]
    else:
        text = " ".join([lines[span.line - 1][span.col - 1 :], *lines[span.line : span.end_line - 1],
                         lines[span.end_line - 1][: span.end_col - 1]])
    return re.sub(r"\s+", " ", text).strip()


_AGENT_NODES = (ast.Agent, ast.Check, ast.RunWorkflow)


def starts_agents(node: ast.Node) -> bool:
    """Whether evaluating `node` can start an agent (checked statically)."""
    return any(isinstance(n, _AGENT_NODES) for n in ast.walk(node))


def _passed(r: Value) -> bool:
    return r is not None and V.truthy(V.field(r, "passed"))


def _count(v: Value, what: str, line: int) -> int:
    if V.is_number(v) and float(v).is_integer():
        return int(v)
    raise RunError(f"line {line}: {what} must be a whole number, not {V.text(v)}")


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _leaves(e)]
    return [exc]


@asynccontextmanager
async def _nursery() -> AsyncIterator[trio.Nursery]:
    """A nursery whose failure is one plain exception, not an exception group: a run
    error in one item of a fan-out is the run's error (Ctrl-C stays Ctrl-C)."""
    try:
        async with trio.open_nursery() as nursery:
            yield nursery
    except BaseExceptionGroup as group:
        raise collapse(group) from None


def collapse(group: BaseExceptionGroup) -> BaseException:
    """The one exception that stands for a group: Ctrl-C first, then the first failure;
    the group itself when it holds only cancellations."""
    leaves = [e for e in _leaves(group) if not isinstance(e, trio.Cancelled)]
    if not leaves:
        return group
    return next((e for e in leaves if isinstance(e, KeyboardInterrupt)), leaves[0])


# ---------------------------------------------------------------- the interpreter


class Interpreter:
    def __init__(self, program: ast.Program, scheduler: Scheduler, observer: RunObserver | None = None) -> None:
        self.program = program
        self.sched = scheduler
        self.observer = observer or scheduler.observer
        self.logs: list[tuple[str | None, str]] = []
        # The last phase block entered: agents outside any phase after it are shown in
        # it, as Claude Code's phase() cursor does (their label still names the workflow).
        self.phase_cursor: str | None = None
        self._children: dict[int, ast.Program] = {}
        self._fired: ast.StopWhen | None = None  # the `stop when` that fired last
        self._frame: Frame | None = None  # the frame of the expression being evaluated (for cut logs)
        self._agentful: dict[int, bool] = {}
        self._expr_dispatch: dict[type, Callable[[Any, Scope], Value]] = {
            ast.StrLit: self._strlit,
            ast.IntLit: lambda e, s: e.value,
            ast.FloatLit: lambda e, s: V.num(e.value),
            ast.BoolLit: lambda e, s: e.value,
            ast.NoneLit: lambda e, s: None,
            ast.Name: self._name,
            ast.Field: lambda e, s: V.field(self._ev(e.obj, s), e.name),
            ast.Accessor: lambda e, s: self._accessor(e.path),
            ast.Index: lambda e, s: V.index(self._ev(e.obj, s), self._ev(e.index, s)),
            ast.Slice: self._slice,
            ast.BinOp: self._binop,
            ast.Compare: lambda e, s: V.compare_op(e.op, self._ev(e.left, s), self._ev(e.right, s)),
            ast.BoolOp: self._boolop,
            ast.UnaryOp: self._unary,
            ast.CondExpr: lambda e, s: self._ev(e.then, s) if V.truthy(self._ev(e.cond, s)) else self._ev(e.orelse, s),
            ast.ListLit: lambda e, s: [self._ev(x, s) for x in e.items],
            ast.TupleLit: lambda e, s: [self._ev(x, s) for x in e.items],
            ast.DictLit: lambda e, s: {k: self._ev(v, s) for k, v in e.entries},
            ast.ListComp: self._listcomp,
            ast.Lambda: self._lambda,
            ast.Call: self._call,
        }

    # ------------------------------------------------------------ running a program

    async def run(self, args: dict[str, Value]) -> RunOutcome:
        """Run the workflow on validated arguments (defaults applied)."""
        from wflang.dsl.arguments import ARGS_PROBLEM

        info = self._program_info(self.program, args, is_child=False)
        frame = Frame(Scope(), info, None)
        try:
            value = await self._run_program(info, frame, args)
        except ArgumentsRefused as refused:  # as the compiled script throws it
            raise ArgumentsRefused(ARGS_PROBLEM + str(refused)) from None
        # Claude Code receives the result as a JavaScript object (a map through `plain`), so
        # array-index keys ("9", "10") come first there: print the result in that order too.
        return RunOutcome(V.js_key_order(value), self.logs)

    def _program_info(self, program: ast.Program, args: dict[str, Value], is_child: bool) -> ProgramInfo:
        from wflang.dsl.arguments import sizes

        return ProgramInfo(program, records_of(program), sizes(program, args), is_child=is_child)

    async def _run_program(self, info: ProgramInfo, frame: Frame, args: dict[str, Value]) -> Value:
        scope = frame.scope
        scope.vars.update(V.normalize(args))
        for c in info.program.consts:
            scope.vars[c.targets[0]] = self.eval(c.value, frame)
        for o in info.program.defaults:
            info.defaults[o.name] = self.eval(o.value, frame)
        unmet = self.unmet(info.program, frame)
        if unmet:  # `wf run` refused these before the run; a `run` child's are checked here
            raise ArgumentsRefused("; ".join(message for _, message in unmet))
        try:
            for stmt in info.program.body:
                await self.exec_stmt(stmt, frame)
        except _Return as r:
            return r.value
        return None

    def unmet(self, program: ast.Program, frame: Frame) -> list[tuple[ast.Require, str]]:
        """The `require` lines whose condition does not hold (its truth, as `if` reads
        it), each with its message, in source order."""
        return [(r, V.text(self.eval(r.message, frame))) for r in program.requires
                if not V.truthy(self.eval(r.cond, frame))]

    # ------------------------------------------------------------ statements

    async def exec_block(self, stmts: list[ast.Stmt], f: Frame) -> tuple[Value, bool]:
        """(the block's value, whether a `stop when` fired)."""
        value: Value = None
        for s in stmts:
            value, stopped = await self.exec_stmt(s, f)
            if stopped:
                return None, True
        return value, False

    async def exec_stmt(self, s: ast.Stmt, f: Frame) -> tuple[Value, bool]:
        """(the statement's value, whether a `stop when` fired)."""
        if isinstance(s, ast.Assign):
            if len(s.targets) == 2 and isinstance(s.value, ast.Review):
                kept, dropped = await self.review(s.value, f, with_dropped=True)
                f.scope.vars[s.targets[0]] = kept
                f.scope.vars[s.targets[1]] = dropped
                return [kept, dropped], False  # the value the statement assigned (as the JS)
            if len(s.targets) != 1:
                raise RunError(f"line {s.span.line}: only `review` unpacks into two names")
            value = await self.eval_rhs(s.value, f)
            f.scope.vars[s.targets[0]] = value
            return value, False
        if isinstance(s, ast.ExprStmt):
            return await self.eval_rhs(s.value, f), False
        if isinstance(s, ast.If):
            branch = s.then if V.truthy(self.eval(s.cond, f)) else s.orelse
            _, stopped = await self.exec_block(branch, f)
            return None, stopped
        if isinstance(s, ast.Log):
            self.log(f, V.text(self.eval(s.message, f)))
            return None, False
        if isinstance(s, ast.Fail):
            raise RunFailed(V.text(self.eval(s.message, f)))
        if isinstance(s, ast.StopWhen):
            fired = V.truthy(self.eval(s.cond, f))
            if fired:  # read by the enclosing repeat before any other task runs (no await between)
                self._fired = s
            return None, fired
        if isinstance(s, ast.Return):
            raise _Return(await self.eval_rhs(s.value, f))
        if isinstance(s, ast.Phase):
            await self.phase(s, f)
            return None, False
        raise RunError(f"line {s.span.line}: cannot run a {type(s).__name__}")

    async def phase(self, s: ast.Phase, f: Frame) -> None:
        if f.prog.is_child:
            # A child's agents run in the caller's phase (JS: phase() does nothing in a child).
            await self.exec_block(s.body, f)
            return
        self.observer.phase_started(s.title)
        self.phase_cursor = s.title
        try:
            await self.exec_block(s.body, _with(f, phase=s.title))
        finally:
            self.observer.phase_finished(s.title)

    def log(self, f: Frame, message: str) -> None:
        self.logs.append((f.phase, message))
        self.sched.log(f.phase, message)

    # ------------------------------------------------------------ right-hand sides

    async def eval_rhs(self, e: ast.Expr, f: Frame) -> Value:
        if isinstance(e, (ast.Agent, ast.Check)):
            value = await self.agent(e, f)
            if value is None and isinstance(e, ast.Agent) and e.fallback is not None:
                return self.eval(e.fallback, f)  # `else E`: evaluated only when the agent failed
            return value
        if isinstance(e, ast.Fanout):
            return await self.fanout(e, f)
        if isinstance(e, ast.Review):
            kept, _ = await self.review(e, f, with_dropped=False)
            return kept
        if isinstance(e, ast.Vote):
            return await self.vote(e, f)
        if isinstance(e, ast.Tournament):
            return await self.tournament(e, f)
        if isinstance(e, ast.Repeat):
            return await self.repeat(e, f)
        if isinstance(e, ast.Fix):
            return await self.fix(e, f)
        if isinstance(e, ast.RunWorkflow):
            return await self.run_child(e, f)
        return self.eval(e, f)

    # ------------------------------------------------------------ agents

    def _schema(self, e: ast.Agent | ast.Check, info: ProgramInfo) -> dict[str, Any] | None:
        if isinstance(e, ast.Check):
            return CHECK_SCHEMA
        key = id(e)
        if key not in info.schemas:
            try:
                info.schemas[key] = result_schema(e.result, info.records, info.sizes)
            except SchemaError as exc:
                raise RunError(f"line {e.span.line}: {exc}") from None
        return info.schemas[key]

    def _permissions(self, prog: ProgramInfo) -> frozenset[str]:
        """What the user granted for the run AND what the agent's own workflow declares: a
        child `.wf` run from a parent never gets more than its own header says."""
        return self.sched.permissions & frozenset(prog.program.header.permissions)

    def _site_of(self, e: ast.Agent | ast.Check, prog: ProgramInfo) -> _Site:
        """The `_Site` of `e` in `prog`, at its first agent (nothing here can fail)."""
        opts = dict(prog.defaults)
        dynamic: list[ast.Option] = []
        names = [o.name for o in e.options]
        unique = len(set(names)) == len(names)  # else every option per agent, in order
        for o in e.options:
            if unique and _literal(o.value):
                opts[o.name] = self._ev(o.value, Scope())
            else:
                dynamic.append(o)
        if prog.heads is None:
            prog.heads = shared_heads(prog.program)
        explicit = "label" not in {o.name for o in dynamic} and opts.get("label") is not None
        prefix = prog.program.header.name + labels.SEP if prog.is_child else ""
        site = prog.sites[id(e)] = _Site(
            opts=opts,
            dynamic=dynamic,
            fixed=all(o.name in _NAMING_OPTIONS for o in dynamic),
            label=labels.normalize(V.text(opts["label"])) if explicit else None,
            site_label=prefix + labels.site_name(prog.program, e),
            head=prog.heads.get(id(e)),
        )
        return site

    def _ready(self, site: _Site, e: ast.Agent | ast.Check, prog: ProgramInfo, opts: dict[str, Value]) -> None:
        """The schema-made parts of `site` (raises RunError for a schema that cannot be made)."""
        schema = self._schema(e, prog)
        if isinstance(e, ast.Agent):
            site.wrap = wrap_key(e.result, prog.records)
            site.inner = schema["properties"][site.wrap] if site.wrap is not None and schema is not None else schema
            if isinstance(e.result, ast.ListType):
                site.most = list_max(e.result, prog.sizes)
        if site.fixed:
            site.template = self._template(opts, prog, schema, site.head)
        site.schema = schema

    def _template(self, opts: dict[str, Value], prog: ProgramInfo, schema: dict[str, Any] | None,
                  head: str | None) -> AgentRequest:
        """A request with every field its options make; prompt, label, phase, sample index
        and order are filled per agent (`_filled`)."""
        mot = opts.get("max_output_tokens")
        toolless = "tools" in opts and opts["tools"] is None
        return AgentRequest(
            prompt="",
            schema=schema,
            label="",
            model=_opt_text(opts, "model"),
            effort=_opt_text(opts, "effort"),
            agent_type=_opt_text(opts, "agent_type"),
            isolation=_opt_text(opts, "isolation"),
            max_output_tokens=int(mot) if V.is_number(mot) else None,
            # A tool-less agent holds no capability: it has no tool to use one with.
            permissions=frozenset() if toolless else self._permissions(prog),
            toolless=toolless,
            shared_head=head,
        )

    async def agent(self, e: ast.Agent | ast.Check, f: Frame) -> Value:
        prompt = V.text(self.eval(e.prompt, f))
        prog = f.prog
        site = prog.sites.get(id(e)) or self._site_of(e, prog)
        opts = site.opts
        if site.dynamic:
            opts = dict(opts)
            for o in site.dynamic:
                opts[o.name] = self.eval(o.value, f)
        if site.schema is _PENDING:
            self._ready(site, e, prog, opts)
        phase = V.text(opts["phase"]) if opts.get("phase") is not None else f.phase
        shown_phase = phase if phase is not None else self.phase_cursor
        if site.label is not None or opts.get("label") is not None:
            label = site.label if site.label is not None else labels.normalize(V.text(opts["label"]))
            if f.copy is not None:
                label += f"{labels.SEP}{f.copy}"
        elif f.parts:  # the site and the loop parts, as the JS emitter writes them
            label = labels.SEP.join((site.site_label, *f.parts))
        else:
            label = site.site_label
        schema = site.schema
        template = site.template
        if template is None:  # an option such as `model=` varies from agent to agent
            template = self._template(opts, prog, schema, site.head)
        request = _filled(template, prompt=prompt, label=label, phase=shown_phase, sample_index=f.sample,
                          order=f.indices)
        try:
            result = await self.sched.run_agent(request)
        except BoundExceeded as exc:
            raise BoundExceeded(guard_message(exc.n, exc.label, self._site(e), exc.bound),
                                exc.n, exc.bound, exc.label) from None
        if result is None:
            return None
        value = V.normalize(result.value)
        if isinstance(e, ast.Check):
            return self._fitted(value, schema)
        if e.result is None:
            return value if isinstance(value, str) else V.text(value)
        key = site.wrap
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                return None  # not what the schema says: as good as a failure
            value = value[key]
        elif not isinstance(value, dict):
            return None
        n = site.most
        if n is not None and isinstance(value, list) and len(value) > n:
            n = max(n, 0)
            self.log(f, f"{label}: kept {n} of {len(value)} items (declared max {n})")
            value = value[:n]
        return self._fitted(value, site.inner)

    def _site(self, e: ast.Agent | ast.Check) -> str:
        """Where an agent is and which proven construct counts it; computed only when the
        guard trips (the checker runs again: this is the bug-report path)."""
        from wflang.dsl.checker import check_program

        try:
            sites = agent_sites(self.program, check_program(self.program).bound)
        except Exception:  # the message must come out whatever else is broken
            sites = {}
        return sites.get(id(e), f"line {e.span.line}")

    @staticmethod
    def _fitted(value: Value, schema: dict[str, Any] | None) -> Value:
        """The answer with only what its schema declares (runtime/fit.py); None when it
        does not fit at all, as for any failed agent."""
        if schema is None:
            return value
        out = fitter(schema)(value)  # fit(value, schema), with the schema read once per schema
        return None if out is NOT_FIT else out

    # ------------------------------------------------------------ fanout and for

    async def fanout(self, e: ast.Fanout, f: Frame) -> list[Value]:
        items = self._items(e.iter, f, "fanout" if not e.sequential else "for")
        noun = labels.item_noun(e.iter, e.var)
        n = len(items)
        width: int | None = None
        for o in e.options:
            if o.name == "concurrency":
                width = _count(self.eval(o.value, f), "concurrency", o.span.line)
        stop = e.body[0] if e.body and isinstance(e.body[0], ast.StopWhen) else None
        body = e.body[1:] if stop is not None else e.body
        results: list[Value] = [None] * n
        skipped = [False] * n
        failed = [False] * n

        async def item(i: int) -> None:
            binds: dict[str, Value] = {e.var: items[i]}
            if e.index_var is not None:
                binds[e.index_var] = i  # from 0, as Python's enumerate
            g = _with(f, scope=Scope(binds, f.scope), indices=f.indices + (i + 1,),
                      parts=f.parts + (f"{noun} {i + 1}",))
            if stop is not None and V.truthy(self.eval(stop.cond, g)):
                skipped[i] = True
                return
            results[i], failed[i] = await self._item_body(body, g)

        if e.sequential:
            for i in range(n):
                await item(i)
        else:
            # Ordered, as the run's own slots: the items asking in the same moment get
            # theirs in item order, so the start order does not vary between runs.
            limiter = OrderedSlots(width) if width else None

            async def limited(i: int) -> None:
                assert limiter is not None
                await limiter.acquire(f.indices + (i + 1,))
                try:  # `stop when` is evaluated when the item gets its slot
                    await item(i)
                finally:
                    limiter.release()

            task = item if limiter is None else limited  # one coroutine less per item when unlimited
            async with _nursery() as nursery:
                for i in range(n):
                    nursery.start_soon(task, i)
        word = "for" if e.sequential else "fanout"
        src = source_text(f.prog.program, e.iter.span)
        loop = f"{e.index_var}, {e.var} in enumerate({src})" if e.index_var else f"{e.var} in {src}"
        where = f"{word} {loop} (line {e.span.line})"
        if stop is not None and any(skipped):
            self.log(f, f"{where}: {sum(skipped)} of {n} items skipped "
                        f"(stop when {source_text(f.prog.program, stop.cond.span)})")
        # Failed: the items an agent's failure ended. The other None items (a vote without
        # quorum, a None last line) are dropped too, but counted apart; skipped ones are not.
        k = sum(failed)
        none = sum(1 for r, s, x in zip(results, skipped, failed, strict=True) if r is None and not s and not x)
        if k or none:
            self.log(f, f"{where}: {items_outcome(k, none, n)}")
        return [r for r in results if r is not None]

    async def _item_body(self, body: list[ast.Stmt], g: Frame) -> tuple[Value, bool]:
        """(An item's value, whether an agent's failure ended it). A top-level `agent` or
        `check` step whose agent failed (None) ends the item; any other None is a value."""
        value: Value = None
        for s in body:
            value, stopped = await self.exec_stmt(s, g)
            if stopped:
                return None, False
            if value is None and isinstance(s, (ast.Assign, ast.ExprStmt)) and ast.ends_item(s.value):
                return None, True
        return value, False

    def _starts_agents(self, e: ast.Expr) -> bool:
        hit = self._agentful.get(id(e))
        if hit is None:
            hit = self._agentful[id(e)] = starts_agents(e)
        return hit

    def _items(self, e: ast.Expr, f: Frame, what: str) -> list[Value]:
        v = self.eval(e, f)
        try:
            items = V.iterate(v)
        except V.ValueError_ as exc:
            raise RunError(f"line {e.span.line}: {what}: {exc}") from None
        self.sched.check_items(len(items), f"line {e.span.line}: `{what}` over "
                                          f"{source_text(f.prog.program, e.span)}")
        return list(items)

    # ------------------------------------------------------------ review

    async def review(self, e: ast.Review, f: Frame, with_dropped: bool) -> tuple[list[Value], list[Value]]:
        items = self._items(e.iter, f, "review")
        noun, copy_noun = labels.item_noun(e.iter, e.var), labels.review_copy_noun(e)
        lenses: list[Value] | None = None
        if e.lenses is not None:
            lenses = self._items(e.lenses, f, "review ... by v in")
            n = len(lenses)
        else:
            assert e.count is not None
            n = _count(self.eval(e.count, f), "the number of reviewers", e.span.line)
            self.sched.check_items(n, f"line {e.span.line}: `review ... by {n}`")
        if e.keep_all:
            need = n
        elif e.keep is not None:
            need = _count(self.eval(e.keep, f), "keep if", e.span.line)
        else:
            need = n // 2 + 1
        answers: list[list[Value]] = [[None] * n for _ in items]
        scopes: list[list[Scope | None]] = [[None] * n for _ in items]

        async def reviewer(i: int, k: int) -> None:
            binds = {e.var: items[i]}
            if lenses is not None:
                binds[e.lens_var or "_"] = lenses[k]
            copy = f"{copy_noun} {k + 1}"
            g = _with(f, scope=Scope(binds, f.scope), indices=f.indices + (i + 1, k + 1),
                        parts=f.parts + (f"{noun} {i + 1}", copy), copy=copy, sample=k)
            answers[i][k], _ = await self.exec_block(e.body, g)
            scopes[i][k] = g.scope

        async with _nursery() as nursery:
            for i in range(len(items)):
                for k in range(n):
                    nursery.start_soon(reviewer, i, k)
        kept: list[Value] = []
        dropped: list[Value] = []
        counts = {"kept": 0, "rejected": 0, "undecided": 0}
        for i, item in enumerate(items):
            accepts = rejects = abstained = 0
            for k in range(n):
                answer = answers[i][k]
                if answer is None:
                    abstained += 1
                elif V.truthy(self._judge(e.accept, answer, scopes[i][k] or f.scope, f)):
                    accepts += 1
                else:
                    rejects += 1
            status = "kept" if accepts >= need else "rejected" if rejects > n - need else "undecided"
            counts[status] += 1
            if status == "kept":
                kept.append(item)
            else:
                dropped.append({"item": item, "status": status, "accepts": accepts, "rejects": rejects,
                                "abstained": abstained, "verdicts": list(answers[i])})
        self.log(f, f"review (line {e.span.line}): {counts['kept']} kept, {counts['rejected']} rejected, "
                    f"{counts['undecided']} undecided of {len(items)}")
        return kept, dropped

    def _judge(self, cond: ast.Expr, answer: Value, scope: Scope, f: Frame) -> Value:
        """`accept when` / `pick a when`: the answer's fields by name, and `answer`."""
        binds = dict(answer) if isinstance(answer, dict) else {}
        binds["answer"] = answer
        return self.eval(cond, _with(f, scope=Scope(binds, scope)))

    # ------------------------------------------------------------ vote

    async def vote(self, e: ast.Vote, f: Frame) -> Value:
        n = _count(self.eval(e.count, f), "the number of voters", e.span.line)
        self.sched.check_items(n, f"line {e.span.line}: `vote {n}`")
        quorum = _count(self.eval(e.quorum, f), "quorum", e.span.line) if e.quorum is not None else 1
        answers: list[Value] = [None] * n

        async def voter(k: int) -> None:
            g = _with(f, scope=Scope({}, f.scope), indices=f.indices + (k + 1,), parts=f.parts + (f"voter {k + 1}",),
                        copy=f"voter {k + 1}", sample=k)
            answers[k], _ = await self.exec_block(e.body, g)

        async with _nursery() as nursery:
            for k in range(n):
                nursery.start_soon(voter, k)
        groups: dict[str, list[Any]] = {}  # canonical → [count, first answer], in first-voter order
        for a in answers:
            if a is None:
                continue
            g = groups.setdefault(V.canonical(a), [0, a])
            g[0] += 1
        best: list[Any] | None = None
        for g in groups.values():
            if best is None or g[0] > best[0]:  # strict: a tie keeps the earlier group
                best = g
        # The two log lines of the JS helper (voteWinner), which semantics.md leaves open.
        where = f"vote (line {e.span.line})"
        abstained = sum(1 for a in answers if a is None)
        if abstained:
            self.log(f, f"{where}: {abstained} of {n} voters failed")
        if best is None or best[0] < quorum:
            self.log(f, f"{where}: no answer reached the quorum of {quorum}")
            return None
        return best[1]

    # ------------------------------------------------------------ tournament

    async def tournament(self, e: ast.Tournament, f: Frame) -> Value:
        contestants = self._items(e.iter, f, "tournament")
        if not contestants:
            return None

        failed = 0

        async def match(winners: list[Value], m: int, a: Value, b: Value, number: int) -> None:
            nonlocal failed
            g = _with(f, scope=Scope({e.a: a, e.b: b}, f.scope), indices=f.indices + (number,),
                        parts=f.parts + (f"match {number}",))
            answer, _ = await self.exec_block(e.body, g)
            if answer is None:
                failed += 1
                winners[m] = a  # a failed judge advances the first contestant
                return
            picked, other = (a, b) if e.pick == e.a else (b, a)
            winners[m] = picked if V.truthy(self._judge(e.cond, answer, g.scope, f)) else other

        played = 0  # matches are numbered in order of play across the whole bracket
        while len(contestants) > 1:
            pairs = [(contestants[j], contestants[j + 1]) for j in range(0, len(contestants) - 1, 2)]
            bye = [contestants[-1]] if len(contestants) % 2 else []
            winners: list[Value] = [None] * len(pairs)
            async with _nursery() as nursery:
                for m, (a, b) in enumerate(pairs):
                    nursery.start_soon(match, winners, m, a, b, played + m + 1)
            played += len(pairs)
            contestants = winners + bye
        if failed:  # the JS helper's log line (playBracket)
            self.log(f, f"tournament (line {e.span.line}): {failed} of {played} judges failed "
                        "(their first contestant advanced)")
        return contestants[0]

    # ------------------------------------------------------------ repeat and fix

    async def repeat(self, e: ast.Repeat, f: Frame) -> Value:
        k = _count(self.eval(e.max, f), "repeat max", e.span.line)
        value: Value = None
        for r in range(1, k + 1):
            if e.var is not None:
                f.scope.vars[e.var] = r
            value, stopped = await self.exec_block(e.body, _with(f, indices=f.indices + (r,),
                                                                   parts=f.parts + (f"round {r}",), sample=r - 1))
            if stopped:
                cond = source_text(f.prog.program, self._fired.cond.span) if self._fired is not None else "?"
                self.log(f, f"repeat (line {e.span.line}): stopped in round {r} of {k} (stop when {cond})")
                break
        return value

    async def fix(self, e: ast.Fix, f: Frame) -> Value:
        k = _count(self.eval(e.max, f), "fix max", e.span.line)
        stall = _count(self.eval(e.stall, f), "stall", e.span.line) if e.stall is not None else None
        last = await self.eval_rhs(e.check, _with(f, indices=f.indices + (0,), parts=f.parts + ("check 0",),
                                                    sample=0))
        history = [last]
        attempts = 0
        while not _passed(last) and attempts < k:
            attempts += 1
            g = _with(f, indices=f.indices + (attempts,), parts=f.parts + (f"attempt {attempts}",), sample=attempts)
            # `last` (the check's answer so far) and `attempt` are the body's to read; its
            # assignments still land in the enclosing scope (the checker forbids these two)
            saved = {n: f.scope.vars[n] for n in FIX_NAMES if n in f.scope.vars}
            f.scope.vars.update({"last": last, "attempt": attempts})
            try:
                await self.exec_block(e.body, g)
            finally:
                for n in FIX_NAMES:
                    f.scope.vars.pop(n, None)
                f.scope.vars.update(saved)
            last = await self.eval_rhs(e.check, _with(g, parts=f.parts + (f"check {attempts}",)))
            history.append(last)
            if stall is not None and len(history) >= stall + 1 and \
                    all(V.equal(h, last) for h in history[-(stall + 1):]):
                break
        self.log(f, f"fix (line {e.span.line}): {fix_outcome(_passed(last), attempts, k)}")
        return {"passed": _passed(last), "attempts": attempts, "last": last}

    # ------------------------------------------------------------ run "other.wf"

    def _child_program(self, e: ast.RunWorkflow, f: Frame) -> ast.Program:
        if e.program is not None:
            return e.program
        if id(e) in self._children:
            return self._children[id(e)]
        from wflang.dsl.checker import check_program
        from wflang.dsl.diagnostics import WfError
        from wflang.dsl.parser import parse

        path = Path(f.prog.program.file).parent / e.path
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RunError(f'line {e.span.line}: cannot read "{e.path}" ({path}): {exc.strerror}') from None
        try:
            child = parse(source, str(path))
        except WfError as exc:
            d = exc.diagnostics[0]
            raise RunError(f'line {e.span.line}: "{e.path}" does not parse: {d.message}') from None
        result = check_program(child)
        if not result.ok:
            d = next(d for d in result.diagnostics if d.severity == "error")
            raise RunError(f'line {e.span.line}: "{e.path}" does not check: {d.message}')
        self._children[id(e)] = child
        return child

    async def run_child(self, e: ast.RunWorkflow, f: Frame) -> Value:
        if f.prog.is_child:
            raise RunError(f'line {e.span.line}: `run` is one level deep; "{e.path}" is run from a child')
        from wflang.dsl.arguments import validate_args

        child = self._child_program(e, f)
        raw = self.eval(e.args, f) if e.args is not None else None
        values, diags = validate_args(child, raw, child=True)  # the caller built them: extra fields dropped
        if diags:
            raise RunError(f'line {e.span.line}: run "{e.path}": {diags[0].message}')
        info = self._program_info(child, values, is_child=True)
        try:
            return await self._run_program(info, _with(f, scope=Scope(), prog=info), values)
        except ArgumentsRefused as refused:  # the child's own `require` lines, as its bad arguments
            raise RunError(f'line {e.span.line}: run "{e.path}": {refused}') from None

    # ------------------------------------------------------------ pure expressions

    def eval(self, e: ast.Expr, f: Frame) -> Value:
        self._frame = f  # evaluation is synchronous: no other task runs until it returns
        try:
            return self._ev(e, f.scope)
        except V.ValueError_ as exc:
            raise RunError(f"line {e.span.line}: {exc}") from None
        except RecursionError:
            raise RunError(f"line {e.span.line}: this expression nests too deeply") from None

    def _ev(self, e: ast.Expr, s: Scope) -> Value:
        fn = self._expr_dispatch.get(type(e))
        if fn is None:
            raise V.ValueError_(f"a {type(e).__name__} cannot appear inside an expression")
        return fn(e, s)

    def _strlit(self, e: ast.StrLit, s: Scope) -> str:
        # A loop, not a generator: every agent's prompt is one (no generator to resume per part).
        out = []
        for p in e.parts:
            out.append(p if isinstance(p, str) else V.text(self._ev(p, s)))
        return "".join(out)

    def _name(self, e: ast.Name, s: Scope) -> Value:
        found, value = s.lookup(e.id)
        if found:
            return value
        if e.id == "budget":
            return {"remaining": self.sched.budget_remaining(), "total": self.sched.budget_total}
        raise V.ValueError_(f"unknown name `{e.id}`")

    @staticmethod
    def _accessor(path: list[str]) -> Callable[[Value], Value]:
        def get(v: Value) -> Value:
            for name in path:
                v = V.field(v, name)
            return v

        return get

    def _lambda(self, e: ast.Lambda, s: Scope) -> Callable[..., Value]:
        def call(*args: Value) -> Value:
            return self._ev(e.body, Scope(dict(zip(e.params, args, strict=False)), s))

        return call

    def _slice(self, e: ast.Slice, s: Scope) -> Value:
        obj = self._ev(e.obj, s)
        lo = self._ev(e.lo, s) if e.lo is not None else None
        hi = self._ev(e.hi, s) if e.hi is not None else None
        return V.slice_(obj, lo, hi)

    def _binop(self, e: ast.BinOp, s: Scope) -> Value:
        a, b = self._ev(e.left, s), self._ev(e.right, s)
        if e.op == "|":
            return V.merge(a, b)
        return V.arith(e.op, a, b)

    def _boolop(self, e: ast.BoolOp, s: Scope) -> Value:
        a = self._ev(e.left, s)
        if e.op == "and":
            return self._ev(e.right, s) if V.truthy(a) else a
        return a if V.truthy(a) else self._ev(e.right, s)

    def _unary(self, e: ast.UnaryOp, s: Scope) -> Value:
        v = self._ev(e.operand, s)
        return (not V.truthy(v)) if e.op == "not" else V.negate(v)

    def _listcomp(self, e: ast.ListComp, s: Scope) -> list[Value]:
        out: list[Value] = []
        inner = Scope({}, s)

        def walk(i: int) -> None:
            if i == len(e.clauses):
                out.append(self._ev(e.elt, inner))
                return
            c = e.clauses[i]
            if isinstance(c, ast.CompFor):
                for k, x in enumerate(V.iterate(self._ev(c.iter, inner))):
                    inner.vars[c.var] = x
                    if c.index_var is not None:
                        inner.vars[c.index_var] = k
                    walk(i + 1)
            elif V.truthy(self._ev(c.cond, inner)):
                walk(i + 1)

        walk(0)
        return out

    def _key(self, e: ast.Expr, s: Scope) -> Callable[[Value], Value]:
        if isinstance(e, ast.TupleLit):
            parts = [self._key(x, s) for x in e.items]
            return lambda v: [p(v) for p in parts]
        fn = self._ev(e, s)
        if not callable(fn):
            raise V.ValueError_("`by` takes a key: `.field`, a tuple of them, or a lambda")
        return fn

    def _call(self, e: ast.Call, s: Scope) -> Value:
        b = builtins.get(e.func)
        if b is None:
            fn = self._frame.prog.program.function(e.func) if self._frame is not None else None
            if fn is None:
                raise V.ValueError_(f"unknown function `{e.func}`")
            # a `def` of the program (runtime/functions.py): pure, evaluated where it stands
            return call_function(fn, [self._ev(a, s) for a in e.args], Scope, self._ev)
        args = [self._ev(a, s) for a in e.args]
        kwargs: dict[str, Value] = {}
        for k in e.kwargs:
            if k.name == "by":
                kwargs["by"] = self._key(k.value, s)
                if b.keyed:
                    kwargs["compound"] = isinstance(k.value, ast.TupleLit)
            else:
                kwargs[k.name] = self._ev(k.value, s)
        if b.keyed and e.key_orders is not None:
            kwargs["orders"] = e.key_orders
        try:
            value, total = b.run(args, kwargs)
        except TypeError as exc:
            raise V.ValueError_(f"{e.func}(): {exc}") from None
        if total is not None and isinstance(value, list) and len(value) < total and self._frame is not None:
            # a cut: one log line, as the JS helper cutLog writes it
            self.log(self._frame, f"{e.func} (line {e.span.line}): kept {len(value)} of {total} items")
        return value


def _opt_text(opts: dict[str, Value], name: str) -> str | None:
    v = opts.get(name)
    return None if v is None else V.text(v)


class ArgumentsRefused(RunError):
    """A `require` line of the workflow does not hold for its arguments: the message(s),
    joined by "; ". Raised before any agent starts."""


async def run_program(program: ast.Program, args: dict[str, Value], scheduler: Scheduler,
                      observer: RunObserver | None = None) -> RunOutcome:
    """Run a checked program on validated arguments through `scheduler`."""
    with _fewer_young_collections():
        return await Interpreter(program, scheduler, observer).run(args)


# The collector's young generation during a run: each agent makes some thirty short-lived
# containers (its task, coroutines, frame, request, row), so at CPython's default of 700
# allocations a young collection ran every twenty-odd agents, each also scanning what was
# alive (a thousand waiting tasks): 22 K instructions per agent of 1,000 instant agents,
# against nothing measurable at 10,000 (docs/decisions.md, Runtime).
_YOUNG_THRESHOLD = 10_000
# Runs in flight in this process (a child `run`, tests running several): the first sets
# the threshold, the last restores what it was.
_runs_in_flight = 0
_saved_threshold: tuple[int, ...] = ()


@contextmanager
def _fewer_young_collections() -> Iterator[None]:
    global _runs_in_flight, _saved_threshold
    if _runs_in_flight == 0:
        _saved_threshold = gc.get_threshold()
        gc.set_threshold(max(_YOUNG_THRESHOLD, _saved_threshold[0]), *_saved_threshold[1:])
    _runs_in_flight += 1
    try:
        yield
    finally:
        _runs_in_flight -= 1
        if _runs_in_flight == 0:
            gc.set_threshold(*_saved_threshold)
