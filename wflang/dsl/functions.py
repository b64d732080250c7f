"""Small pure functions, `def NAME(p: T, ...) -> R:` (docs/language.md §13b): their check.

A function's body holds assignments, `if`/`elif`/`else` and `return EXPR` over pure
expressions (builtins, comprehensions, calls of functions defined above it). It starts no
agents, so a call costs nothing: A(call) = 0. It sees only its parameters: no input, no
constant, no workflow variable, no `budget`, so its value depends on its arguments alone.

Two passes:

- `check_definitions`: each `def` once, in source order, with its declared parameter
  types (a list parameter without `max` gets a symbolic size named after it). This pass
  reports every mistake in a body: statements that are not pure, names from outside,
  calls of functions below (no recursion), a path that ends without `return`, a return
  that does not fit `R`.
- `call` (a call site): the arguments must fit the parameters; then the body is checked
  again, silently, with the arguments' types: a list parameter has the argument's size,
  and an int parameter given a size known before the run (a literal, a constant, an int
  input with a max, + and × of those) is that size in the body. So the sizes of the result
  are exactly what writing the body out at the call would give. A function calls only the
  functions above it, so this nesting ends: the language stays total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wflang.dsl import ast, builtins
from wflang.dsl.sizes import ZERO, Knob, Sym, Var
from wflang.dsl.span import Span
from wflang.dsl.types import ERROR, NONE, ListT, Opt, Prim, Ranged, Record, Type, is_any, join, strip_opt

if TYPE_CHECKING:  # the checker imports this module; no import cycle at run time
    from wflang.dsl.checker import _Checker, _Scope

# Statements and values a function body may not hold, with what to write instead.
_AGENTFUL = (ast.Agent, ast.Check, ast.Fanout, ast.Review, ast.Vote, ast.Tournament, ast.Repeat, ast.Fix,
             ast.RunWorkflow)
# Silent re-checks of bodies at call sites, per program: far above any real program (a
# call site checks each function it reaches once per distinct argument sizes).
CALL_CHECK_LIMIT = 20000


@dataclass
class FunctionInfo:
    decl: ast.FunctionDef
    index: int  # its place in the file: a body calls only functions with a smaller index
    params: list[tuple[str, Type]]  # the declared types (a list without max: a symbolic size)
    result: Type  # the declared return type
    ok: bool = True  # its definition checked without errors
    memo: dict[Any, Type] = field(default_factory=dict)  # argument types -> the result's type
    outer: list[ast.Name] = field(default_factory=list)  # reads of the workflow's names (WF256)


@dataclass
class FunctionState:
    """The checker's view of the program's functions."""

    table: dict[str, FunctionInfo] = field(default_factory=dict)
    stack: list[FunctionInfo] = field(default_factory=list)  # the bodies being checked, innermost last
    checks: int = 0  # silent body checks so far


def _checker_scope(vars: dict[str, Type]) -> _Scope:
    from wflang.dsl.checker import _Scope

    return _Scope(dict(vars))


def _stop() -> type[Exception]:
    from wflang.dsl.checker import _Stop

    return _Stop


# ---------------------------------------------------------------- definitions


def check_definitions(c: _Checker) -> None:
    """Check every `def` of the program once, in source order (see the module doc). All
    are declared first, so a call of one defined below is refused as such (WF251)."""
    state = c.fns
    infos: list[FunctionInfo] = []
    for i, d in enumerate(c.p.functions):
        if d.name in state.table or d.name in builtins.REGISTRY:
            first = state.table.get(d.name)
            c.error("WF255", f"`{d.name}` is a builtin; a function cannot take its name" if first is None else
                    f"function `{d.name}` is defined twice", d.name_span,
                    "rename the function" if first is None else
                    f"keep one (the first is on line {first.decl.span.line}), or rename this one")
            continue
        params: list[tuple[str, Type]] = []
        seen: set[str] = set()
        for p in d.params:
            if p.name in seen:
                c.error("WF255", f"parameter `{p.name}` appears twice in `{d.name}`", p.span, "rename one")
            elif p.name in builtins.RESERVED or p.name in ("budget", "answer"):
                c.error("WF255", f"`{p.name}` is a builtin name; a parameter cannot take it", p.span,
                        "rename the parameter")
            seen.add(p.name)
            params.append((p.name, _declared(c, p.type, f"len({p.name})", f"parameter `{p.name}` of `{d.name}`")))
        result = c.type_of(d.result, f"the result of `{d.name}`", need_max=False)
        info = FunctionInfo(d, i, params, result)
        state.table[d.name] = info
        infos.append(info)
    for info in infos:
        d, result = info.decl, info.result
        n_errors = len(c.diags)
        _check_names(c, d)
        info.outer = _outer_reads(c, d)
        _, ends = _run_body(c, info, dict(info.params), _range_sizes(info), check_returns=True)
        if not ends:
            c.error("WF252", f"`{d.name}` can end without a `return`", d.name_span,
                    f"end every path of the body with `return EXPR` (a value of type {result.describe()})")
        info.ok = not any(x.severity == "error" for x in c.diags[n_errors:])


def _range_sizes(info: FunctionInfo) -> dict[str, tuple[Sym | None, int]]:
    """Int parameters whose declared range starts at 0 or more: a `range` may start at them."""
    out: dict[str, tuple[Sym | None, int]] = {}
    for name, t in info.params:
        if isinstance(t, Ranged) and t.name == "int" and t.lo is not None and t.lo >= 0:
            out[name] = (None, int(t.lo))
    return out


def _declared(c: _Checker, t: ast.TypeExpr, size_name: str, where: str) -> Type:
    """A parameter's declared type; a list without `max` is sized by its argument, so in
    the definition's own check its size is a symbol named after the parameter."""
    if isinstance(t, ast.OptionalType):
        return Opt(_declared(c, t.inner, size_name, where))
    if isinstance(t, ast.ListType) and t.max is None:
        item = _declared(c, t.item, f"len({size_name}[i])", where)
        c.list_min(t)
        return ListT(item, Var(size_name, Knob(f"the argument of {where}", t.span)), f"{where}, line {t.span.line}")
    return c.type_of(t, where, need_max=False)


