"""The syntax tree of a `.wf` program.

Every node carries its source `span`. Nodes compare by identity (`eq=False`) so the
checker can key side tables by node. The checker fills the few annotation fields marked
"set by the checker"; both back ends (the JS emitter and the trio interpreter) read the
same tree, so this module is the contract between the front end and the back ends.

Value semantics both back ends share (docs/language.md has the full text):
- a failed agent is None; `.field` on None is None;
- a block's value is the value of its last statement (an expression statement, or the
  value just assigned by an assignment), None when there is none;
- lists are ordered; records are dicts with string keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wflang.dsl.reprs import field_repr
from wflang.dsl.span import NOWHERE, Span, source_lines


@dataclass(eq=False, repr=False)
class Node:
    """The base of every tree node: where in the source it was written (`span`)."""

    __repr__ = field_repr  # the dataclass text, made on demand (reprs.py)

    span: Span = field(default=NOWHERE, kw_only=True)


# ---------------------------------------------------------------- types (as written)


@dataclass(eq=False, repr=False)
class TypeExpr(Node):
    """A type as the program writes it (resolved by the checker into types.py's types)."""


@dataclass(eq=False, repr=False)
class NamedType(TypeExpr):
    """`str`, `int`, `float`, `bool`, or a record declared with `type`. `min`/`max` bound
    an `int` or a `float` (`input rounds: int min 1 max 10`; an int input without `min`
    has the lower bound 0, docs/language.md) and a `str`'s length in code points."""

    name: str
    max: Expr | None = None
    min: Expr | None = None


@dataclass(eq=False, repr=False)
class ListType(TypeExpr):
    """`list[T] max N [min M]`: the list's maximum is what makes a fan-out's agent count provable."""

    item: TypeExpr
    max: Expr | None  # an IntLit or a Name of an int input with a declared max
    min: Expr | None = None  # `list[T] min 1`: an IntLit, JSON Schema minItems


@dataclass(eq=False, repr=False)
class MapType(TypeExpr):
    """`map[str, T] max N`: a record whose string keys are known only at run time."""

    key: TypeExpr  # always `str` (the checker refuses any other)
    value: TypeExpr
    max: Expr | None  # as ListType.max
    min: Expr | None = None  # `map[str, T] min 1`: an IntLit, JSON Schema minProperties


@dataclass(eq=False, repr=False)
class UnionType(TypeExpr):
    """A union of string literals: `"low" | "medium" | "high"`. Order matters: it is
    the ranking `sort`/`top` use for values of this type."""

    options: list[str]


@dataclass(eq=False, repr=False)
class LiteralType(TypeExpr):
    """A union of literals that are not all strings: `1 | 2 | 3`, `true | "auto"`. Its
    schema is an `enum`; a value is one of `options` (JSON equality: `true` is not `1`)."""

    options: list[Any]


@dataclass(eq=False, repr=False)
class AnyOfType(TypeExpr):
    """A union of types: `int | str`, `Finding | list[Finding] max 3`, `int | "auto"` (the
    literals gathered into one UnionType or LiteralType option). `none` among the options
    makes the parser wrap it in OptionalType. Its schema is an `anyOf`; a value is the first
    option that fits."""

    options: list[TypeExpr]


@dataclass(eq=False, repr=False)
class OptionalType(TypeExpr):
    """`T?` or `T | none`: `inner`, or none."""

    inner: TypeExpr


# ---------------------------------------------------------------- expressions


@dataclass(eq=False, repr=False)
class Expr(Node):
    """The base of the expressions (agent-starting ones and blocks with a value too)."""


@dataclass(eq=False, repr=False)
class StrLit(Expr):
    """A string; `parts` alternates plain text and `{expr}` interpolations. A string
    without interpolation has exactly one `str` part (possibly empty)."""

    parts: list[str | Expr]

    @property
    def is_plain(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def text(self) -> str:
        """The literal text of a plain string."""
        return "".join(p for p in self.parts if isinstance(p, str))


@dataclass(eq=False, repr=False)
class IntLit(Expr):
    """An integer literal."""

    value: int


@dataclass(eq=False, repr=False)
class FloatLit(Expr):
    """A float literal."""

    value: float


@dataclass(eq=False, repr=False)
class BoolLit(Expr):
    """`true` or `false`."""

    value: bool


@dataclass(eq=False, repr=False)
class NoneLit(Expr):
    """`none`."""


@dataclass(eq=False, repr=False)
class Name(Expr):
    """A variable, an input or a constant, by name."""

    id: str


@dataclass(eq=False, repr=False)
class Field(Expr):
    """`obj.name`. On None it yields None."""

    obj: Expr
    name: str


@dataclass(eq=False, repr=False)
class Accessor(Expr):
    """`.a.b` alone: a key function, usable where a key is expected (`by=.severity`)."""

    path: list[str]


@dataclass(eq=False, repr=False)
class Index(Expr):
    """`obj[index]`: a list item or a map's value."""

    obj: Expr
    index: Expr


@dataclass(eq=False, repr=False)
class Slice(Expr):
    """`obj[lo:hi]`, either bound optional, as in Python."""

    obj: Expr
    lo: Expr | None
    hi: Expr | None


@dataclass(eq=False, repr=False)
class BinOp(Expr):
    """An arithmetic operation, string concatenation, or `|` (record merge)."""

    op: str  # "+", "-", "*", "/", "%", "|" (record merge)
    left: Expr
    right: Expr


@dataclass(eq=False, repr=False)
class Compare(Expr):
    """A comparison of two values: true or false."""

    op: str  # "==", "!=", "<", "<=", ">", ">=", "in", "not in"
    left: Expr
    right: Expr


@dataclass(eq=False, repr=False)
class BoolOp(Expr):
    """`and` / `or`."""

    op: str  # "and", "or": short-circuit, value is the deciding operand (as in Python)
    left: Expr
    right: Expr


@dataclass(eq=False, repr=False)
class UnaryOp(Expr):
    """`not x` or `-x`."""

    op: str  # "not", "-"
    operand: Expr


@dataclass(eq=False, repr=False)
class CondExpr(Expr):
    """`then if cond else orelse`."""

    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(eq=False, repr=False)
class ListLit(Expr):
    """`[a, b, ...]`."""

    items: list[Expr]


@dataclass(eq=False, repr=False)
class TupleLit(Expr):
    """`(a, b)`: a fixed-size list; mostly used for compound keys `by=(.file, .line)`."""

    items: list[Expr]


@dataclass(eq=False, repr=False)
class DictLit(Expr):
    """`{key: value, ...}`: a record literal, its keys in written order."""

    entries: list[tuple[str, Expr]]


@dataclass(eq=False, repr=False)
class CompFor(Node):
    """`for x in C` (or `for i, x in enumerate(C)`) inside a list comprehension."""

    var: str
    iter: Expr
    index_var: str | None = None  # `for i, x in enumerate(C)`: the item's index, from 0


@dataclass(eq=False, repr=False)
class CompIf(Node):
    """`if COND` inside a list comprehension: keeps the items for which it holds."""

    cond: Expr


@dataclass(eq=False, repr=False)
class ListComp(Expr):
    """`[elt for x in C if ...]`."""

    elt: Expr
    clauses: list[CompFor | CompIf]  # the first is always a CompFor


@dataclass(eq=False, repr=False)
class Lambda(Expr):
    """`lambda a, b: body`, as a key (`by=lambda f: ...`)."""

    params: list[str]
    body: Expr


@dataclass(eq=False, repr=False)
class Keyword(Node):
    """`name=value` in a call."""

    name: str
    value: Expr


@dataclass(eq=False, repr=False)
class Call(Expr):
    """A builtin call, or a call of a function the program defines (`def`, FunctionDef):
    a builtin's name is never a function's (the checker refuses it)."""

    func: str
    args: list[Expr]
    kwargs: list[Keyword]
    # Set by the checker for `sort`/`top`/`min`/`max`/`unique` keys: one entry per key
    # component (a tuple key `by=(.a, .b)` has two). An entry is the declared order of a
    # string union (the ranking the back ends use for it), or None for natural order.
    key_orders: list[list[str] | None] | None = None


# ---------------------------------------------------------------- agent-starting expressions


@dataclass(eq=False, repr=False)
class Option(Node):
    """`name=value` in `with ...` and `defaults ...`."""

    name: str
    value: Expr


@dataclass(eq=False, repr=False)
class Agent(Expr):
    """`agent PROMPT [-> T] [with k=v, ...] [else FALLBACK]`: one subagent."""

    prompt: Expr
    result: TypeExpr | None  # None: the final text (str)
    options: list[Option]
    fallback: Expr | None = None  # `else E`: the value when the agent fails (not a failure then)


@dataclass(eq=False, repr=False)
class Check(Expr):
    """`check PROMPT [with ...]`: an agent returning {passed: bool, details: str}."""

    prompt: Expr
    options: list[Option]


@dataclass(eq=False, repr=False)
class RunWorkflow(Expr):
    """`run "other.wf" [with ARGS]`: another workflow inline, one level deep."""

    path: str
    args: Expr | None
    # Set by the loader when it resolves the file: the checked program of the child.
    program: Program | None = None


# ---------------------------------------------------------------- block constructs (expressions)


@dataclass(eq=False, repr=False)
class Fanout(Expr):
    """`fanout x in C [with concurrency=N]: BODY` (concurrent) and `for x in C: BODY`
    (sequential, `sequential=True`). A `stop when` may only open the body."""

    var: str
    iter: Expr
    body: list[Stmt]
    options: list[Option] = field(default_factory=list)
    sequential: bool = False
    index_var: str | None = None  # `fanout i, x in enumerate(C)`: the item's index, from 0


@dataclass(eq=False, repr=False)
class Review(Expr):
    """`review x in C by N [keep if K]:` or `review x in C by v in L [keep if K|all]:`
    REVIEWER... `accept when EXPR`. `keep` None means a majority of the reviewers."""

    var: str
    iter: Expr
    count: Expr | None  # `by N`
    lens_var: str | None  # `by v in L`
    lenses: Expr | None
    keep: Expr | None
    keep_all: bool
    body: list[Stmt]
    accept: Expr
    accept_span: Span = NOWHERE


@dataclass(eq=False, repr=False)
class Vote(Expr):
    """`vote N [quorum K]: AGENT...`: N independent answers, the most frequent wins."""

    count: Expr
    quorum: Expr | None
    body: list[Stmt]


@dataclass(eq=False, repr=False)
class Tournament(Expr):
    """`tournament a vs b in C: JUDGE... pick a when COND`: a single-elimination bracket."""

    a: str
    b: str
    iter: Expr
    body: list[Stmt]
    pick: str  # the name after `pick`: a or b
    cond: Expr


@dataclass(eq=False, repr=False)
class Repeat(Expr):
    """`repeat max K [as i]: BODY` with `stop when COND` statements inside."""

    max: Expr
    var: str | None
    body: list[Stmt]


@dataclass(eq=False, repr=False)
class Fix(Expr):
    """`fix max K [stall N]: BODY until CHECK`: value {passed, attempts, last}."""

    max: Expr
    stall: Expr | None
    body: list[Stmt]
    check: Expr  # a Check (or an Agent returning a record with `passed`)


# ---------------------------------------------------------------- statements


@dataclass(eq=False, repr=False)
class Stmt(Node):
    """The base of the statements."""


@dataclass(eq=False, repr=False)
class Assign(Stmt):
    """`x = value` or `a, b = value` (tuple unpacking; only of `review`, which yields
    kept, dropped)."""

    targets: list[str]
    value: Expr


@dataclass(eq=False, repr=False)
class ExprStmt(Stmt):
    """An expression on its own line (its value is the block's value if it is last)."""

    value: Expr


@dataclass(eq=False, repr=False)
class If(Stmt):
    """`if` / `elif` / `else`."""

    cond: Expr
    then: list[Stmt]
    orelse: list[Stmt]  # `elif` is a nested If here


@dataclass(eq=False, repr=False)
class Log(Stmt):
    """`log MESSAGE`: a line in the run's story and journal."""

    message: Expr


@dataclass(eq=False, repr=False)
class Fail(Stmt):
    """`fail MESSAGE`: the run ends here as failed, with the message (text of the value)."""

    message: Expr


@dataclass(eq=False, repr=False)
class StopWhen(Stmt):
    """`stop when COND`: ends a `repeat` once COND holds; opening a fan-out body, skips the
    items left once it holds (a budget guard)."""

    cond: Expr


@dataclass(eq=False, repr=False)
class Return(Stmt):
    """`return VALUE`: the workflow's result."""

    value: Expr


@dataclass(eq=False, repr=False)
class Phase(Stmt):
    """`phase "Title": BODY`: the agents started inside are shown under this title."""

    title: str
    body: list[Stmt]
    title_span: Span = NOWHERE


# ---------------------------------------------------------------- declarations and the program


@dataclass(eq=False, repr=False)
class Header(Node):
    """`workflow NAME:` and its entries (description, when, permissions)."""

    name: str
    description: str | None = None
    when: str | None = None  # becomes meta.whenToUse
    permissions: list[str] = field(default_factory=list)
    fields: dict[str, Span] = field(default_factory=dict)  # where each entry was written


@dataclass(eq=False, repr=False)
class InputDecl(Node):
    """`input NAME: T [raw] [= DEFAULT]`; `raw`: the input that receives the text of a
    `/NAME some text` launch (a string argument), docs/semantics.md "Arguments"."""

    name: str
    type: TypeExpr
    default: Expr | None
    raw: bool = False


@dataclass(eq=False, repr=False)
class Require(Node):
    """`require COND, MESSAGE`: an argument check; when COND does not hold for the given
    arguments the run fails with MESSAGE before any agent starts."""

    cond: Expr
    message: Expr


@dataclass(eq=False, repr=False)
class Param(Node):
    """`name: T`, one parameter of a `def`."""

    name: str
    type: TypeExpr


@dataclass(eq=False, repr=False)
class FunctionDef(Node):
    """`def NAME(p: T, ...) -> R:` BODY: a small pure function (wflang/dsl/functions.py).
    Its body holds assignments, `if`/`elif`/`else` and `return`, over pure expressions;
    it may call only the functions defined above it, so there is no recursion."""

    name: str
    params: list[Param]
    result: TypeExpr
    body: list[Stmt]
    name_span: Span = NOWHERE


@dataclass(eq=False, repr=False)
class FieldDecl(Node):
    """`name: T`, or `name?: T` (`omittable`: the model may leave it out; it reads as
    `none`, so the parser wraps `type` in OptionalType). `doc` is the description string
    written after the type, carried into the JSON Schema."""

    name: str
    type: TypeExpr
    omittable: bool = False
    doc: str | None = None


@dataclass(eq=False, repr=False)
class TypeDecl(Node):
    """`type NAME:` with its fields: a record type and the JSON Schema of answers of that type."""

    name: str
    fields: list[FieldDecl]
    doc: str | None = None  # the string line under `type T:`, the schema's description


@dataclass(eq=False, repr=False)
class BudgetLimit(Node):
    """One line of `budget`: a limit the checker proves the program stays within."""

    key: str  # "agents" | "output_tokens" | "concurrency"
    value: Expr


@dataclass(eq=False, repr=False)
class Program(Node):
    """A whole `.wf` file: its header, declarations and statements, as parsed."""

    file: str
    source: str
    header: Header
    inputs: list[InputDecl]
    types: list[TypeDecl]
    defaults: list[Option]
    budget: list[BudgetLimit]
    consts: list[Assign]  # top-level `NAME = pure expression` before any statement
    body: list[Stmt]  # phases and top-level statements, in order; `return` is last
    # `require` argument checks, in source order: run after the arguments and constants,
    # before the first statement (docs/semantics.md "Arguments")
    requires: list[Require] = field(default_factory=list)
    # `def` functions, in source order (a function calls only those above it)
    functions: list[FunctionDef] = field(default_factory=list)

    def function(self, name: str) -> FunctionDef | None:
        """The function the program defines under `name` (the first, if twice)."""
        return next((f for f in self.functions if f.name == name), None)

    def phases(self) -> list[Phase]:
        """Every phase block, in source order: the top-level ones and those in a top-level
        `if` (entered only when its branch runs)."""
        out: list[Phase] = []

        def visit(stmts: list[Stmt]) -> None:
            for s in stmts:
                if isinstance(s, Phase):
                    out.append(s)
                elif isinstance(s, If):
                    visit(s.then)
                    visit(s.orelse)

        visit(self.body)
        return out

    def source_line(self, n: int) -> str:
        """Line n (1-based) of the source; split once, on first use."""
        lines = self.__dict__.get("_lines")
        if lines is None:
            lines = self.__dict__["_lines"] = source_lines(self.source)
        return lines[n - 1] if 1 <= n <= len(lines) else ""


AGENT_OPTIONS = ("model", "effort", "label", "phase", "agent_type", "isolation", "max_output_tokens", "tools")
EFFORTS = ("low", "medium", "high", "xhigh", "max")


def ends_item(e: Expr) -> bool:
    """Whether a None from this fan-out step is an agent's failure that ends the item: an
    `agent` or `check` step, unless the agent has a fallback (`else E`), whose value is kept."""
    return isinstance(e, Check) or (isinstance(e, Agent) and e.fallback is None)


def toolless(options: list[Option], defaults: list[Option]) -> bool:
    """Whether an agent with these options (and its program's defaults) is tool-less
    (`tools=none`): it sees only its prompt, so it can go through the Message Batches API."""
    for opts in (options, defaults):
        for o in opts:
            if o.name == "tools":
                return isinstance(o.value, NoneLit)
    return False

Value = bool | int | float | str | list[Any] | dict[str, Any] | None


def walk(node: Any):
    """Every node below (and including) `node`, depth first, in source order."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Node):
            yield cur
            # A child program of `run` is walked on its own, not as part of its parent.
            children = [getattr(cur, f) for f in cur.__dataclass_fields__ if f not in ("span", "program")]
            stack.extend(reversed(children))
        elif isinstance(cur, (list, tuple)):
            stack.extend(reversed(cur))
