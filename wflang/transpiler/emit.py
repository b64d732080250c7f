"""Checked `.wf` tree → the JavaScript workflow script Claude Code's dynamic workflows run.

The output follows `docs/semantics.md` to the letter (the Python interpreter follows the
same page, and a differential test compares the two call for call). Its layout:

    export const meta = {...}         byte 0, a pure literal, no backticks
    // source file, proven worst case
    schemas                           top-level consts (object roots)
    helpers                           only those the script uses (prelude.js)
    argument preamble                 throws before any agent starts when they do not fit
    bound guard                       the proven bound for these arguments (guard.py)
    body                              phases, then `return`

One method per node kind, as in sqlglot's generators: `stmt_<Kind>` writes a statement,
`rhs_<Kind>` writes a right-hand side that starts agents (it may write lines first and
returns the code of its value), `expr_<Kind>` writes a pure expression.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from wflang.dsl import ast, builtins, labels, shared_head
from wflang.dsl import schema as schemas
from wflang.dsl.arguments import ARGS_PROBLEM, INT_INPUT_MIN
from wflang.dsl.builtins.regex_dialect import translate
from wflang.dsl.builtins.strings import pattern_literal
from wflang.dsl.diagnostics import Diagnostic
from wflang.dsl.guard import agent_sites
from wflang.transpiler.functions import function_lines
from wflang.transpiler.guard import bound_js
from wflang.transpiler.js_strings import (
    JS_RESERVED,
    JsCode,
    js_key,
    js_member,
    js_number,
    js_string,
    js_template,
    js_value,
)
from wflang.transpiler.permissions import CAPABILITY_TOOLS, NO_TOOLS, disallowed_tools


class CompileError(Exception):
    """A tree the emitter cannot lower (the checker should have refused it)."""

    def __init__(self, message: str, node: ast.Node | None = None) -> None:
        where = f" (line {node.span.line})" if node is not None and node.span.line else ""
        super().__init__(message + where)
        self.message = message  # without the line, for a diagnostic that shows it
        self.node = node
        self.program: ast.Program | None = None  # the workflow `node` is in (a `run` child's, maybe)


def compile_js(program: ast.Program, *, bound: Any = None, source_name: str) -> str:
    """The workflow script for a checked program. `bound` is the checker's worst-case
    summary (`.total`, `.phases` [(title, n)], `.formula`), or None."""
    return compile_script(program, bound=bound, source_name=source_name)[0]


@dataclass
class CompileWarning:
    """Something the script will do in Claude Code that the author should know about."""

    diagnostic: Diagnostic
    program: ast.Program  # the workflow the diagnostic's span is in (a `run` child's, maybe)


# Claude Code in auto permission mode refuses an agent whose schema, as JSON.stringify
# writes it, is longer than this ("too large to pass unreviewed"; 2.1.332).
SCHEMA_REVIEW_LIMIT = 4096


def compile_script(program: ast.Program, *, bound: Any = None,
                   source_name: str) -> tuple[str, list[CompileWarning]]:
    """The script and the warnings about it (schemas too large for auto mode)."""
    emitter = _Emitter(program, bound, source_name)
    try:
        script = emitter.compile()
    except CompileError as e:
        e.program = e.program or program
        raise
    return script, emitter.warnings


# ---------------------------------------------------------------------------- helpers (prelude.js)


@dataclass
class _Helper:
    name: str
    code: str
    defines: list[str]
    uses: set[str] = field(default_factory=set)


def _load_prelude() -> list[_Helper]:
    text = resources.files("wflang.transpiler").joinpath("prelude.js").read_text(encoding="utf-8")
    blocks = re.split(r"^// @helper (\w+)\n", text, flags=re.M)
    helpers = []
    for name, code in zip(blocks[1::2], blocks[2::2], strict=True):
        code = code.strip("\n")
        helpers.append(_Helper(name, code, re.findall(r"^const (\w+) =", code, flags=re.M)))
    owner = {d: h.name for h in helpers for d in h.defines}
    for h in helpers:
        h.uses = {owner[w] for w in _identifiers(h.code) if w in owner and owner[w] != h.name}
    return helpers


def _identifiers(code: str) -> set[str]:
    """The free-standing identifiers of helper code: no comments, strings, `.members` or keys."""
    code = re.sub(r"//[^\n]*", "", code)
    code = re.sub(r"'(?:[^'\\\n]|\\.)*'", "''", code)
    code = re.sub(r"\$\{([^}]*)\}", r" \1 ", code)  # keep the code of template interpolations
    code = re.sub(r"`[^`]*`", "''", code)
    code = re.sub(r"\.\s*\w+", "", code)
    code = re.sub(r"([{,]\s*)\w+\s*:", r"\1", code)  # object keys
    return set(re.findall(r"\b[A-Za-z_$][\w$]*\b", code))


_PRELUDE = _load_prelude()
HELPER_NAMES = frozenset(d for h in _PRELUDE for d in h.defines)

# Names the output uses that a `.wf` variable must not shadow: JS reserved words, the
# host's globals, the ECMAScript globals the helpers use, and everything banned in scripts.
_GLOBALS = frozenset("""
    agent parallel pipeline phase log args budget workflow console setTimeout clearTimeout meta
    Object Array JSON Math String Number Boolean Promise Set Map WeakMap WeakSet Symbol Error
    TypeError RangeError SyntaxError ReferenceError Date RegExp BigInt Reflect Proxy Intl Temporal
    isNaN isFinite parseInt parseFloat encodeURIComponent decodeURIComponent globalThis Function
    require module exports process Buffer fetch URL TextEncoder TextDecoder structuredClone
    queueMicrotask setInterval WebAssembly Atomics SharedArrayBuffer this class import
""".split())
RESERVED = JS_RESERVED | _GLOBALS | HELPER_NAMES

_SCALAR_NAMES = {"str": "STR", "int": "INT", "float": "FLOAT", "bool": "BOOL"}
_SIMPLE_BINOPS = {"+": "plus", "-": "minus", "*": "times", "/": "divide", "%": "modulo", "|": "merge"}
_JS_OPTIONS = (("model", "model"), ("effort", "effort"), ("agent_type", "agentType"), ("isolation", "isolation"))
_CAN_BE_NONE = (ast.Agent, ast.Check, ast.RunWorkflow, ast.Vote, ast.Tournament, ast.Repeat)
# An item's step ends it on None only when that None is an agent's failure (semantics.md,
# ast.ends_item); a vote without quorum, a repeat a `stop when` ended, a child's None, an
# agent with a fallback (`else E`) are values.


# ---------------------------------------------------------------------------- names and scopes


class _Namer:
    """JS names. A `.wf` name keeps its spelling unless JS or the helpers need it (then it
    gets a `_` suffix); temporaries get fresh names that collide with nothing."""

    def __init__(self, wf_names: set[str]) -> None:
        self.wf_names = wf_names
        self.base: dict[str, str] = {}
        self.taken = set(RESERVED) | wf_names
        for name in sorted(wf_names):
            js = name
            while js in RESERVED or (js != name and js in wf_names):
                js += "_"
            self.base[name] = js
            self.taken.add(js)

    def js(self, name: str) -> str:
        return self.base[name]

    def fresh(self, hint: str) -> str:
        hint = re.sub(r"\W", "", hint) or "v"
        candidate, n = hint, 2
        while candidate in self.taken:
            candidate, n = f"{hint}{n}", n + 1
        self.taken.add(candidate)
        return candidate


@dataclass
class _Scope:
    """The `.wf` names visible in one JS function, mapped to JS names; `declared` are the
    ones already bound in this function (parameters, inputs, carried pipeline state)."""

    names: dict[str, str]
    parent: _Scope | None = None
    declared: set[str] = field(default_factory=set)
    plan: _DeclPlan | None = None

    def lookup(self, name: str) -> str | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def function_scope(self) -> _Scope:
        """The scope that owns declarations (a repeat's `as i` scope does not)."""
        scope = self
        while scope.plan is None and scope.parent is not None:
            scope = scope.parent
        return scope


@dataclass
class _DeclPlan:
    """Where each name assigned in a scope is declared: `const` at its one direct
    assignment, `let` at its first direct assignment, or `let x = null` just before the
    direct statement (an `if`, a loop) that first assigns it."""

    first: dict[str, ast.Stmt]  # name -> the direct statement that first assigns it
    const_ok: set[str]
    direct_assign: dict[str, ast.Assign]  # name -> its first assignment, when that is direct
    by_stmt: dict[int, list[str]] = field(default_factory=dict)  # id(statement) -> names it first assigns

    def __post_init__(self) -> None:
        for name, stmt in self.first.items():
            self.by_stmt.setdefault(id(stmt), []).append(name)


@dataclass
class _Item:
    """A fan-out item being written: its JS index, and the array that marks items whose
    None is not a failure (created when some code path needs it)."""

    index: str
    name_it: Callable[[], str]
    not_failed: str = ""

    @property
    def used(self) -> bool:
        return bool(self.not_failed)

    def mark(self, why: str = "none") -> str:
        """Mark this item's None as not a failure: a None value, or skipped by `stop when`."""
        if not self.not_failed:
            self.not_failed = self.name_it()
        return f"{self.not_failed}[{self.index}] = '{why}'"


@dataclass(frozen=True)
class _Ctx:
    scope: _Scope
    program: ast.Program
    phase: str | None  # the enclosing phase block's title (a `run` child: the caller's)
    indices: tuple[tuple[str, str | int], ...] = ()  # label loop parts (noun, int or JS code), outermost first
    copy: tuple[str, str] | None = None  # the innermost vote/review copy: (noun, JS code of its number)
    answer: tuple[str, frozenset[str] | None] | None = None  # (JS name, fields) in accept/pick
    in_child: bool = False
    top_level: bool = True  # a `return` here returns the workflow's (or child's) result
    stop: Callable[[ast.StopWhen], list[str]] | None = None  # the JS a firing `stop when` runs (None: not allowed)
    item: _Item | None = None  # the fan-out item this code runs in
    grants: frozenset[str] = frozenset()  # the capabilities its agents hold (permissions)


# ---------------------------------------------------------------------------- tree queries


# Builtins whose value is a map (docs/language.md, maps).
MAP_BUILTINS = frozenset({"group_by", "count_by", "to_map"})


def _uses_maps(program: ast.Program) -> bool:
    """Whether a program (or a workflow it runs) may hold a map value: a map type written
    anywhere, or a builtin that builds one. Only then does the result go through `plain`,
    so the scripts of other programs stay as they were."""
    for n in ast.walk([program.inputs, program.types, program.consts, program.body]):
        if isinstance(n, ast.MapType) or (isinstance(n, ast.Call) and n.func in MAP_BUILTINS):
            return True
        if isinstance(n, ast.RunWorkflow) and n.program is not None and _uses_maps(n.program):
            return True
    return False


def _starts_agents(node: Any) -> bool:
    return any(isinstance(n, (ast.Agent, ast.Check, ast.RunWorkflow)) for n in ast.walk(node))


def _scope_stmts(stmts: list[ast.Stmt]) -> list[ast.Stmt]:
    """Statements whose assignments land in this scope: phase and if bodies, repeat and
    fix bodies, but not fanout/review/vote/tournament bodies (new scopes)."""
    out: list[ast.Stmt] = []
    for s in stmts:
        out.append(s)
        if isinstance(s, ast.Phase):
            out += _scope_stmts(s.body)
        elif isinstance(s, ast.If):
            out += _scope_stmts(s.then) + _scope_stmts(s.orelse)
        elif isinstance(s, (ast.Assign, ast.ExprStmt, ast.Return)) and isinstance(s.value, (ast.Repeat, ast.Fix)):
            out += _scope_stmts(s.value.body)
    return out


def _direct(stmts: list[ast.Stmt]) -> list[ast.Stmt]:
    """The statements written straight into the function body (phases are not blocks)."""
    out: list[ast.Stmt] = []
    for s in stmts:
        if isinstance(s, ast.Phase):
            out += _direct(s.body)
        else:
            out.append(s)
    return out


def _targets(s: ast.Stmt) -> list[str]:
    """The names a statement binds in its scope (a repeat's `as i` lives in the loop only)."""
    return list(s.targets) if isinstance(s, ast.Assign) else []


def _assigned(stmts: list[ast.Stmt]) -> list[str]:
    seen: dict[str, None] = {}
    for s in _scope_stmts(stmts):
        for t in _targets(s):
            seen.setdefault(t, None)
    return list(seen)


def _may_be_none(s: ast.Stmt) -> bool:
    """Whether a statement's value can be None (literals and comparisons cannot)."""
    if not isinstance(s, (ast.Assign, ast.ExprStmt)):
        return True
    v = s.value
    never = (ast.DictLit, ast.ListLit, ast.TupleLit, ast.ListComp, ast.StrLit, ast.IntLit, ast.FloatLit,
             ast.BoolLit, ast.Compare, ast.Fanout, ast.Review, ast.Fix)
    return not (isinstance(v, never) or (isinstance(v, ast.UnaryOp) and v.op == "not"))


def _plan(stmts: list[ast.Stmt]) -> _DeclPlan:
    counts: Counter[str] = Counter()
    for s in _scope_stmts(stmts):
        counts.update(_targets(s))
    first: dict[str, ast.Stmt] = {}
    direct_assign: dict[str, ast.Assign] = {}
    for d in _direct(stmts):
        for name in _assigned([d]):
            if name not in first:
                first[name] = d
                if isinstance(d, ast.Assign) and name in d.targets:
                    direct_assign[name] = d
    const_ok = {n for n, c in counts.items() if c == 1 and n in direct_assign}
    return _DeclPlan(first, const_ok, direct_assign)


def _names_in(node: Any) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Assign):
            out.update(n.targets)
    return out