def _check_names(c: _Checker, d: ast.FunctionDef) -> None:
    """A body reads only its parameters and its own names; a comprehension or lambda may
    not reuse a parameter's name (an int parameter may stand for a size)."""
    params = {p.name for p in d.params}
    for n in ast.walk(d.body):
        names: list[str] = []
        if isinstance(n, ast.CompFor):
            names = [n.var] + ([n.index_var] if n.index_var else [])
        elif isinstance(n, ast.Lambda):
            names = list(n.params)
        for name in names:
            if name in params:
                c.error("WF255", f"`{name}` is a parameter of `{d.name}`; a loop variable cannot take its name",
                        c.word_span(n.span, name), "pick another name")


def _outer_reads(c: _Checker, d: ast.FunctionDef) -> list[ast.Name]:
    """The names a body reads that belong to the workflow (an input, a constant, a name
    the workflow assigns, `budget`) and that the body does not bind itself."""
    outer = {i.name for i in c.p.inputs} | {t for s in c.p.consts for t in s.targets} | {"budget"}
    for n in ast.walk(c.p.body):
        if isinstance(n, ast.Assign):
            outer.update(n.targets)
    own = {p.name for p in d.params}
    for n in ast.walk(d.body):
        if isinstance(n, ast.Assign):
            own.update(n.targets)
        elif isinstance(n, ast.CompFor):
            own.update(x for x in (n.var, n.index_var) if x)
        elif isinstance(n, ast.Lambda):
            own.update(n.params)
    return [n for n in ast.walk(d.body) if isinstance(n, ast.Name) and n.id in outer and n.id not in own]


def _run_body(c: _Checker, info: FunctionInfo, binds: dict[str, Type],
              sizes: dict[str, tuple[Sym | None, int]],
              check_returns: bool = False) -> tuple[list[tuple[ast.Return, Type]], bool]:
    """Check a body with these parameter types; `sizes`: int parameters whose lower bound
    is known (and, when the Sym is given, that stand for a size known before the run).
    The checker's size tables are the function's own meanwhile: a body sees no input and no
    constant. `check_returns`: the definition's pass, which reports every mistake."""
    d = info.decl
    scope = _checker_scope(binds)
    for n in info.outer:
        scope.vars[n.id] = ERROR  # reported in the definition's pass; silent afterwards
    saved = (c.int_inputs, c.int_mins, c.const_ints)
    c.int_inputs = {k: s for k, (s, _) in sizes.items() if s is not None}  # type: ignore[misc]
    c.int_mins = {k: (lo, d.span) for k, (_, lo) in sizes.items()}
    c.const_ints = {}
    c.fns.stack.append(info)
    try:
        if check_returns:
            for n in info.outer:
                what = "the run's budget" if n.id == "budget" else f"`{n.id}`, a name of the workflow"
                c.error("WF256", f"a function reads only its parameters, not {what}", n.span,
                        f"add a parameter to `{d.name}` and pass the value at the call"
                        if n.id != "budget" else "a function's value depends on its arguments alone")
        st = _Body(c, info, check_returns)
        ends = st.block(d.body, scope)
        return st.returns, ends
    finally:
        c.fns.stack.pop()
        c.int_inputs, c.int_mins, c.const_ints = saved


class _Body:
    """The statements of one body: which are allowed, what each return gives, and whether
    every path returns."""

    def __init__(self, c: _Checker, info: FunctionInfo, check_returns: bool) -> None:
        self.c = c
        self.info = info
        self.d = info.decl
        self.params = {p.name for p in self.d.params}
        self.check_returns = check_returns  # the definition's pass: each return must fit R
        self.returns: list[tuple[ast.Return, Type]] = []

    def block(self, stmts: list[ast.Stmt], scope: _Scope) -> bool:
        """Whether every path through `stmts` returns."""
        for i, s in enumerate(stmts):
            if self.stmt(s, scope):
                if i + 1 < len(stmts):
                    self.c.error("WF252", "this statement never runs: every path before it returns",
                                 stmts[i + 1].span, "remove it, or let a branch go on")
                return True
        return False

    def value(self, e: ast.Expr, scope: _Scope) -> Type:
        if isinstance(e, _AGENTFUL):
            self.c.error("WF250", f"a function starts no agents: `{self.c.source(e).split(' ')[0]}` cannot stand "
                         f"in `{self.d.name}`", e.span,
                         "start agents in the workflow and pass their answers to the function")
            return ERROR
        try:
            return self.c.expr(e, scope)
        except _stop():
            return ERROR

    def stmt(self, s: ast.Stmt, scope: _Scope) -> bool:
        c = self.c
        if isinstance(s, ast.Assign):
            t = self.value(s.value, scope)
            if len(s.targets) != 1:
                c.error("WF250", "a function assigns one name at a time", c.targets_span(s), "assign to one name")
                return False
            name = s.targets[0]
            if name in self.params:
                c.error("WF255", f"`{name}` is a parameter of `{self.d.name}` and cannot be reassigned",
                        c.word_span(s.span, name), "assign to a new name")
                return False
            c.bind(name, t, scope, s.span)
            return False
        if isinstance(s, ast.Return):
            t = self.value(s.value, scope)
            self.returns.append((s, t))
            result = self.info.result
            if self.check_returns and t is not ERROR and not (
                    _fits(c, s.value, t, result, scope) and _in_range(c, s.value, t, result)):
                c.error("WF254", f"`{self.d.name}` returns {t.describe()} here, not {result.describe()} as declared",
                        s.value.span, f"return a value of type {result.describe()}, or change `-> "
                        f"{c.source(self.d.result)}`")
            return True
        if isinstance(s, ast.If):
            self.value(s.cond, scope)
            return self.branches(s, scope)
        word = {ast.Log: "log", ast.Fail: "fail", ast.StopWhen: "stop when", ast.Phase: "phase"}.get(type(s))
        if word is not None:
            c.error("WF250", f"`{word}` cannot stand in a function", s.span,
                    "a function computes a value and nothing else: do this in the workflow, with the value")
            return False
        if isinstance(s, ast.ExprStmt):
            if isinstance(s.value, ast.Fanout) and s.value.sequential:
                c.error("WF250", "a function has no `for` blocks", s.span,
                        "write a comprehension, `[g(x) for x in xs]`, with a function `g` (above this one) "
                        "for the steps of one item")
            elif isinstance(s.value, _AGENTFUL):
                self.value(s.value, scope)
            else:
                c.error("WF250", "an expression with no effect", s.span,
                        "a function's value is what it returns: write `return EXPR`, or assign it to a name")
            return False
        return False

    def branches(self, s: ast.If, scope: _Scope) -> bool:
        """Both branches from the same names; afterwards each name a branch that goes on
        wrote has the join of the branches that go on (a name only one of them binds may
        be `none`, as both targets declare every local first)."""
        from wflang.dsl.checker import _MISSING, _Vars

        names = scope.vars
        assert isinstance(names, _Vars)
        mark = names.mark()
        try:
            end1 = self.block(s.then, scope)
            old1 = names.touched(mark)
            new1 = {n: names.get(n, _MISSING) for n in old1}
            names.undo(mark)
            end2 = self.block(s.orelse, scope)
            old2 = names.touched(mark)
            new2 = {n: names.get(n, _MISSING) for n in old2}
            names.undo(mark)
        finally:
            names.release()
        if end1 and end2:
            return True
        going = [(old, new) for (old, new), end in (((old1, new1), end1), ((old2, new2), end2)) if not end]
        if len(going) == 1:
            for n, t in going[0][1].items():
                if t is not _MISSING:
                    names[n] = t
            return False
        for n in dict.fromkeys([*old1, *old2]):
            a = new1[n] if n in new1 else old2[n]
            b = new2[n] if n in new2 else old1[n]
            if a is not _MISSING and b is not _MISSING:
                names[n] = join(a, b)
            elif a is not _MISSING or b is not _MISSING:
                names[n] = join(a if a is not _MISSING else b, NONE)
        return False