def _all_wf_names(program: ast.Program) -> set[str]:
    names: set[str] = {"answer"}
    programs = [program]
    while programs:
        p = programs.pop()
        names.update(i.name for i in p.inputs)
        for n in ast.walk([p.consts, p.body, p.inputs, p.functions]):
            if isinstance(n, ast.Param):
                names.add(n.name)
            elif isinstance(n, ast.Name):
                names.add(n.id)
            elif isinstance(n, ast.Assign):
                names.update(n.targets)
            elif isinstance(n, ast.Fanout):
                names.add(n.var)
                if n.index_var:
                    names.add(n.index_var)
            elif isinstance(n, ast.Review):
                names.add(n.var)
                if n.lens_var:
                    names.add(n.lens_var)
            elif isinstance(n, ast.Tournament):
                names.update((n.a, n.b))
            elif isinstance(n, ast.Repeat) and n.var:
                names.add(n.var)
            elif isinstance(n, ast.Lambda):
                names.update(n.params)
            elif isinstance(n, ast.CompFor):
                names.add(n.var)
                if n.index_var:
                    names.add(n.index_var)
            elif isinstance(n, ast.RunWorkflow) and n.program is not None:
                programs.append(n.program)
    return names


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _comment_text(text: str, limit: int = 100) -> str:
    """Text safe inside a `//` comment: one line, no lone surrogates."""
    text = re.sub(r"[\r\n\u2028\u2029\x85]+", " ", text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _indent(lines: list[str], levels: int = 1) -> list[str]:
    pad = "  " * levels
    return [pad + re.sub(r"\n(?=[^\n])", "\n" + pad, line) if line else line for line in lines]


def _skip_string(code: str, i: int) -> int:
    """The index after the JS string or template literal that starts at `i`."""
    quote = code[i]
    i += 1
    while i < len(code):
        ch = code[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if quote == "`" and code.startswith("${", i):
            i = _skip_nested(code, i + 2)
            continue
        i += 1
    return i


def _skip_nested(code: str, i: int) -> int:
    """The index after the bracket that closes the group open just before `i`."""
    depth = 0
    while i < len(code):
        ch = code[i]
        if ch in "'\"`":
            i = _skip_string(code, i)
            continue
        if code.startswith("//", i):
            end = code.find("\n", i)
            i = len(code) if end < 0 else end
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    return i


def _closes_at_end(code: str, i: int) -> bool:
    """Whether the bracket opening at `i` closes at the last character."""
    return _skip_nested(code, i + 1) == len(code)


def _strip_parens(code: str) -> str:
    """`(x)` → `x` when the outer parentheses wrap the whole expression."""
    while code.startswith("(") and _closes_at_end(code, 0):
        code = code[1:-1]
    return code


def _atomic_cond(code: str) -> str:
    """Parenthesise code unless it is a name, a member chain, a call, a negation of one of
    those, or already parenthesised."""
    body = code[1:] if code.startswith("!") else code
    if re.fullmatch(r"[\w$.?]+", body):
        return code
    m = re.match(r"[\w$.?]*\(", body)
    if m and _closes_at_end(body, m.end() - 1):
        return code
    if body.startswith("[") and _closes_at_end(body, 0):
        return code
    return f"({code})"


# ---------------------------------------------------------------------------- the emitter


@dataclass
class _Schema:
    name: str
    value: dict[str, Any]
    program: ast.Program
    dynamic: bool  # uses an input's value (a `max n` list): written after that program's arguments


class _Emitter:
    def __init__(self, program: ast.Program, bound: Any, source_name: str) -> None:
        self.program = program
        self.bound = bound
        self.source_name = source_name
        self.namer = _Namer(_all_wf_names(program))
        self.used_helpers: set[str] = set()
        self.schemas: dict[tuple[int, str], _Schema] = {}
        self.record_consts: dict[int, dict[str, str]] = {}  # program id -> record name -> const
        self._lines: dict[int, list[str]] = {}
        self._agentful: dict[int, bool] = {}  # nodes live as long as the emitter: ids are stable
        self.sites = agent_sites(program, bound if hasattr(bound, "terms") else None)
        self.denied: dict[tuple[str, ...], str] = {}  # a disallowedTools list -> its const
        self._heads: dict[int, dict[int, str]] = {}  # program id -> shared heads (dsl/shared_head.py)
        self.warnings: list[CompileWarning] = []
        self._sized: set[str] = set()  # schema consts whose size was checked
        self.fn_js: dict[tuple[int, str], str] = {}  # (program id, `def` name) -> its JS function (functions.py)

    # ------------------------------------------------------------------ the whole script

    def compile(self) -> str:
        scope = _Scope({}, plan=_plan(self.program.consts + self.program.body))
        ctx = _Ctx(scope, self.program, None, grants=frozenset(self.program.header.permissions))
        functions = function_lines(self, self.program, ctx)
        inputs = self.arguments(self.program, ctx)
        early, late = self.split_consts(self.program)
        early_lines = self.top_statements(early, ctx, consts_only=True)
        late_lines = self.top_statements(late, ctx, consts_only=True)
        requires = self.requirements(self.program, ctx)
        main = self.top_statements(self.program.body, ctx)
        if not (self.program.body and isinstance(self.program.body[-1], ast.Return)):
            main += ["", "return " + (f"{self.helper('guardDone')}(null)" if self.guarded() else "null")]
        guard = self.guard_section()  # before helper_section: it uses a helper
        sections = [
            self.meta() + self.header_comment(),  # the comment right under meta, as in the design
            self.schema_section(self.program, dynamic=False),
            self.denied_section(),
            self.helper_section(),
            functions,
            early_lines,
            inputs,
            guard,
            self.schema_section(self.program, dynamic=True),
            late_lines,
            requires,
            main,
        ]
        out: list[str] = []
        for section in sections:
            if section:
                if out:
                    out.append("")
                out += section
        text = "\n".join(out) + "\n"
        return re.sub(r"\n{3,}", "\n\n", text)

    def guarded(self) -> bool:
        """Whether the script starts agents, and so carries the live bound guard."""
        return "callAgent" in self.used_helpers

    def guard_section(self) -> list[str]:
        """The proven bound for the actual arguments: the checker's formula over the
        inputs' sizes (a list input's length, an int input's value), evaluated once."""
        if not self.guarded():
            return []
        sizes = {}
        for i in self.program.inputs:
            js = self.namer.js(i.name)
            sizes[i.name] = f"{js}.length" if isinstance(i.type, ast.ListType) else \
                f"{js}.size" if isinstance(i.type, ast.MapType) else f"Math.max(0, {js})"
        self.helper("boundGuard")
        return ["// ---- the live bound guard: at most this many agents for these arguments ----",
                f"boundGuard.limit = {bound_js(self.bound, sizes)}"]

    def starts_agents(self, node: Any) -> bool:
        """Whether a node (statically) starts agents; memoised, as the emitter asks often."""
        hit = self._agentful.get(id(node))
        if hit is None:
            hit = self._agentful[id(node)] = _starts_agents(node)
        return hit

    def lines(self, program: ast.Program) -> list[str]:
        """A program's source lines (split once)."""
        if id(program) not in self._lines:
            self._lines[id(program)] = program.source.splitlines()
        return self._lines[id(program)]

    def helper(self, name: str) -> str:
        """A helper's name, recording that the script uses it."""
        self.used_helpers.add(name)
        return name

    # ------------------------------------------------------------------ meta and header

    def meta(self) -> list[str]:
        header = self.program.header
        description = header.description or f"The {header.name} workflow"
        description = re.sub(r"\s*[\r\n\u2028\u2029\x85]+\s*", " ", description).strip()
        when = header.when if header.when is not None else self.when_to_use()
        lines = [
            "export const meta = {",
            f"  name: {js_string(header.name, no_backtick=True)},",
            f"  description: {js_string(description, no_backtick=True)},",
            f"  whenToUse: {js_string(when, no_backtick=True)},",
        ]
        entries = self.phase_entries()
        if entries:
            lines.append("  phases: [")
            for entry in entries:
                fields = ", ".join(f"{k}: {js_string(v, no_backtick=True)}" for k, v in entry.items())
                lines.append(f"    {{ {fields} }},")
            lines.append("  ],")
        else:
            lines.append("  phases: [],")
        lines.append("}")
        return lines

    def phase_entries(self) -> list[dict[str, str]]:
        """`meta.phases`: exactly the titles the script passes to `phase()` (the top-level
        phase blocks, in order; a `phase=` option only labels agents), each with `detail`
        (its proven worst case) and `model` (display only: the models its agents name)."""
        counts = dict(_call_or_value(getattr(self.bound, "phases", None)) or []) if self.bound is not None else {}
        entries: dict[str, dict[str, str]] = {}
        for block in self.program.phases():
            entry = entries.setdefault(block.title, {"title": block.title})
            n = counts.get(block.title)
            if isinstance(n, int) and n > 0:
                entry["detail"] = f"at most {n} agent{'' if n == 1 else 's'}"
            models = self.phase_models(block)
            if models:
                entry["model"] = ", ".join(models)
        return list(entries.values())

    def phase_models(self, block: ast.Phase) -> list[str]:
        """The literal models of a phase block's agents (a `run` child's too), in order of
        appearance; empty when some agent's model is not a literal or inherits the session's."""
        models: dict[str, None] = {}

        def visit(node: Any, program: ast.Program) -> bool:
            default = next((o.value for o in program.defaults if o.name == "model"), None)
            for n in ast.walk(node):
                if isinstance(n, (ast.Agent, ast.Check)):
                    value = next((o.value for o in n.options if o.name == "model"), default)
                    if not (isinstance(value, ast.StrLit) and value.is_plain):
                        return False
                    models.setdefault(value.text, None)
                elif isinstance(n, ast.RunWorkflow) and n.program is not None:
                    if not visit(n.program.body, n.program):
                        return False
            return True

        return list(models) if visit(block.body, self.program) else []

    def when_to_use(self) -> str:
        inputs = self.program.inputs
        if not inputs:
            return "takes no args"
        parts = []
        for i in inputs:
            entry = f"{i.name}{'?' if i.default is not None else ''}: {self.describe_type(i.type)}"
            if i.default is not None:
                entry += f" (default {self.describe_default(i.default)})"
            parts.append(entry)
        text = "args: {" + ", ".join(parts) + "}"
        if len(inputs) == 1:
            text += f", or the {inputs[0].name} value itself"
        return text

    def describe_type(self, t: ast.TypeExpr, depth: int = 0) -> str:
        records = schemas.records_of(self.program)
        if isinstance(t, ast.OptionalType):
            return f"{self.describe_type(t.inner, depth)} or null"
        if isinstance(t, ast.UnionType):
            return " | ".join(json.dumps(o, ensure_ascii=False) for o in t.options)
        if isinstance(t, ast.ListType):
            n = self.size_text(t.max)
            item = self.describe_type(t.item, depth + 1)
            plural = {"string": "strings", "integer": "integers", "number": "numbers",
                      "true/false": "booleans"}.get(item, f"items ({item})")
            return f"list of up to {n} {plural}" if n else f"list of {plural}"
        if isinstance(t, ast.MapType):
            n = self.size_text(t.max)
            return f"object of up to {n} keys, each value {self.describe_type(t.value, depth + 1)}"
        if isinstance(t, ast.NamedType):
            scalar = {"str": "string", "int": "integer", "float": "number", "bool": "true/false"}
            if t.name in scalar:
                n = self.size_text(t.max)
                if t.name == "int" and depth == 0:  # an input: its range, with the default min
                    lo = t.min.value if isinstance(t.min, ast.IntLit) else INT_INPUT_MIN
                    return f"integer from {lo}" + (f" to {n}" if n else "")
                if t.name == "int" and isinstance(t.min, ast.IntLit):
                    return f"integer from {t.min.value}" + (f" to {n}" if n else "")
                return scalar[t.name] + (f" up to {n}" if n else "")
            decl = records.get(t.name)
            if decl is None or depth > 0:
                return t.name
            return "{" + ", ".join(f"{f.name}: {self.describe_type(f.type, depth + 1)}" for f in decl.fields) + "}"
        return "value"

    @staticmethod
    def size_text(e: ast.Expr | None) -> str | None:
        if isinstance(e, ast.IntLit):
            return str(e.value)
        if isinstance(e, ast.Name):
            return e.id
        return None

    @staticmethod
    def describe_default(e: ast.Expr) -> str:
        value = _literal(e)
        if value is _NOT_LITERAL:
            return "computed"
        return json.dumps(value, ensure_ascii=False)

    def header_comment(self) -> list[str]:
        lines = [f"// Compiled by wflang from {_comment_text(self.source_name)}. "
                 "Do not edit: edit the .wf and compile again."]
        b = self.bound
        if b is None:
            lines.append("// Worst case: not computed (compiled without the checker).")
        else:
            phases = _call_or_value(getattr(b, "phases", None)) or []
            formula = _call_or_value(getattr(b, "formula", None))
            text = f"// Worst case: {b.total} agent{'' if b.total == 1 else 's'}"
            if phases:
                text += " (" + ", ".join(f"{_comment_text(str(t), 40)} {n}" for t, n in phases) + ")"
            inputs = {i.name for i in self.program.inputs}
            if formula and inputs & set(re.findall(r"\w+", str(formula))):
                text += f"; in the inputs' sizes: {_comment_text(str(formula), 200)}"
            lines.append(text + ".")
        perms = self.program.header.permissions
        if perms:
            lines.append(f"// Permissions the agents need: {_comment_text(', '.join(perms))}.")
        return lines

    # ------------------------------------------------------------------ schemas

    def sizes(self, program: ast.Program) -> dict[str, Any]:
        """int inputs used as list maxima: their JS variables, as schema values."""
        out: dict[str, Any] = {}
        for i in program.inputs:
            if isinstance(i.type, ast.NamedType) and i.type.name == "int":
                out[i.name] = JsCode(self.namer.js(i.name))
        return out

    def schema_const(self, t: ast.TypeExpr | None, program: ast.Program, check: bool = False) -> str | None:
        """The const holding the schema of an agent result type (registered on first use)."""
        if check:
            value: dict[str, Any] | None = schemas.CHECK_SCHEMA
            hint = "CHECK"
        else:
            if t is None:
                return None
            records = schemas.records_of(program)
            value = schemas.result_schema(t, records, self.sizes(program))
            hint = self.schema_hint(t, records)
            self.register_records(t, program)
        assert value is not None
        dynamic = _has_code(value)
        key = (id(program) if dynamic else 0, json.dumps(value, default=repr, sort_keys=False))
        if key not in self.schemas:
            self.schemas[key] = _Schema(self.namer.fresh(hint), value, program, dynamic)
        name = self.schemas[key].name
        if t is not None and name not in self._sized:
            self._sized.add(name)
            self.check_schema_size(value, t, program)
        return name

    def check_schema_size(self, value: dict[str, Any], t: ast.TypeExpr, program: ast.Program) -> None:
        """Warn when Claude Code's auto mode would refuse the schema for its size. A list
        max that comes from an argument counts as 4 digits."""
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          default=lambda v: 1000 if isinstance(v, JsCode) else repr(v))
        size = len(text.encode("utf-16-le", "surrogatepass")) // 2  # JS string length
        if size <= SCHEMA_REVIEW_LIMIT:
            return
        shown = self.source_of(t, _Ctx(_Scope({}), program, None)) if t.span.line else "this type"
        self.warnings.append(CompileWarning(Diagnostic(
            "WF510",
            f"the schema of `{shown}` is {size:,} characters as JSON; Claude Code in auto permission "
            f"mode refuses schemas over {SCHEMA_REVIEW_LIMIT:,} (\"too large to pass unreviewed\") and "
            "the agent never starts",
            t.span,
            "shorten the record types it uses (fewer or shorter field names, smaller unions), "
            "or run the workflow with auto mode off",
            severity="warning"), program))

    def register_records(self, t: ast.TypeExpr, program: ast.Program) -> None:
        """Record types inside a result get their own consts (declared before their users)."""
        records = schemas.records_of(program)
        consts = self.record_consts.setdefault(id(program), {})

        def visit(t: ast.TypeExpr) -> None:
            if isinstance(t, ast.OptionalType):
                visit(t.inner)
            elif isinstance(t, ast.ListType):
                visit(t.item)
            elif isinstance(t, ast.MapType):
                visit(t.value)
            elif isinstance(t, ast.NamedType) and t.name in records and t.name not in consts:
                consts[t.name] = ""  # in progress: guards a recursive type
                for f in records[t.name].fields:
                    visit(f.type)
                value = schemas.type_schema(t, records, self.sizes(program))
                dynamic = _has_code(value)
                key = (id(program) if dynamic else 0, json.dumps(value, default=repr))
                if key not in self.schemas:
                    self.schemas[key] = _Schema(self.namer.fresh(_upper_snake(t.name)), value, program, dynamic)
                consts[t.name] = self.schemas[key].name

        visit(t)

    def schema_hint(self, t: ast.TypeExpr, records: dict[str, ast.TypeDecl], wrapped: bool = True) -> str:
        if isinstance(t, ast.NamedType):
            if t.name in records:
                return _upper_snake(t.name)
            return _SCALAR_NAMES.get(t.name, "VALUE") + ("_VALUE" if wrapped else "")
        if isinstance(t, ast.ListType):
            n = self.size_text(t.max)
            return self.schema_hint(t.item, records, False) + "_LIST" + (f"_{n.upper()}" if n else "")
        if isinstance(t, ast.MapType):
            n = self.size_text(t.max)
            return self.schema_hint(t.value, records, False) + "_MAP" + (f"_{n.upper()}" if n else "")
        if isinstance(t, ast.OptionalType):
            return self.schema_hint(t.inner, records, False) + "_OR_NONE"
        return "CHOICE" + ("_VALUE" if wrapped else "")

    def schema_section(self, program: ast.Program, *, dynamic: bool) -> list[str]:
        chosen = [s for s in self.schemas.values()
                  if s.dynamic == dynamic and (not dynamic or s.program is program)]
        if not chosen:
            return []
        title = ("// ---- schemas that use the arguments ----" if dynamic
                 else "// ---- schemas of the agents' results (JSON Schema, object roots) ----")
        lines = [title]
        refs: dict[str, Any] = {}
        for s in self.schemas.values():  # registration order: records before their users
            if s.dynamic and s.program is not program:
                continue
            if s in chosen:
                lines.append(f"const {s.name} = {js_value(s.value, refs=refs)}")
            refs[s.name] = s.value
        return lines

    # ------------------------------------------------------------------ helpers section

    def helper_section(self) -> list[str]:
        by_name = {h.name: h for h in _PRELUDE}
        owner = {d: h.name for h in _PRELUDE for d in h.defines}
        wanted: set[str] = set()
        stack = [owner[n] for n in self.used_helpers]
        while stack:
            name = stack.pop()
            if name not in wanted:
                wanted.add(name)
                stack.extend(by_name[name].uses)
        if not wanted:
            return []
        lines = ["// ---- helpers: the .wf's value rules (docs/semantics.md) ----"]
        for h in _PRELUDE:
            if h.name in wanted:
                lines += h.code.split("\n")
        return lines

    # ------------------------------------------------------------------ arguments

    def arguments(self, program: ast.Program, ctx: _Ctx, raw: str = "args",
                  on_error: Callable[[str], str] | None = None, open_records: bool = False) -> list[str]:
        """Read and check the inputs; `on_error(A)` is the statement run when they fail,
        given the name of the arguments object (default: throw, failing the run).
        `open_records`: a `run` child's arguments, whose records may carry undeclared
        fields (dropped, not refused)."""
        scope = ctx.scope
        reassigned = {n for s in _scope_stmts(program.consts + program.body) if isinstance(s, ast.Assign)
                      for n in s.targets}
        a = self.namer.fresh("A")
        types = {i.name: self.type_descriptor(i.type, program, input_=True) for i in program.inputs}
        opened = ", true" if open_records else ""
        raw_in = next((i for i in program.inputs if i.raw), None)
        if raw_in is not None or len(program.inputs) > 1:  # who takes a string: `/NAME some text`
            opened = (f", {'true' if open_records else 'false'}, "
                      f"{js_string(raw_in.name) if raw_in is not None else 'null'}, {js_string(program.header.name)}")
        lines = [
            "// ---- arguments: checked as `wf run` checks them, before any agent starts ----"
            if not ctx.in_child else "// its arguments, checked as the workflow's own would be",
            f"const {a} = {self.helper('argsObject')}({raw}, {js_value(types, indent=0)}{opened})",
        ]
        self.helper("typeProblem")
        for i in self.ordered_inputs(program):
            js = self.namer.js(i.name)
            scope.names[i.name] = js
            scope.declared.add(i.name)
            keyword = "let" if i.name in reassigned else "const"
            default = "" if i.default is None else ", " + self.expr(i.default, ctx, top=True)
            lines.append(f"{keyword} {js} = {self.helper('argument')}({a}, {js_string(i.name)}{default})")
        # Bad arguments fail the run (a throw), with the words `wf run` and `wf check --args` use.
        failed = (f"throw new Error({js_string(ARGS_PROBLEM)} + {a}.errors.join('; '))" if on_error is None
                  else on_error(a))
        lines.append(f"if ({a}.errors.length > 0) {failed}")
        return lines

    def requirements(self, program: ast.Program, ctx: _Ctx,
                     on_error: Callable[[str], str] | None = None) -> list[str]:
        """`require COND, MESSAGE` lines, after the arguments and constants: the messages of
        those that do not hold fail the run, as bad arguments do (wflang/runtime/requirements.py)."""
        if not program.requires:
            return []
        unmet = self.namer.fresh("unmet")
        lines = ["// ---- requirements: checked with the arguments, before any agent starts ----",
                 f"const {unmet} = []"]
        for r in program.requires:
            lines.append(f"if (!{_atomic_cond(self.cond(r.cond, ctx))}) {unmet}.push({self.text(r.message, ctx)})")
        failed = (f"throw new Error({js_string(ARGS_PROBLEM)} + {unmet}.join('; '))" if on_error is None
                  else on_error(unmet))
        lines.append(f"if ({unmet}.length > 0) {failed}")
        return lines

    @staticmethod
    def ordered_inputs(program: ast.Program) -> list[ast.InputDecl]:
        """Inputs in declaration order, except that an int input used as another's list
        max (or in its default) is read first."""
        by_name = {i.name: i for i in program.inputs}
        done: dict[str, ast.InputDecl] = {}

        def visit(i: ast.InputDecl, stack: tuple[str, ...] = ()) -> None:
            if i.name in done or i.name in stack:
                return
            for n in _names_in([i.type, i.default]):
                if n in by_name and n != i.name:
                    visit(by_name[n], stack + (i.name,))
            done[i.name] = i

        for i in program.inputs:
            visit(i)
        return list(done.values())

    def type_descriptor(self, t: ast.TypeExpr, program: ast.Program, input_: bool = False) -> Any:
        """The typeProblem descriptor of a type; `input_`: an input's own type, where an
        int without `min` has the default lower bound."""
        if isinstance(t, ast.OptionalType):
            return {"type": "optional", "inner": self.type_descriptor(t.inner, program, input_)}
        if isinstance(t, ast.UnionType):
            return {"type": "union", "options": list(t.options)}
        if isinstance(t, ast.ListType):
            out: dict[str, Any] = {"type": "list", "item": self.type_descriptor(t.item, program)}
            if isinstance(t.max, ast.IntLit):
                out["max"] = t.max.value
            elif isinstance(t.max, ast.Name):
                out["max"] = t.max.id
            if isinstance(t.min, ast.IntLit):
                out["min"] = t.min.value
            return out
        if isinstance(t, ast.MapType):
            out = {"type": "map", "value": self.type_descriptor(t.value, program)}
            if isinstance(t.max, ast.IntLit):
                out["max"] = t.max.value
            if isinstance(t.min, ast.IntLit):
                out["min"] = t.min.value
            return out
        if isinstance(t, ast.NamedType):
            if t.name in ("str", "float"):  # a length (str) or a value range (float)
                limits = {k: c.value for k, c in (("min", t.min), ("max", t.max))
                          if isinstance(c, (ast.IntLit, ast.FloatLit))}
                return {"type": t.name, **limits} if limits else t.name
            if t.name == "bool":
                return t.name
            if t.name == "int":
                bounds: dict[str, Any] = {"type": "int"}
                if isinstance(t.min, ast.IntLit):
                    bounds["min"] = t.min.value
                elif input_:
                    bounds.update(min=INT_INPUT_MIN, implicitMin=True)
                if isinstance(t.max, ast.IntLit):
                    bounds["max"] = t.max.value
                return bounds if len(bounds) > 1 else "int"
            decl = schemas.records_of(program).get(t.name)
            if decl is None:
                raise CompileError(f"unknown type `{t.name}`", t)
            return {"type": "record", "name": t.name,
                    "fields": {f.name: self.type_descriptor(f.type, program) for f in decl.fields}}
        raise CompileError("an input type the emitter does not know", t)

    def split_consts(self, program: ast.Program) -> tuple[list[ast.Stmt], list[ast.Stmt]]:
        """Constants that use no input go before the arguments (defaults may use them)."""
        inputs = {i.name for i in program.inputs}
        early: list[ast.Stmt] = []
        late: list[ast.Stmt] = []
        tainted = set(inputs)
        for c in program.consts:
            if _names_in(c.value) & tainted or late:
                late.append(c)
                tainted.update(c.targets)
            else:
                early.append(c)
        return early, late

    # ------------------------------------------------------------------ statements

    def top_statements(self, stmts: list[ast.Stmt], ctx: _Ctx, consts_only: bool = False) -> list[str]:
        lines: list[str] = []
        for s in stmts:
            if isinstance(s, ast.Phase):
                lines += self.stmt_Phase(s, ctx)
            else:
                lines += self.direct(s, ctx)
        if consts_only and lines:
            lines.insert(0, "// ---- constants ----")
        return lines

    def direct(self, s: ast.Stmt, ctx: _Ctx, track: str | None = None) -> list[str]:
        """A statement written straight into its function."""
        return self.predeclare(s, ctx) + self.comment(s, ctx) + self.stmt(s, ctx, track=track)

    def predeclare(self, s: ast.Stmt, ctx: _Ctx) -> list[str]:
        """`let x = null` for the names this direct statement is the first to assign, when
        it is not itself their assignment (an `if`, a loop, a tuple)."""
        scope = ctx.scope.function_scope()
        plan = scope.plan
        lines: list[str] = []
        if plan is not None:
            pre = [n for n in plan.by_stmt.get(id(s), ())
                   if n not in scope.declared and plan.direct_assign.get(n) is not s]
            for n in pre:
                lines.append(f"let {ctx.scope.lookup(n) or self.declare(n, ctx)} = null")
                scope.declared.add(n)
        return lines

    def declare(self, name: str, ctx: _Ctx) -> str:
        js = self.namer.js(name)
        ctx.scope.function_scope().names[name] = js
        return js

    def comment(self, s: ast.Stmt, ctx: _Ctx) -> list[str]:
        """`// line N: ...` above each statement that starts agents or opens a block."""
        if not s.span.line or not (self.starts_agents(s) or isinstance(s, ast.If)):
            return []
        src = self.lines(ctx.program)
        if s.span.line > len(src):
            return []
        return [f"// line {s.span.line}: {_comment_text(src[s.span.line - 1].strip())}"]

    def stmt(self, s: ast.Stmt, ctx: _Ctx, track: str | None = None) -> list[str]:
        method = getattr(self, f"stmt_{type(s).__name__}", None)
        if method is None:
            raise CompileError(f"no lowering for the statement {type(s).__name__}", s)
        return method(s, ctx, track)

    def stmt_Phase(self, s: ast.Phase, ctx: _Ctx, track: str | None = None) -> list[str]:
        if ctx.in_child:
            lines = [f"// ---- phase {_comment_text(s.title, 60)} (line {s.span.line}): "
                     "its agents run in the caller's phase ----"]
            inner = ctx
        else:
            lines = [f"// ---- phase {_comment_text(s.title, 60)} (line {s.span.line}) ----",
                     f"phase({js_string(s.title)})"]
            inner = replace(ctx, phase=s.title)
        for x in s.body:
            lines += self.direct(x, inner, track)
        return ["", *lines]

    def stmt_Assign(self, s: ast.Assign, ctx: _Ctx, track: str | None = None) -> list[str]:
        pre: list[str] = []
        if len(s.targets) > 1:
            if not isinstance(s.value, ast.Review):
                raise CompileError("only `review` yields two values (kept, dropped)", s)
            outcome = self.namer.fresh(s.targets[0] + "Review")
            code = self.rhs_Review(s.value, ctx, pre, hint=s.targets[0], outcome=True)
            pre.append(f"const {outcome} = {code}")
            values = [f"{outcome}.kept", f"{outcome}.dropped"]
        else:
            values = [self.rhs(s.value, ctx, pre, hint=s.targets[0], need_value=True)]
        lines = pre
        for name, value in zip(s.targets, values, strict=False):
            lines.append(self.assignment(name, value, s, ctx))
        if track is not None:
            lines.append(f"{track} = {self.assigned_value(s, ctx)}")
        return lines

    def assigned_value(self, s: ast.Assign, ctx: _Ctx) -> str:
        names = [ctx.scope.lookup(t) or self.namer.js(t) for t in s.targets]
        return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"

    def assignment(self, name: str, value: str, s: ast.Assign, ctx: _Ctx) -> str:
        scope = ctx.scope.function_scope()
        plan = scope.plan
        if name not in scope.declared and plan is not None and plan.direct_assign.get(name) is s:
            js = ctx.scope.lookup(name) if name in scope.names else self.declare(name, ctx)
            scope.declared.add(name)
            keyword = "const" if name in plan.const_ok else "let"
            return f"{keyword} {js} = {value}"
        js = ctx.scope.lookup(name)
        if js is None:  # the checker guarantees a declaration; be safe anyway
            js = self.declare(name, ctx)
            scope.declared.add(name)
            return f"let {js} = {value}"
        return f"{js} = {value}"

    def stmt_ExprStmt(self, s: ast.ExprStmt, ctx: _Ctx, track: str | None = None) -> list[str]:
        pre: list[str] = []
        code = self.rhs(s.value, ctx, pre, hint="result", need_value=track is not None)
        if track is not None:
            return pre + [f"{track} = {code}"]
        if not self.starts_agents(s.value) and not isinstance(s.value, (ast.Fanout, ast.Review, ast.Vote,
                                                                     ast.Tournament, ast.Repeat, ast.Fix)):
            return pre + [f"// line {s.span.line}: an expression with no effect"]
        if isinstance(s.value, (ast.Repeat, ast.Fix)) and not code.startswith("await"):
            return pre
        return pre + [_strip_parens(code)]

    def stmt_If(self, s: ast.If, ctx: _Ctx, track: str | None = None) -> list[str]:
        lines = [f"if ({_strip_parens(self.cond(s.cond, ctx))}) {{"]
        lines += _indent(self.block(s.then, ctx))
        orelse = s.orelse
        while len(orelse) == 1 and isinstance(orelse[0], ast.If):
            lines.append(f"}} else if ({_strip_parens(self.cond(orelse[0].cond, ctx))}) {{")
            lines += _indent(self.block(orelse[0].then, ctx))
            orelse = orelse[0].orelse
        if orelse:
            lines.append("} else {")
            lines += _indent(self.block(orelse, ctx))
        lines.append("}")
        if track is not None:
            lines.append(f"{track} = null")
        return lines

    def block(self, stmts: list[ast.Stmt], ctx: _Ctx) -> list[str]:
        """A nested block (if, loop body): its assignments belong to the enclosing scope."""
        lines: list[str] = []
        for s in stmts:
            lines += self.comment(s, ctx)
            lines += self.stmt(s, ctx)
        return lines

    def stmt_Log(self, s: ast.Log, ctx: _Ctx, track: str | None = None) -> list[str]:
        lines = [f"log({self.text(s.message, ctx)})"]
        if track is not None:
            lines.append(f"{track} = null")
        return lines

    def stmt_Fail(self, s: ast.Fail, ctx: _Ctx, track: str | None = None) -> list[str]:
        # A throw: Claude Code records the run as failed with the message. failRun keeps
        # the error, so a parallel() or pipeline() that caught it still ends the run.
        return [f"throw {self.helper('failRun')}(new Error({self.text(s.message, ctx)}))"]

    def stmt_Return(self, s: ast.Return, ctx: _Ctx, track: str | None = None) -> list[str]:
        if not ctx.top_level:
            raise CompileError("`return` inside a fan-out, review, vote or tournament body", s)
        pre: list[str] = []
        code = self.rhs(s.value, ctx, pre, hint="result", need_value=True)
        if not ctx.in_child and _uses_maps(self.program):
            code = f"{self.helper('plain')}({_strip_parens(code)})"  # Claude Code gets JSON objects
        if not ctx.in_child and self.starts_agents(self.program.body):
            # A guard trip that a parallel() caught still ends the run here.
            return pre + [f"return {self.helper('guardDone')}({_strip_parens(code)})"]
        return pre + [f"return {_strip_parens(code)}"]

    def stmt_StopWhen(self, s: ast.StopWhen, ctx: _Ctx, track: str | None = None) -> list[str]:
        if ctx.stop is None:
            raise CompileError("`stop when` belongs at the top of a fan-out body or in a repeat body", s)
        lines = [f"if ({_strip_parens(self.cond(s.cond, ctx))}) {{  // line {s.span.line}: stop when"]
        lines += _indent(ctx.stop(s))
        lines.append("}")
        if track is not None:
            lines.append(f"{track} = null")
        return lines

    # ------------------------------------------------------------------ bodies of new scopes

    def new_scope(self, ctx: _Ctx, stmts: list[ast.Stmt], params: dict[str, str],
                  ) -> tuple[_Scope, list[str]]:
        """A JS function for a fan-out item, a reviewer, a voter or a judge. Its assigned
        names are local; one that shadows an outer name gets a fresh JS name initialised
        from the outer value (a read before the local assignment sees the outer one)."""
        scope = _Scope(dict(params), ctx.scope, set(params), _plan(stmts))
        inits: list[str] = []
        for name in _assigned(stmts):
            if name in params:
                continue
            outer = ctx.scope.lookup(name)
            if outer is not None:
                js = self.namer.fresh(self.namer.js(name))
                scope.names[name] = js
                scope.declared.add(name)
                inits.append(f"let {js} = {outer}")
        return scope, inits

    def value_body(self, stmts: list[ast.Stmt], ctx: _Ctx, *, finish: str = "return {}") -> list[str]:
        """A body whose value is its last statement's. In a fan-out item (`ctx.item`), a
        top-level statement that starts agents and yields None ends the item with None,
        a failure; a None that is the last line's plain value is not a failure."""
        item = ctx.item
        lines: list[str] = []
        for k, s in enumerate(stmts):
            last = k == len(stmts) - 1
            step = isinstance(s, (ast.Assign, ast.ExprStmt)) and self.starts_agents(s.value)
            if item and step and not last:
                lines += self.stage_step(s, ctx)
                continue
            if isinstance(s, ast.ExprStmt) and last:
                lines += self.predeclare(s, ctx) + self.comment(s, ctx)
                code = self.rhs(s.value, ctx, lines, hint="result", need_value=True)
                lines += self.finish(_strip_parens(code), s, step, finish, ctx)
                continue
            lines += self.direct(s, ctx)
            if last:
                value = self.assigned_value(s, ctx) if isinstance(s, ast.Assign) else "null"
                lines += self.finish(value, s, step, finish, ctx)
        if not stmts:
            lines += self.finish("null", None, False, finish, ctx)
        return lines

    def finish(self, value: str, s: ast.Stmt | None, step: bool, finish: str, ctx: _Ctx) -> list[str]:
        """End a value body. In a fan-out item, a None from the last line is a failure only
        when that line is an agent (or check) whose agent failed."""
        item = ctx.item
        agent_step = step and isinstance(s, (ast.Assign, ast.ExprStmt)) and ast.ends_item(s.value)
        if item is None or agent_step or (s is not None and not _may_be_none(s)):
            return [finish.format(value)]
        if value == "null":
            return [item.mark(), finish.format("null")]
        if re.fullmatch(r"[\w$]+", value):
            return [f"if ({value} === null) {item.mark()}  // a None value, not a failure", finish.format(value)]
        v = self.namer.fresh("value")
        return [f"const {v} = {value}", f"if ({v} === null) {item.mark()}  // a None value, not a failure",
                finish.format(v)]

    # ------------------------------------------------------------------ right-hand sides

    def rhs(self, e: ast.Expr, ctx: _Ctx, out: list[str], *, hint: str, need_value: bool) -> str:
        method = getattr(self, f"rhs_{type(e).__name__}", None)
        if method is None:
            return self.expr(e, ctx, top=True)
        return method(e, ctx, out, hint=hint, need_value=need_value)

    # ---- agents

    def rhs_Agent(self, e: ast.Agent, ctx: _Ctx, out: list[str], *, hint: str = "", need_value: bool = True) -> str:
        return "await " + self.agent_call(e, ctx)

    rhs_Check = rhs_Agent

    def agent_call(self, e: ast.Agent | ast.Check, ctx: _Ctx,
                   indices: tuple[tuple[str, str | int], ...] | None = None) -> str:
        program = ctx.program
        options: dict[str, ast.Expr] = {o.name: o.value for o in program.defaults}
        options.update({o.name: o.value for o in e.options})
        opts = [f"label: {self.label(e, options, ctx, indices)}"]
        phase = options.get("phase")
        if phase is not None:
            opts.append(f"phase: {self.text(phase, ctx)}")
        elif ctx.phase is not None:
            opts.append(f"phase: {js_string(ctx.phase)}")
        shape: list[str] = []
        if isinstance(e, ast.Check):
            opts.append(f"schema: {self.schema_const(None, program, check=True)}")
        elif e.result is not None:
            opts.append(f"schema: {self.schema_const(e.result, program)}")
            key = schemas.wrap_key(e.result, schemas.records_of(program))
            if key is not None:
                shape.append(f"unwrap: {js_string(key)}")
            if isinstance(e.result, ast.ListType) and e.result.max is not None:
                shape.append(f"max: {self.size_code(e.result.max, ctx)}")
        for wf, js in _JS_OPTIONS:
            if wf in options:
                opts.append(f"{js}: {self.expr(options[wf], ctx, top=True)}")
        # Where the agent is, for the bound guard's message (wflang/dsl/guard.py).
        shape.append(f"at: {js_string(self.sites.get(id(e), f'line {e.span.line}'))}")
        # tools=none: every tool denied (its list includes the permission-based one)
        denied = self.denied_const(ctx.grants, toolless=isinstance(options.get("tools"), ast.NoneLit))
        if denied is not None:
            opts.append(f"disallowedTools: {denied}")
        head = self.shared_head(e, program)
        if head is not None:  # the static head a fan-out's agents share, as its own cached block
            opts.append(f"sharedHeadLength: {shared_head.utf16_length(head)}")
        args = [self.text(e.prompt, ctx), "{ " + ", ".join(opts) + " }"]
        if shape:
            args.append("{ " + ", ".join(shape) + " }")
        call = f"{self.helper('callAgent')}({', '.join(args)})"
        if len(call) > 110:
            call = f"{self.helper('callAgent')}({args[0]},\n  " + ",\n  ".join(args[1:]) + ")"
        if isinstance(e, ast.Agent) and e.fallback is not None:
            # `else E`: E is evaluated only when the agent failed (null), in the agent's scope
            call = f"{self.helper('orElse')}({call}, () => ({_strip_parens(self.expr(e.fallback, ctx, top=True))}))"
        return call

    def shared_head(self, e: ast.Agent | ast.Check, program: ast.Program) -> str | None:
        if id(program) not in self._heads:
            self._heads[id(program)] = shared_head.shared_heads(program)
        return self._heads[id(program)].get(id(e))

    def denied_const(self, grants: frozenset[str], toolless: bool = False) -> str | None:
        """The const listing the tools agents with these capabilities may not use, or None
        when they may use every tool (a workflow with `permissions: edit, shell`). A
        tool-less agent (`tools=none`) may use none."""
        tools = NO_TOOLS if toolless else tuple(disallowed_tools(grants))
        if not tools:
            return None
        if tools not in self.denied:
            self.denied[tools] = self.namer.fresh("DENIED_TOOLS")
        return self.denied[tools]

    def denied_section(self) -> list[str]:
        if not self.denied:
            return []
        lines = ["// ---- permissions: the tools the agents may not use (Claude Code tool names) ----"]
        for tools, name in self.denied.items():
            missing = [c for c, ts in CAPABILITY_TOOLS.items() if set(ts) <= set(tools)]
            why = "tools=none: no tool at all" if tools == NO_TOOLS else f"without {' or '.join(missing)}"
            lines.append(f"const {name} = {js_value(list(tools), indent=0)}  // {why}")
        return lines

    def size_code(self, e: ast.Expr, ctx: _Ctx) -> str:
        if isinstance(e, ast.IntLit):
            return str(e.value)
        return self.expr(e, ctx, top=True)

    def label(self, e: ast.Agent | ast.Check, options: dict[str, ast.Expr], ctx: _Ctx,
              indices: tuple[tuple[str, str | int], ...] | None) -> str:
        """Labels as docs/semantics.md defines them (wflang/dsl/labels.py): an explicit
        label (plus ` · reviewer k` for the k-th review/vote copy), else the agent's site
        and its loop parts, `confirmed · finding 3 · reviewer 2`; no line numbers."""
        parts: list[tuple[str, str]] = []
        if "label" in options:
            # white space normalized as Claude Code shows it (labels.normalize)
            given = self.text_parts(options["label"], ctx)
            if all(kind == "text" for kind, _ in given):
                parts = [("text", labels.normalize("".join(t for _, t in given)))]
            else:
                normalized = f"{js_template(given)}{labels.JS_NORMALIZE}"
                if ctx.copy is None:
                    return normalized
                parts = [("code", normalized)]
            if ctx.copy is not None:
                parts += [("text", f"{labels.SEP}{ctx.copy[0]} "), ("code", ctx.copy[1])]
            return js_template(parts)
        prefix = ctx.program.header.name + labels.SEP if ctx.in_child else ""
        parts.append(("text", prefix + labels.site_name(ctx.program, e)))
        for noun, idx in ctx.indices if indices is None else indices:
            parts.append(("text", f"{labels.SEP}{noun} "))
            parts.append(("text", str(idx)) if isinstance(idx, int) else ("code", idx))
        return js_template(parts)

    # ---- run "other.wf"

    def rhs_RunWorkflow(self, e: ast.RunWorkflow, ctx: _Ctx, out: list[str], *, hint: str = "",
                        need_value: bool = True) -> str:
        child = e.program
        if child is None:
            raise CompileError(f"run {json.dumps(e.path)}: the workflow was not loaded", e)
        scope = _Scope({}, plan=_plan(child.consts + child.body))
        # a child's agents hold what both it and its caller declare
        inner = replace(ctx, scope=scope, program=child, in_child=True, top_level=True, answer=None,
                        grants=ctx.grants & frozenset(child.header.permissions))
        # The arguments are computed outside the child's function and passed in: inside it,
        # the child's inputs (`const x`) would shadow a caller's name of the same spelling.
        given = self.expr(e.args, ctx, top=True) if e.args is not None else "undefined"
        raw = self.namer.fresh("childArgs")
        prefix = js_string(f"run {json.dumps(e.path)}: ")
        try:
            lines = function_lines(self, child, inner)
            lines += self.arguments(child, inner, raw=raw, open_records=True,
                                   on_error=lambda a: f"throw new Error({prefix} + {a}.errors.join('; '))")
            body = (self.top_statements(child.consts, inner)
                    + self.requirements(child, inner, on_error=lambda u: f"throw new Error({prefix} + {u}.join('; '))")
                    + self.top_statements(child.body, inner))
        except CompileError as err:
            err.program = err.program or child
            raise
        if not (child.body and isinstance(child.body[-1], ast.Return)):
            body.append("return null")
        lines += self.schema_section(child, dynamic=True) + body  # after the body registered them
        return (f"await (async ({raw}) => {{  // {_comment_text(e.path)}\n" + "\n".join(_indent(lines))
                + f"\n}})({_strip_parens(given)})")

    # ---- fanout and for

    def rhs_Fanout(self, e: ast.Fanout, ctx: _Ctx, out: list[str], *, hint: str = "items",
                   need_value: bool = True) -> str:
        kind = "for" if e.sequential else "fanout"
        src = self.source_of(e.iter, ctx)
        loop = f"{e.index_var}, {e.var} in enumerate({src})" if e.index_var else f"{e.var} in {src}"
        where = f"{kind} {loop} (line {e.span.line})"
        body = list(e.body)
        first_stop = body.pop(0) if body and isinstance(body[0], ast.StopWhen) else None
        idx = self.namer.fresh("i")
        item = _Item(idx, lambda: self.namer.fresh("notFailed"))
        skipped = self.namer.fresh("skipped") if first_stop is not None else ""
        params = {e.var: self.namer.js(e.var)}
        if e.index_var is not None:  # `fanout i, x in enumerate(C)`: the item function's own index
            params[e.index_var] = idx
        scope, inits = self.new_scope(ctx, e.body, params)
        noun = labels.item_noun(e.iter, e.var)
        inner = replace(ctx, scope=scope, indices=ctx.indices + ((noun, f"{idx} + 1"),), top_level=False, answer=None,
                        item=item, stop=lambda s: [item.mark("skipped"), f"{skipped}[{idx}] = true", "return null"])
        items = f"{self.helper('iter')}({self.expr(e.iter, ctx, top=True)})"
        steps = [s for s in body if self.starts_agents(s)]
        concurrency = next((o.value for o in e.options if o.name == "concurrency"), None)
        each = self.namer.fresh(hint + "Each")
        var = self.namer.js(e.var)
        lines: list[str] = []
        if e.sequential or concurrency is not None or len(steps) <= 1:
            opening = self.first_stop(first_stop, inner)
            fn_body = inits + opening + self.value_body(body, inner)
            item_fn = _async_fn("", fn_body)
            if not inits and not opening and self.is_single_agent(body):
                item_fn = self.agent_thunk(body[0], inner)
            if e.sequential:
                run = f"await {self.helper('oneByOne')}({items}, {_async_fn(f'{var}, {idx}', fn_body)})"
            elif concurrency is not None:
                slots = self.namer.fresh("slots")
                lines.append(f"const {slots} = {self.helper('limiter')}({self.expr(concurrency, ctx, top=True)})"
                             "  // at most this many items in flight")
                run = f"await {self.helper('runParallel')}({items}.map(({var}, {idx}) => () => {slots}({item_fn})))"
            else:
                run = f"await {self.helper('runParallel')}({items}.map(({var}, {idx}) => {item_fn}))"
        else:
            run = self.pipeline(e, body, first_stop, inits, items, inner)
        if item.used:
            out.append(f"const {item.not_failed} = []  // items whose None is not a failure: 'none' or 'skipped'")
        if first_stop is not None:
            out.append(f"const {skipped} = []  // items a `stop when` skipped")
        out += lines
        out.append(f"const {each} = {run}")
        if first_stop is not None:
            note = f" (stop when {self.source_text(first_stop.cond, ctx)})"
            out.append(f"{self.helper('logSkipped')}({js_string(where)}, {skipped}, {each}.length, "
                       f"{js_string(note)})")
        extra = f", {item.not_failed}" if item.used else ""
        return f"{self.helper('dropFailed')}({each}, {js_string(where)}{extra})"

    @staticmethod
    def is_single_agent(body: list[ast.Stmt]) -> bool:
        # (an agent with a fallback is not: its None is a value, which the item must mark)
        return len(body) == 1 and isinstance(body[0], ast.ExprStmt) and ast.ends_item(body[0].value)

    def agent_thunk(self, s: ast.Stmt, ctx: _Ctx) -> str:
        """`() => callAgent(...)`: the thunk of a body that is one agent (see is_single_agent)."""
        assert isinstance(s, ast.ExprStmt) and isinstance(s.value, (ast.Agent, ast.Check))
        return "() =>\n  " + self.agent_call(s.value, ctx).replace("\n", "\n  ")

    def copy_thunk(self, body: list[ast.Stmt], inits: list[str], ctx: _Ctx) -> str:
        """The thunk of one reviewer or voter: its body's value."""
        if not inits and self.is_single_agent(body):
            return self.agent_thunk(body[0], ctx)
        return _async_fn("", inits + self.value_body(body, ctx))

    def first_stop(self, stop: ast.StopWhen | None, ctx: _Ctx) -> list[str]:
        """A `stop when` opening a fan-out body: checked as the item starts (with
        `concurrency=N`, when it gets its slot)."""
        if stop is None:
            return []
        return self.stmt_StopWhen(stop, ctx)

    def pipeline(self, e: ast.Fanout, body: list[ast.Stmt], stop: ast.StopWhen | None,
                 inits: list[str], items: str, ctx: _Ctx) -> str:
        """Several agent steps per item: one pipeline stage per step, no barrier between
        them; a step that yields None ends its item (the stage returns null). The item's
        local variables travel from stage to stage in the carried object."""
        groups: list[list[ast.Stmt]] = [[]]
        for s in body:
            groups[-1].append(s)
            if self.starts_agents(s):
                groups.append([])
        tail = groups.pop()
        groups[-1] += tail  # pure statements after the last step run in the last stage
        scope = ctx.scope
        assert ctx.item is not None
        idx = ctx.item.index
        var = self.namer.js(e.var)
        under = self.namer.fresh("_")
        prev = self.namer.fresh("prev")
        shadows = scope.declared - {e.var}
        carried = [e.var]
        stages: list[str] = []
        for k, group in enumerate(groups):
            received = "{ " + ", ".join(scope.names[n] for n in carried) + " }"
            # each stage is a JS function of its own: only what it receives is bound in it
            scope.declared = set(carried) | (shadows if k == 0 else set())
            if k == 0:  # the first stage gets the boxed item, never null
                params = received
                lines = inits + self.first_stop(stop, ctx)
            else:  # null-safe (js-target.md §10.8): some hosts run later stages with prev = null
                params = prev
                lines = [f"if ({prev} === null) return null", f"let {received} = {prev}"]
            if k == len(groups) - 1:
                lines += self.value_body(group, ctx)
            else:
                for s in group[:-1]:
                    lines += self.direct(s, ctx)
                lines += self.stage_step(group[-1], ctx)
                later = set().union(*(_names_in(g) for g in groups[k + 1:]))
                bound = [n for n in scope.names if n in scope.declared]
                carried = [n for n in dict.fromkeys([e.var, *bound]) if n in later or n == e.var]
                lines.append("return { " + ", ".join(scope.names[n] for n in carried) + " }")
            stages.append(_async_fn(f"{params}, {under}, {idx}", lines))
        boxed = f"{items}.map(({var}) => ({{ {var} }}))"  # boxed: a None item still runs its stages
        return f"await {self.helper('runPipeline')}({boxed},\n" + ",\n".join(_indent(stages)) + ")"

    def stage_step(self, s: ast.Stmt, ctx: _Ctx) -> list[str]:
        """An agent step of a fan-out item that is not its last line (it ends a pipeline
        stage, or stands in an item's function): run it; None ends the item."""
        if isinstance(s, ast.ExprStmt):
            pre = self.predeclare(s, ctx) + self.comment(s, ctx)
            code = self.rhs(s.value, ctx, pre, hint="step", need_value=True)
            if ast.ends_item(s.value):
                return pre + [f"if ({code} === null) return null  // the agent failed: the item ends"]
            return pre + [_strip_parens(code)]
        lines = self.direct(s, ctx)
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and ast.ends_item(s.value):
            lines.append(f"if ({ctx.scope.lookup(s.targets[0])} === null) return null  // the agent failed")
        return lines

    def source_text(self, e: ast.Node, ctx: _Ctx) -> str:
        """The source of a node with whitespace runs collapsed, as log lines quote it."""
        return re.sub(r"\s+", " ", self.source_of(e, ctx)).strip()

    def source_of(self, e: ast.Node, ctx: _Ctx) -> str:
        sp = e.span
        lines = self.lines(ctx.program)
        if not sp.line or sp.line > len(lines):
            return "..."
        if sp.line == sp.end_line:
            return lines[sp.line - 1][sp.col - 1: sp.end_col - 1]
        parts = [lines[sp.line - 1][sp.col - 1:], *lines[sp.line: sp.end_line - 1],
                 lines[sp.end_line - 1][: sp.end_col - 1]]
        return " ".join(p.strip() for p in parts)

    # ---- review

    def rhs_Review(self, e: ast.Review, ctx: _Ctx, out: list[str], *, hint: str = "reviewed",
                   need_value: bool = True, outcome: bool = False) -> str:
        where = f"review (line {e.span.line})"
        i = self.namer.fresh("i")
        r = self.namer.fresh("r")
        params = {e.var: self.namer.js(e.var)}
        lenses = None
        if e.lens_var is not None and e.lenses is not None:
            lenses = self.namer.fresh(hint + "Lenses")
            out.append(f"const {lenses} = {self.helper('iter')}({self.expr(e.lenses, ctx, top=True)})")
            params[e.lens_var] = self.namer.js(e.lens_var)
        scope, inits = self.new_scope(ctx, e.body, params)
        noun, copy_noun = labels.item_noun(e.iter, e.var), labels.review_copy_noun(e)
        inner = replace(ctx, scope=scope, indices=ctx.indices + ((noun, f"{i} + 1"), (copy_noun, f"{r} + 1")),
                        copy=(copy_noun, f"{r} + 1"),
                        top_level=False, answer=None, item=None, stop=None)
        x = self.namer.js(e.var)
        answer = self.namer.js("answer")
        local_accept = bool(_names_in(e.accept) & set(_assigned(e.body)))
        if local_accept:
            # `accept when` reads the reviewer's own variables: judge inside the reviewer
            judged = replace(inner, scope=_Scope({}, scope, set()), answer=(answer, self.answer_fields(e.body, ctx)))
            body = inits + self.value_body(e.body, inner, finish=f"const {answer} = {{}}")
            body.append(f"return {answer} === null ? null : {{ {answer}, accepted: "
                        f"{_strip_parens(self.cond(e.accept, judged))} }}")
            reviewer = _async_fn("", body)
        else:
            reviewer = self.copy_thunk(e.body, inits, inner)
        if lenses is not None:
            reviewers = f"{lenses}.map(({self.namer.js(e.lens_var or '')}, {r}) => {reviewer})"
        else:
            reviewers = f"{self.helper('range')}({self.expr(e.count, ctx, top=True)}).map(({r}) => {reviewer})"  # type: ignore[arg-type]
        keep = "'all'" if e.keep_all else ("null" if e.keep is None else self.expr(e.keep, ctx, top=True))
        verdicts = self.namer.fresh("verdicts")
        if local_accept:
            answers = f"{verdicts}.map((v) => v?.{answer} ?? null)"
            accept = f"({answer}, {r}) => {verdicts}[{r}].accepted"
        else:
            answers = verdicts
            accept = self.accept_fn(e.accept, e.body, ctx, {e.var: x}, lenses, e.lens_var, r)
        tallies = self.namer.fresh(hint + "Tallies")
        out.append(f"const {tallies} = await {self.helper('runParallel')}({self.helper('iter')}({self.expr(e.iter, ctx, top=True)})"
                   f".map(({x}, {i}) => () =>\n"
                   f"  parallel({reviewers.replace(chr(10), chr(10) + '  ')})\n"
                   f"    .then(({verdicts}) => {self.helper('tally')}({x}, {answers}, {keep}, {accept}))))")
        code = f"{self.helper('reviewOutcome')}({tallies}, {js_string(where)})"
        return code if outcome else code + ".kept"

    def accept_fn(self, cond: ast.Expr, body: list[ast.Stmt], ctx: _Ctx, params: dict[str, str],
                  lenses: str | None, lens_var: str | None, r: str) -> str:
        """`accept when E` as `(answer) => boolean`, with the answer's fields in scope; when E
        reads the lens variable, `(answer, r, v = lenses[r]) => ...`."""
        answer = self.namer.js("answer")
        scope = _Scope(dict(params), ctx.scope, set(params))
        args = [answer]
        if lenses is not None and lens_var is not None and lens_var in _names_in(cond):
            lens_js = self.namer.js(lens_var)
            scope.names[lens_var] = lens_js
            args += [r, f"{lens_js} = {lenses}[{r}]"]
        inner = replace(ctx, scope=scope, answer=(answer, self.answer_fields(body, ctx)))
        return f"({', '.join(args)}) => {_strip_parens(self.cond(cond, inner))}"

    def answer_fields(self, body: list[ast.Stmt], ctx: _Ctx) -> frozenset[str] | None:
        """The record fields of a body's value, when its last statement says (an agent
        with a record result, a check, a record literal); None when unknown."""
        if not body:
            return None
        last = body[-1]
        value = last.value if isinstance(last, (ast.ExprStmt, ast.Assign)) else None
        if isinstance(value, ast.Check):
            return frozenset(("passed", "details"))
        if isinstance(value, ast.DictLit):
            return frozenset(k for k, _ in value.entries)
        if isinstance(value, ast.Agent) and value.result is not None:
            t = value.result.inner if isinstance(value.result, ast.OptionalType) else value.result
            decl = schemas.records_of(ctx.program).get(t.name) if isinstance(t, ast.NamedType) else None
            if decl is not None:
                return frozenset(f.name for f in decl.fields)
            return frozenset()
        return None

    # ---- vote

    def rhs_Vote(self, e: ast.Vote, ctx: _Ctx, out: list[str], *, hint: str = "voted",
                 need_value: bool = True) -> str:
        where = f"vote (line {e.span.line})"
        voter = self.namer.fresh("voter")
        scope, inits = self.new_scope(ctx, e.body, {})
        inner = replace(ctx, scope=scope, indices=ctx.indices + (("voter", f"{voter} + 1"),),
                        copy=("voter", f"{voter} + 1"),
                        top_level=False, answer=None, item=None, stop=None)
        fn = self.copy_thunk(e.body, inits, inner)
        votes = self.namer.fresh(hint + "Votes")
        out.append(f"const {votes} = await {self.helper('runParallel')}({self.helper('range')}({self.expr(e.count, ctx, top=True)})"
                   f".map(({voter}) => {fn}))")
        quorum = "1" if e.quorum is None else self.expr(e.quorum, ctx, top=True)
        return f"{self.helper('voteWinner')}({votes}, {quorum}, {js_string(where)})"

    # ---- tournament

    def rhs_Tournament(self, e: ast.Tournament, ctx: _Ctx, out: list[str], *, hint: str = "winner",
                       need_value: bool = True) -> str:
        where = f"tournament (line {e.span.line})"
        match = self.namer.fresh("match")
        a, b = self.namer.js(e.a), self.namer.js(e.b)
        scope, inits = self.new_scope(ctx, e.body, {e.a: a, e.b: b})
        inner = replace(ctx, scope=scope, indices=ctx.indices + (("match", match),), top_level=False, answer=None,
                        item=None, stop=None)
        answer = self.namer.fresh("answer") if "answer" in _assigned(e.body) else self.namer.js("answer")
        body = inits + self.value_body(e.body, inner, finish=f"const {answer} = {{}}")
        judged = replace(inner, scope=_Scope({}, scope, set()),
                         answer=(answer, self.answer_fields(e.body, ctx)))
        cond = self.cond(e.cond, judged)
        advance = cond if e.pick == e.a else f"!{_atomic_cond(cond)}"
        body.append(f"return {answer} === null ? null : {_strip_parens(advance)}"
                    f"  // true: {e.a} advances")
        judge = _async_fn(f"{a}, {b}, {match}", body)
        items = f"{self.helper('iter')}({self.expr(e.iter, ctx, top=True)})"
        return f"await {self.helper('playBracket')}({items}, {judge}, {js_string(where)})"

    # ---- repeat

    def rhs_Repeat(self, e: ast.Repeat, ctx: _Ctx, out: list[str], *, hint: str = "repeated",
                   need_value: bool = True) -> str:
        """Rounds 1..K; `stop when` breaks; assignments land in the enclosing scope; `as i`
        is the loop's own counter; the value is the last statement run in the last round."""
        counter = self.namer.js(e.var) if e.var else self.namer.fresh("round")
        value = self.namer.fresh(hint + "Value") if need_value else None
        if value:
            out.append(f"let {value} = null  // the last round's last value; None when a `stop when` ended it")
        limit = self.size_code(e.max, ctx)

        def stop(s: ast.StopWhen) -> list[str]:
            said = js_template([("text", f"repeat (line {e.span.line}): stopped in round "), ("code", counter),
                                ("text", " of "), ("code", f"{self.helper('text')}({limit})"),
                                ("text", f" (stop when {self.source_text(s.cond, ctx)})")])
            return [f"log({said})"] + ([f"{value} = null"] if value else []) + ["break"]

        scope = _Scope({e.var: counter}, ctx.scope) if e.var else ctx.scope
        inner = replace(ctx, scope=scope, indices=ctx.indices + (("round", counter),), stop=stop)
        out.append(f"for (let {counter} = 1; {counter} <= {limit}; {counter}++) {{  // repeat max {limit}")
        body: list[str] = []
        for k, s in enumerate(e.body):
            body += self.comment(s, inner)
            # a round that runs to its end leaves the last statement's value
            body += self.stmt(s, inner, track=value if k == len(e.body) - 1 else None)
        out += _indent(body)
        out.append("}")
        return value or "null"

    # ---- fix

    def rhs_Fix(self, e: ast.Fix, ctx: _Ctx, out: list[str], *, hint: str = "fixed",
                need_value: bool = True) -> str:
        last = self.namer.fresh("last")
        attempts = self.namer.fresh("attempts")
        run_check = self.namer.fresh("runCheck")
        attempt = self.namer.fresh("attempt")
        check_ctx = replace(ctx, indices=ctx.indices + (("check", attempt),))
        if not isinstance(e.check, (ast.Check, ast.Agent)):
            raise CompileError("`until` takes a check or an agent", e.check)
        limit = self.size_code(e.max, ctx)
        out.append(f"const {run_check} = ({attempt}) => {self.agent_call(e.check, check_ctx)}")
        out.append(f"let {last} = await {run_check}(0)")
        out.append(f"let {attempts} = 0")
        checks = None
        if e.stall is not None:
            checks = self.namer.fresh("checks")
            out.append(f"const {checks} = [{last}]  // for `stall`")
        out.append(f"while (!{self.helper('checkPassed')}({last}) && {attempts} < {limit}) {{  // fix max {limit}")
        body = [f"{attempts}++"]
        # the body reads `last` (the check's answer so far) and `attempt` (1..K)
        scope = _Scope({"last": last, "attempt": attempts}, ctx.scope)
        inner = replace(ctx, scope=scope, indices=ctx.indices + (("attempt", attempts),), stop=None)
        body += self.block(e.body, inner)
        body.append(f"{last} = await {run_check}({attempts})")
        if checks is not None:
            stall = self.expr(e.stall, ctx, top=True)  # type: ignore[arg-type]
            body.append(f"{checks}.push({last})")
            body.append(f"if ({self.helper('checksStalled')}({checks}, {stall})) break  // stall {stall}")
        out += _indent(body)
        out.append("}")
        out.append(f"log({js_string(f'fix (line {e.span.line}): ')} + "
                   f"{self.helper('fixOutcome')}({self.helper('checkPassed')}({last}), {attempts}, {limit}))")
        fields = [f"passed: {self.helper('checkPassed')}({last})", _property("attempts", attempts),
                  _property("last", last)]
        return "{ " + ", ".join(fields) + " }"

    # ------------------------------------------------------------------ pure expressions

    def text(self, e: ast.Expr, ctx: _Ctx) -> str:
        """text(e): a template for a string literal, else text(code)."""
        if isinstance(e, ast.StrLit):
            return js_template(self.text_parts(e, ctx))
        return f"{self.helper('text')}({self.expr(e, ctx, top=True)})"

    def text_parts(self, e: ast.Expr, ctx: _Ctx) -> list[tuple[str, str]]:
        if isinstance(e, ast.StrLit):
            return [("text", p) if isinstance(p, str) else ("code", f"{self.helper('text')}({self.expr(p, ctx, top=True)})")
                    for p in e.parts]
        return [("code", f"{self.helper('text')}({self.expr(e, ctx, top=True)})")]

    def expr(self, e: ast.Expr, ctx: _Ctx, top: bool = False) -> str:
        method = getattr(self, f"expr_{type(e).__name__}", None)
        if method is None:
            raise CompileError(f"{type(e).__name__} cannot stand inside an expression", e)
        code = method(e, ctx)
        return _strip_parens(code) if top else code

    def expr_StrLit(self, e: ast.StrLit, ctx: _Ctx) -> str:
        return js_template(self.text_parts(e, ctx))

    def expr_IntLit(self, e: ast.IntLit, ctx: _Ctx) -> str:
        return f"({e.value})" if e.value < 0 else str(e.value)

    def expr_FloatLit(self, e: ast.FloatLit, ctx: _Ctx) -> str:
        if not math.isfinite(e.value):  # `1e999` reads as infinity: no portable value
            raise CompileError(f"the number {self.source_of(e, ctx)} is too large", e)
        code = js_number(e.value)
        return f"({code})" if code.startswith("-") else code

    def expr_BoolLit(self, e: ast.BoolLit, ctx: _Ctx) -> str:
        return "true" if e.value else "false"

    def expr_NoneLit(self, e: ast.NoneLit, ctx: _Ctx) -> str:
        return "null"

    def expr_Name(self, e: ast.Name, ctx: _Ctx) -> str:
        if ctx.answer is not None:
            answer, fields = ctx.answer
            if e.id == "answer":
                return answer
            if fields is not None and e.id in fields:
                return f"({answer}{js_member(e.id)} ?? null)"
            if fields is None:  # the answer's type is not known here: its fields win at run time
                outer = ctx.scope.lookup(e.id)
                if outer is None:
                    return f"({answer}{js_member(e.id)} ?? null)"
                return f"{self.helper('fieldOr')}({answer}, {js_string(e.id)}, {outer})"
        js = ctx.scope.lookup(e.id)
        if js is None:
            if e.id == "budget":
                raise CompileError("`budget` alone: write budget.remaining or budget.total", e)
            raise CompileError(f"unknown name `{e.id}`", e)
        return js

    def expr_Field(self, e: ast.Field, ctx: _Ctx) -> str:
        if isinstance(e.obj, ast.Name) and e.obj.id == "budget" and ctx.scope.lookup("budget") is None:
            if e.name == "remaining":
                return f"{self.helper('budgetRemaining')}()"
            if e.name == "total":
                return f"{self.helper('budgetTotal')}()"
            raise CompileError(f"budget.{e.name}: only budget.remaining and budget.total exist", e)
        chain = [e.name]
        obj = e.obj
        while isinstance(obj, ast.Field) and not (isinstance(obj.obj, ast.Name) and obj.obj.id == "budget"):
            chain.insert(0, obj.name)
            obj = obj.obj
        base = self.expr(obj, ctx)
        if base.startswith("(") and base.endswith(" ?? null)"):
            base = base[1:-len(" ?? null)")]  # extend the chain rather than nest it
        return f"({base}{''.join(js_member(n) for n in chain)} ?? null)"

    def expr_Accessor(self, e: ast.Accessor, ctx: _Ctx) -> str:
        return f"(v) => v{''.join(js_member(n) for n in e.path)} ?? null"

    def expr_Index(self, e: ast.Index, ctx: _Ctx) -> str:
        return f"{self.helper('itemAt')}({self.expr(e.obj, ctx, top=True)}, {self.expr(e.index, ctx, top=True)})"

    def expr_Slice(self, e: ast.Slice, ctx: _Ctx) -> str:
        lo = "null" if e.lo is None else self.expr(e.lo, ctx, top=True)
        hi = "null" if e.hi is None else self.expr(e.hi, ctx, top=True)
        return f"{self.helper('sliceOf')}({self.expr(e.obj, ctx, top=True)}, {lo}, {hi})"

    def expr_BinOp(self, e: ast.BinOp, ctx: _Ctx) -> str:
        fn = _SIMPLE_BINOPS.get(e.op)
        if fn is None:
            raise CompileError(f"unknown operator {e.op}", e)
        return f"{self.helper(fn)}({self.expr(e.left, ctx, top=True)}, {self.expr(e.right, ctx, top=True)})"

    def expr_UnaryOp(self, e: ast.UnaryOp, ctx: _Ctx) -> str:
        if e.op == "not":
            return f"!{_atomic_cond(self.cond(e.operand, ctx))}"
        return f"{self.helper('negate')}({self.expr(e.operand, ctx, top=True)})"

    def expr_Compare(self, e: ast.Compare, ctx: _Ctx) -> str:
        a = self.expr(e.left, ctx, top=True)
        b = self.expr(e.right, ctx, top=True)
        if e.op == "==":
            return f"{self.helper('equal')}({a}, {b})"
        if e.op == "!=":
            return f"!{self.helper('equal')}({a}, {b})"
        if e.op == "in":
            return f"{self.helper('contains')}({b}, {a})"
        if e.op == "not in":
            return f"!{self.helper('contains')}({b}, {a})"
        return f"({self.helper('compare')}({a}, {b}) {e.op} 0)"

    def expr_BoolOp(self, e: ast.BoolOp, ctx: _Ctx) -> str:
        a = self.expr(e.left, ctx, top=True)
        b = self.expr(e.right, ctx, top=True)
        if _is_simple(e.left):
            t = f"{self.helper('truthy')}({a})"
            return f"({t} ? {b} : {a})" if e.op == "and" else f"({t} ? {a} : {b})"
        fn = "bothValue" if e.op == "and" else "eitherValue"
        return f"{self.helper(fn)}({a}, () => {b})"

    def expr_CondExpr(self, e: ast.CondExpr, ctx: _Ctx) -> str:
        return (f"({_atomic_cond(self.cond(e.cond, ctx))} ? {self.expr(e.then, ctx)} : "
                f"{self.expr(e.orelse, ctx)})")

    def expr_ListLit(self, e: ast.ListLit, ctx: _Ctx) -> str:
        return "[" + ", ".join(self.expr(x, ctx, top=True) for x in e.items) + "]"

    expr_TupleLit = expr_ListLit

    def expr_DictLit(self, e: ast.DictLit, ctx: _Ctx) -> str:
        if not e.entries:
            return "{}"
        entries = [_property(k, self.expr(v, ctx, top=True)) for k, v in e.entries]
        one = "{ " + ", ".join(entries) + " }"
        if len(one) <= 90 and "\n" not in one:
            return one
        return "{\n" + "\n".join(_indent([x + "," for x in entries])) + "\n}"

    def expr_ListComp(self, e: ast.ListComp, ctx: _Ctx) -> str:
        """Python order: each `for` maps (flatMap when more clauses follow), each `if` filters."""
        def build(clauses: list[ast.CompFor | ast.CompIf], scope: _Scope) -> str:
            inner = replace(ctx, scope=scope)
            if not clauses:
                return "[" + self.expr(e.elt, inner, top=True) + "]"
            head, rest = clauses[0], clauses[1:]
            if isinstance(head, ast.CompIf):
                return f"({_strip_parens(self.cond(head.cond, inner))} ? {build(rest, scope)} : [])"
            var = self.namer.js(head.var)
            child = _Scope({head.var: var}, scope)
            it = f"{self.helper('iter')}({self.expr(head.iter, inner, top=True)})"
            if head.index_var is not None:  # the index of the item in the list, before any `if`
                index = self.namer.js(head.index_var)
                child = _Scope({head.var: var, head.index_var: index}, scope)
                return f"{it}.flatMap(({var}, {index}) => {build(rest, child)})"
            if not rest:
                return f"{it}.map(({var}) => {_arrow_body(self.expr(e.elt, replace(ctx, scope=child), top=True))})"
            if all(isinstance(c, ast.CompIf) for c in rest):
                conds = " && ".join(_atomic_cond(self.cond(c.cond, replace(ctx, scope=child))) for c in rest)  # type: ignore[union-attr]
                return (f"{it}.filter(({var}) => {conds})"
                        f".map(({var}) => {_arrow_body(self.expr(e.elt, replace(ctx, scope=child), top=True))})")
            return f"{it}.flatMap(({var}) => {build(rest, child)})"
        return build(list(e.clauses), ctx.scope)

    def expr_Lambda(self, e: ast.Lambda, ctx: _Ctx) -> str:
        names = {p: self.namer.js(p) for p in e.params}
        inner = replace(ctx, scope=_Scope(names, ctx.scope))
        return f"(({', '.join(names.values())}) => {_arrow_body(self.expr(e.body, inner, top=True))})"

    def expr_Agent(self, e: ast.Agent, ctx: _Ctx) -> str:
        raise CompileError("an agent inside an expression: assign it to a name first", e)

    # ---- builtins

    def expr_Call(self, e: ast.Call, ctx: _Ctx) -> str:
        b = builtins.get(e.func)
        if b is None:
            fn = self.fn_js.get((id(ctx.program), e.func))
            if fn is None:
                raise CompileError(f"unknown builtin `{e.func}`", e)
            # a `def` of the program: a plain JS function (transpiler/functions.py)
            return f"{fn}({', '.join(self.expr(a, ctx, top=True) for a in e.args)})"

        kwargs = {k.name: k.value for k in e.kwargs}
        args = [self.expr(a, ctx, top=True) for a in e.args]
        method = getattr(self, f"call_{e.func}", None)
        if method is not None:  # a builtin whose helper takes more than its arguments
            return method(e, args, kwargs, ctx)
        if b.pattern_at is not None:  # a checked pattern of the dialect: a JS regex literal
            pattern = pattern_literal(e.args[b.pattern_at], lambda name: _constant(ctx.program, name))
            if pattern is None:
                raise CompileError(f"{e.func}: the pattern is not a literal", e)
            args[b.pattern_at] = "/" + translate(pattern).js + "/" + ("gu" if b.global_flag else "u")
        if b.logs_cut:  # (label, keywords in declared order, arguments): see builtins/base.py
            keywords = [self.expr(kwargs[k], ctx, top=True) if k in kwargs else "null" for k in b.keywords]
            args = [js_string(f"{e.func} (line {e.span.line})"), *keywords, *args]
        else:  # the arguments, then the keywords in their declared order
            args += [self.expr(kwargs[k], ctx, top=True) for k in b.keywords if k in kwargs]
        return f"{self.helper(b.js)}({', '.join(args)})"

    def call_json(self, e: ast.Call, args: list[str], kwargs: dict[str, ast.Expr], ctx: _Ctx) -> str:
        if "indent" not in kwargs:
            return f"{self.helper('json')}({args[0]})"
        return f"{self.helper('jsonIndent')}({args[0]}, {self.expr(kwargs['indent'], ctx, top=True)})"

    def key_args(self, e: ast.Call, kwargs: dict[str, ast.Expr], ctx: _Ctx, by_pos: int) -> tuple[str, str]:
        """(key function or 'null', comparator or 'compare') of a sort/top/min/max call."""
        by = kwargs.get("by")
        if by is None and len(e.args) > by_pos:
            by = e.args[by_pos]
        key = "null" if by is None else self.key_fn(by, ctx)
        orders = e.key_orders
        if not orders or all(o is None for o in orders):
            return key, "compare"
        if isinstance(by, ast.TupleLit):  # a compound key: one order per component
            inner = ", ".join("null" if o is None else js_value(list(o)) for o in orders)
            return key, f"{self.helper('rankedTuple')}([{inner}])"
        if orders[0] is None:
            return key, "compare"
        return key, f"{self.helper('ranked')}({js_value(list(orders[0]))})"

    def key_fn(self, by: ast.Expr, ctx: _Ctx) -> str:
        if isinstance(by, ast.TupleLit):
            parts = []
            for item in by.items:
                if isinstance(item, ast.Accessor):
                    parts.append("v" + "".join(js_member(n) for n in item.path) + " ?? null")
                else:
                    parts.append(f"{self.expr(item, ctx)}(v)")
            return "(v) => [" + ", ".join(parts) + "]"
        return self.expr(by, ctx, top=True)

    def call_sort(self, e: ast.Call, args: list[str], kwargs: dict[str, ast.Expr], ctx: _Ctx) -> str:
        key, cmp = self.key_args(e, kwargs, ctx, 1)
        reverse = kwargs.get("reverse")
        rev = "false" if reverse is None else self.expr(reverse, ctx, top=True)
        return self.trimmed("sort", [args[0], key, self.helper(cmp) if cmp == "compare" else cmp, rev],
                            ["null", "compare", "false"])

    def call_top(self, e: ast.Call, args: list[str], kwargs: dict[str, ast.Expr], ctx: _Ctx) -> str:
        key, cmp = self.key_args(e, kwargs, ctx, 2)
        return self.trimmed("top", [js_string(f"top (line {e.span.line})"), args[0], args[1], key,
                                    self.helper(cmp) if cmp == "compare" else cmp], ["null", "compare"])

    def call_unique(self, e: ast.Call, args: list[str], kwargs: dict[str, ast.Expr], ctx: _Ctx) -> str:
        key, _ = self.key_args(e, kwargs, ctx, 1)
        return self.trimmed("unique", [args[0], key], ["null"])

    def call_min(self, e: ast.Call, args: list[str], kwargs: dict[str, ast.Expr], ctx: _Ctx,
                 name: str = "min") -> str:
        if len(e.args) >= 2:  # min(a, b, ...) compares its arguments
            items = "[" + ", ".join(args) + "]"
            key, cmp = self.key_args(e, kwargs, ctx, 99)
        else:
            items = args[0]
            key, cmp = self.key_args(e, kwargs, ctx, 1)
        return self.trimmed(name, [items, key, self.helper(cmp) if cmp == "compare" else cmp], ["null", "compare"])

    def call_max(self, e: ast.Call, args: list[str], kwargs: dict[str, ast.Expr], ctx: _Ctx) -> str:
        return self.call_min(e, args, kwargs, ctx, name="max")

    def trimmed(self, name: str, args: list[str], defaults: list[str]) -> str:
        """name(args) without trailing arguments that equal their defaults."""
        fixed = len(args) - len(defaults)
        while len(args) > fixed and args[-1] == defaults[len(args) - fixed - 1]:
            args.pop()
        return f"{self.helper(name)}({', '.join(args)})"

    # ---- conditions

    def cond(self, e: ast.Expr, ctx: _Ctx) -> str:
        """A JS boolean with e's truthiness (no truthy() call where the value is a boolean)."""
        if isinstance(e, ast.BoolOp):
            op = "&&" if e.op == "and" else "||"
            return f"({_atomic_cond(self.cond(e.left, ctx))} {op} {_atomic_cond(self.cond(e.right, ctx))})"
        if isinstance(e, ast.UnaryOp) and e.op == "not":
            return f"!{_atomic_cond(self.cond(e.operand, ctx))}"
        if isinstance(e, (ast.Compare, ast.BoolLit)):
            return self.expr(e, ctx)
        return f"{self.helper('truthy')}({self.expr(e, ctx, top=True)})"


# ---------------------------------------------------------------------------- small pure helpers

_NOT_LITERAL = object()


def _literal(e: ast.Expr) -> Any:
    if isinstance(e, ast.StrLit):
        return e.text if e.is_plain else _NOT_LITERAL
    if isinstance(e, (ast.IntLit, ast.FloatLit, ast.BoolLit)):
        return e.value
    if isinstance(e, ast.NoneLit):
        return None
    if isinstance(e, (ast.ListLit, ast.TupleLit)):
        items = [_literal(x) for x in e.items]
        return _NOT_LITERAL if any(x is _NOT_LITERAL for x in items) else items
    if isinstance(e, ast.DictLit):
        entries = {k: _literal(v) for k, v in e.entries}
        return _NOT_LITERAL if any(x is _NOT_LITERAL for x in entries.values()) else entries
    return _NOT_LITERAL


def _constant(program: ast.Program, name: str) -> ast.Expr | None:
    c = next((c for c in program.consts if c.targets == [name]), None)
    return c.value if c is not None else None


def _property(key: str, code: str) -> str:
    """`key: code`, or the shorthand `key` when the value is the variable of that name."""
    return key if code == key and js_key(key) == key else f"{js_key(key)}: {code}"


def _is_simple(e: ast.Expr) -> bool:
    """Cheap to evaluate twice: a name, a literal, or fields of a name."""
    while isinstance(e, ast.Field):
        e = e.obj
    return isinstance(e, (ast.Name, ast.IntLit, ast.FloatLit, ast.BoolLit, ast.NoneLit)) or (
        isinstance(e, ast.StrLit) and e.is_plain)


def _async_fn(params: str, lines: list[str]) -> str:
    """`async (params) => {` the lines, indented, `}`."""
    return f"async ({params}) => {{\n" + "\n".join(_indent(lines)) + "\n}"


def _arrow_body(code: str) -> str:
    """An arrow function's body: an object literal needs parentheses (`() => ({...})`)."""
    return f"({code})" if code.startswith("{") else code


def _call_or_value(v: Any) -> Any:
    """The checker's bound has methods (`phases()`, `formula()`); a plain summary has values."""
    return v() if callable(v) else v


def _has_code(v: Any) -> bool:
    if isinstance(v, JsCode):
        return True
    if isinstance(v, dict):
        return any(_has_code(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_code(x) for x in v)
    return False