def _fits(c: _Checker, e: ast.Expr, t: Type, target: Type, scope: _Scope) -> bool:
    try:
        return t == NONE and isinstance(target, Opt) or c.fits(e, t, target, scope)
    except _stop():
        return True


# ---------------------------------------------------------------- call sites


def _once(c: _Checker, code: str, msg: str, span: Span | None, hint: str | None = None,
          notes: list[str] | None = None) -> None:
    """A call-site error, once: the checker may type an expression twice (a count is typed
    again for its range)."""
    if not any(d.code == code and d.span == span and d.message == msg for d in c.diags):
        c.error(code, msg, span, hint, notes)


def call(c: _Checker, info: FunctionInfo, e: ast.Call, scope: _Scope) -> Type:
    """The type of `f(args)`: the arguments must fit; the result's sizes come from the body
    checked with the arguments' types (see the module doc)."""
    d = info.decl
    state = c.fns
    if state.stack:
        caller = state.stack[-1]
        if info.index >= caller.index:
            _once(c, "WF251", f"`{caller.decl.name}` calls itself" if info is caller else
                    f"`{caller.decl.name}` calls `{d.name}`, which is defined below it", c.word_span(e.span, e.func),
                    "a function may call only the functions defined above it (no recursion, so every "
                    "workflow ends)" + ("" if info is caller else f": move `{d.name}` above line "
                                       f"{caller.decl.span.line}"))
            raise _stop()
    args = [c.expr(a, scope) for a in e.args]
    usage = f"{d.name}({', '.join(c.source(p) for p in d.params)})"
    if e.kwargs:
        _once(c, "WF253", f"`{d.name}` takes its arguments by position", e.kwargs[0].span, f"write {usage}")
        raise _stop()
    if len(args) != len(info.params):
        n = len(info.params)
        _once(c, "WF253", f"`{d.name}` takes {n} argument{'' if n == 1 else 's'}, not {len(args)}", e.span,
                f"write {usage}")
        raise _stop()
    binds: dict[str, Type] = {}
    sizes = _range_sizes(info)
    bad = False
    for a, t, (name, declared), p in zip(e.args, args, info.params, d.params, strict=True):
        if t is ERROR:
            bad = True
            continue
        if not _fits(c, a, t, declared, scope) or not _in_range(c, a, t, declared):
            _once(c, "WF253", f"the argument `{name}` of `{d.name}` is {t.describe()}, not {declared.describe()}",
                    a.span, f"pass a value of type {c.source(p.type)}")
            bad = True
            continue
        given = strip_opt(t)
        if isinstance(strip_opt(declared), ListT) and not isinstance(given, ListT) and t != NONE:
            _once(c, "WF305", f"{d.name}: the size of the argument `{name}` is not known", a.span,
                    "pass a list whose maximum is declared or derived")
            bad = True
            continue
        if not _within_max(c, a, t, p.type, d, name):
            bad = True
            continue
        binds[name] = _refine(declared, t)
        if isinstance(declared, Prim) and declared.name == "int":
            # an int known never to go below 0: the body may start a range at it; one known
            # before the run (a literal, a constant, an int input): the body's sizes use it
            lo = c.lower_bound(a, scope)
            if lo is not None and lo >= 0:
                lo = max(lo, sizes[name][1]) if name in sizes else lo
                sizes[name] = (c.size_of(a, f"`{name}` of {d.name}") if c._static_size(a) else None, lo)
    if bad or not info.ok:
        return info.result
    return _result(c, info, e, binds, sizes)


def _result(c: _Checker, info: FunctionInfo, e: ast.Call, binds: dict[str, Type],
            sizes: dict[str, tuple[Sym | None, int]]) -> Type:
    key = (tuple(_type_key(binds[n]) for n, _ in info.params),
           tuple(sorted((k, None if s is None else _size_key(s), lo) for k, (s, lo) in sizes.items())))
    found = info.memo.get(key)
    if found is None:
        state = c.fns
        state.checks += 1
        if state.checks > CALL_CHECK_LIMIT:
            _once(c, "WF320", f"checking the calls of `{info.decl.name}` takes more than {CALL_CHECK_LIMIT} passes "
                    "over function bodies", e.span, "name intermediate results in the workflow, or pass fewer "
                    "lists of different sizes")
            raise _stop()
        n = len(c.diags)
        # The key orders the checker writes on sort/top calls come from the declared types
        # (the definition's pass): one per call node, whatever the arguments.
        calls = [x for x in ast.walk(info.decl.body) if isinstance(x, ast.Call)]
        orders = [x.key_orders for x in calls]
        try:
            returns, _ = _run_body(c, info, binds, sizes)
        finally:
            for x, o in zip(calls, orders, strict=True):
                x.key_orders = o
        found_errors = [x for x in c.diags[n:] if x.severity == "error"]
        del c.diags[n:]
        if found_errors:
            # The definition checks with its declared types; these arguments (of a type the
            # checker does not know, or of sizes that break a limit deeper in the calls) do not.
            first = found_errors[0]
            where = f"line {first.span.line}: " if first.span is not None else ""
            _once(c, "WF253", f"`{info.decl.name}` does not check with these arguments", e.span, first.hint,
                  [f"{where}{first.message}", *first.notes])  # a deeper call adds its own line
            raise _stop()
        got: Type | None = None
        for _, t in returns:
            got = t if got is None else join(got, t)
        found = _shape(info.result, got if got is not None else NONE)
        info.memo[key] = found
    _check_result_max(c, info, e, found)
    return found


def _within_max(c: _Checker, a: ast.Expr, t: Type, texpr: ast.TypeExpr, d: ast.FunctionDef, name: str) -> bool:
    """A list parameter declared `list[T] max N` takes only arguments of at most N items."""
    inner = texpr.inner if isinstance(texpr, ast.OptionalType) else texpr
    given = strip_opt(t)
    if not (isinstance(inner, ast.ListType) and isinstance(inner.max, ast.IntLit) and isinstance(given, ListT)):
        return True
    most = _worst(c, given.max)
    if most is None or most <= inner.max.value:
        return True
    _once(c, "WF320", f"the argument `{name}` of `{d.name}` can have {most} items; the parameter takes at most "
            f"{inner.max.value}", a.span, f"pass take(xs, {inner.max.value}), or raise the parameter's max "
            f"(line {d.span.line})", [f"size {given.max.show()} = {most}"])
    return False


def _check_result_max(c: _Checker, info: FunctionInfo, e: ast.Call, got: Type) -> None:
    """`-> list[T] max N`: the result, sized from the arguments, must never pass N."""
    texpr = info.decl.result
    inner = texpr.inner if isinstance(texpr, ast.OptionalType) else texpr
    lt = strip_opt(got)
    if not (isinstance(inner, ast.ListType) and isinstance(inner.max, ast.IntLit) and isinstance(lt, ListT)):
        return
    most = _worst(c, lt.max)
    if most is not None and most > inner.max.value:
        _once(c, "WF320", f"`{info.decl.name}` can return {most} items here; it declares at most {inner.max.value}",
                e.span, f"cut the result in the body, `return take(..., {inner.max.value})`, or raise the max "
                f"(line {info.decl.span.line})", [f"size {lt.max.show()} = {most}"])


def _worst(c: _Checker, s: Sym) -> int | None:
    """The largest value of a size for any arguments (sizes are monotone); None when it
    depends on a parameter of a function being defined."""
    try:
        return s.eval({i.name: i.max for i in c.inputs})
    except KeyError:
        return None


def _in_range(c: _Checker, a: ast.Expr, t: Type, declared: Type) -> bool:
    """A value for `int min A max B` (a parameter, a result) must lie in the range for
    certain: a literal in it, or an int whose range the checker knows and that lies inside
    (a declared range, an int input or constant, a size known before the run)."""
    target = strip_opt(declared)
    if not isinstance(target, Ranged):
        return True
    if isinstance(a, (ast.IntLit, ast.FloatLit)):
        return (target.lo is None or a.value >= target.lo) and (target.hi is None or a.value <= target.hi)
    given = strip_opt(t)
    if isinstance(given, Ranged):
        return _inside(given, target)
    if target.name == "int" and c._static_size(a):  # a literal, an int input with a max, a constant, + and ×
        lo = c.lower_bound(a, None)
        hi = _worst(c, c.size_of(a, "an argument"))
        return lo is not None and hi is not None and _inside(Ranged("int", lo, hi), target)
    return False


def _inside(g: Ranged, declared: Prim) -> bool:
    if not isinstance(declared, Ranged):
        return True
    return ((declared.lo is None or (g.lo is not None and g.lo >= declared.lo))
            and (declared.hi is None or (g.hi is not None and g.hi <= declared.hi)))


def _refine(declared: Type, given: Type) -> Type:
    """What the body sees for a parameter: the declared type with the argument's sizes
    (and an int's declared range). An argument of a type the checker does not know stays
    unknown, so no size is made up for it."""
    g = strip_opt(given)
    if is_any(g):
        return given
    if isinstance(declared, Opt):
        return Opt(_refine(declared.inner, g)) if g != NONE else declared
    if isinstance(declared, ListT) and isinstance(g, ListT):
        return ListT(_refine(declared.item, g.item), g.max, g.why)
    if isinstance(declared, Record) and isinstance(g, Record):
        return Record(declared.name, {k: _refine(v, g.fields[k]) if k in g.fields else v
                                      for k, v in declared.fields.items()})
    if isinstance(g, Ranged) and type(declared) is Prim and declared.name == g.name:
        return g
    return declared


def _shape(declared: Type, got: Type) -> Type:
    """The call's type: the declared result, with the sizes the body derived. A list (or a
    record) whose type the body does not know stays unknown: its size is never made up."""
    g = strip_opt(got)
    if is_any(g):
        return got
    if isinstance(declared, Opt):
        if g == NONE:  # always none: a list that is none has no items
            return Opt(_empty(declared.inner))
        return Opt(_shape(declared.inner, g))
    if isinstance(declared, ListT):
        return ListT(_shape(declared.item, g.item), g.max, g.why) if isinstance(g, ListT) else _empty(declared)
    if isinstance(declared, Record) and isinstance(g, Record):
        return Record(declared.name, {k: _shape(v, g.fields[k]) if k in g.fields else v
                                      for k, v in declared.fields.items()})
    if isinstance(g, Ranged) and isinstance(declared, Prim) and declared.name == g.name and _inside(g, declared):
        return g  # the range the body proves, inside the declared one
    return declared


def _empty(t: Type) -> Type:
    """`t` for a value that is none: a list type of max 0."""
    return ListT(t.item, ZERO, "none") if isinstance(t, ListT) else t


def _type_key(t: Type) -> Any:
    """A hashable key of a type, sizes included (for the memo of call results)."""
    if isinstance(t, ListT):
        return ("L", _type_key(t.item), _size_key(t.max))
    if isinstance(t, Record):
        return ("R", t.name, tuple((k, _type_key(v)) for k, v in t.fields.items()))
    if isinstance(t, Opt):
        return ("O", _type_key(t.inner))
    try:
        hash(t)
        return t
    except TypeError:
        return ("?", id(t))


_SIZE_KEYS: dict[int, Any] = {}


def _size_key(s: Sym) -> Any:
    """A size's formula without its knobs (which literal each number came from): two
    calls with sizes of the same formula share one check of the body."""
    found = _SIZE_KEYS.get(s._sid)
    if found is not None:
        return found
    stack: list[tuple[Sym, bool]] = [(s, False)]
    while stack:  # post-order, without recursion (formulas can nest deeply)
        x, ready = stack.pop()
        if x._sid in _SIZE_KEYS:
            continue
        kids = x.kids()
        if not ready and any(k._sid not in _SIZE_KEYS for k in kids):
            stack.append((x, True))
            stack.extend((k, False) for k in kids if k._sid not in _SIZE_KEYS)
            continue
        if isinstance(x, Var):
            key: Any = ("V", x.name)
        elif not kids:
            key = (type(x).__name__, x.eval({}))
        else:
            ints = tuple(getattr(x, f) for f in ("n", "c", "r") if isinstance(getattr(x, f, None), int))
            key = (type(x).__name__, ints, tuple(_SIZE_KEYS[k._sid] for k in kids))
        _SIZE_KEYS[x._sid] = key
    return _SIZE_KEYS[s._sid]
