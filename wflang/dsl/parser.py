"""`.wf` text → `ast.Program`, or diagnostics.

lark's LALR parser with a contextual lexer and an indenter, built once per process and
cached on disk by lark (`cache=True`), so `wf check` starts fast.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from wflang.dsl import ast
from wflang.dsl.diagnostics import Diagnostic, WfError
from wflang.dsl.span import Span
from wflang.dsl.strings import Interpolation, split_string

_CONTINUATION = re.compile(r"(->|with\b)")


class _WfIndenter(Indenter):
    """Python-style INDENT/DEDENT, plus continuation lines: a line that starts with `->`
    or `with` continues the line before it (`agent "..."` / `-> T` / `with model=...`)."""

    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def __init__(self) -> None:
        super().__init__()
        self.text = ""

    def handle_NL(self, token: Token) -> Iterator[Token]:
        if self.paren_level > 0:
            return
        end = token.end_pos if token.end_pos is not None else 0
        if _CONTINUATION.match(self.text, end):
            return
        indent_str = token.rsplit("\n", 1)[1]
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        yield token
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
        else:
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
            if indent != self.indent_level[-1]:
                line = (token.end_line or token.line)
                raise WfError([Diagnostic(
                    "WF102", "this line's indentation matches no enclosing block",
                    Span(line, 1, line, indent + 1),
                    f"indent it to one of the columns {', '.join(str(i + 1) for i in self.indent_level)}"
                    " (the blocks it could belong to)")])


_lock = threading.Lock()
_parser: Lark | None = None
_indenter: _WfIndenter | None = None


def _get_parser() -> tuple[Lark, _WfIndenter]:
    global _parser, _indenter
    if _parser is None:
        grammar = resources.files("wflang.dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
        _indenter = _WfIndenter()
        _parser = Lark(grammar, parser="lalr", lexer="contextual", postlex=_indenter,
                       start=["start", "expr"], propagate_positions=True, maybe_placeholders=True,
                       cache=True)
    assert _indenter is not None
    return _parser, _indenter


def parse(source: str, file: str = "<input>") -> ast.Program:
    """Parse a whole program. Raises `WfError` with located diagnostics."""
    _check_layout(source)
    text = source if source.endswith("\n") else source + "\n"
    tree = _run(text, "start")
    builder = _Builder(file, source)
    try:
        program = builder.transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, WfError):
            raise e.orig_exc from None
        raise
    return program


def parse_expression(source: str, line: int = 1, col: int = 1) -> ast.Expr:
    """Parse one expression (an interpolation), with spans shifted to (line, col)."""
    tree = _run(source, "expr", line, col)
    try:
        expr = _Builder("", source).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, WfError):
            raise e.orig_exc from None
        raise
    _shift(expr, line, col)
    return expr


def _run(text: str, start: str, line: int = 1, col: int = 1) -> Any:
    parser, indenter = _get_parser()
    with _lock:
        indenter.text = text
        try:
            return parser.parse(text, start=start)
        except UnexpectedInput as e:
            raise WfError([_syntax_diagnostic(e, text, line, col)]) from None


def _check_layout(source: str) -> None:
    """Tabs in indentation are refused up front: their width is a matter of taste."""
    for n, text in enumerate(source.splitlines(), 1):
        lead = text[: len(text) - len(text.lstrip(" \t"))]
        if "\t" in lead and text.strip() and not text.lstrip().startswith("#"):
            col = lead.index("\t") + 1
            raise WfError([Diagnostic("WF103", "a tab in indentation", Span(n, col, n, col + 1),
                                      "indent with spaces (4 per level is the convention)")])


# ---------------------------------------------------------------- syntax errors

_TOKEN_NAMES = {
    "_NL": "end of line", "_INDENT": "an indented block", "_DEDENT": "the end of a block",
    "$END": "end of file", "NAME": "a name", "STRING": "a string", "LONG_STRING": "a string",
    "INT": "a number", "FLOAT": "a number", "COLON": "`:`", "LPAR": "`(`", "RPAR": "`)`",
    "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`", "COMMA": "`,`",
    "EQUAL": "`=`", "DOT": "`.`", "KEEP_ALL": "`all`",
}


def _describe(term: str) -> str:
    if term in _TOKEN_NAMES:
        return _TOKEN_NAMES[term]
    parser, _ = _get_parser()
    for t in parser.terminals:
        if t.name == term and t.pattern.type == "str":
            return f"`{t.pattern.value}`"
    return term.lower()


def _syntax_diagnostic(e: UnexpectedInput, text: str, line0: int, col0: int) -> Diagnostic:
    def at(line: int, col: int, width: int = 1) -> Span:
        if line == 1:
            col += col0 - 1
        line += line0 - 1
        return Span(line, col, line, col + max(1, width))

    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        span = at(e.line, e.column)
        if ch in "\"'":
            return Diagnostic("WF104", "this string is never closed", span,
                              "close it on the same line, or use \"\"\"...\"\"\" for text over several lines")
        return Diagnostic("WF101", f"unexpected character `{ch}`", span,
                          "remove it; strings go between quotes, comments start with `#`")
    if isinstance(e, UnexpectedToken):
        tok = e.token
        expected = sorted({_describe(t) for t in e.expected if not t.startswith("__")})
        hint = ("expected " + ", ".join(expected[:8]) + (" ..." if len(expected) > 8 else "")) if expected else None
        if tok.type == "$END":
            line = text.count("\n") or 1
            return Diagnostic("WF105", "the file ends in the middle of a construct",
                              at(line, 1), hint)
        width = len(str(tok.value)) if tok.type not in ("_NL", "_INDENT", "_DEDENT") else 1
        line = tok.line or 1
        col = tok.column or 1
        if tok.type == "_INDENT":
            return Diagnostic("WF102", "unexpected indentation", at((tok.end_line or line), 1),
                              "this line is indented more than the one before, which opens no block")
        if tok.type == "_DEDENT":
            return Diagnostic("WF102", "this block ends too early", at((tok.end_line or line), 1), hint)
        if tok.type == "_NL":
            msg = "this line ends too early"
            if "`:`" in expected:
                msg = "expected `:` at the end of this line"
                hint = "a line that opens a block ends with `:`"
            return Diagnostic("WF106", msg, at(line, col), hint)
        return Diagnostic("WF107", f"unexpected {_describe(tok.type) if tok.type != 'NAME' else f'name `{tok.value}`'}",
                          at(line, col, width), hint)
    if isinstance(e, UnexpectedEOF):
        return Diagnostic("WF105", "the file ends in the middle of a construct", None,
                          "finish the last statement")
    return Diagnostic("WF101", str(e).splitlines()[0], None)


# ---------------------------------------------------------------- tree → AST


def _span(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, 0, 0, 0)
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(tok: Token) -> Span:
    return Span(tok.line or 0, tok.column or 0, tok.end_line or tok.line or 0,
                tok.end_column or (tok.column or 0) + len(str(tok)))


def _shift(node: Any, line: int, col: int) -> None:
    for n in ast.walk(node):
        s = n.span
        if s.line == 0:
            continue
        sc = s.col + col - 1 if s.line == 1 else s.col
        ec = s.end_col + col - 1 if s.end_line == 1 else s.end_col
        n.span = Span(s.line + line - 1, sc, s.end_line + line - 1, ec)


def _int(tok: Token) -> int:
    return int(str(tok).replace("_", ""))


@v_args(meta=True, inline=True)
class _Builder(Transformer):
    def __init__(self, file: str, source: str) -> None:
        super().__init__()
        self.file = file
        self.source = source

    # ---- program
    def start(self, meta, *items):
        header = items[0]
        inputs, types, defaults, budget, consts, body = [], [], [], [], [], []
        for it in items[1:]:
            if isinstance(it, ast.InputDecl):
                inputs.append(it)
            elif isinstance(it, ast.TypeDecl):
                types.append(it)
            elif isinstance(it, tuple) and it[0] == "defaults":
                defaults.extend(it[1])
            elif isinstance(it, tuple) and it[0] == "budget":
                budget.extend(it[1])
            elif (isinstance(it, ast.Assign) and not body and len(it.targets) == 1
                  and it.targets[0].isupper()):
                consts.append(it)  # NAME = ... in capitals, before any statement: a constant
            else:
                body.append(it)
        return ast.Program(self.file, self.source, header, inputs, types, defaults, budget, consts, body,
                           span=_span(meta))

    def workflow_header(self, meta, name, *entries):
        h = ast.Header(name[0], span=name[1])
        for key, kspan, value in entries:
            if key in h.fields:
                raise WfError([Diagnostic("WF108", f"`{key}` is given twice in the header", kspan,
                                          "keep one")])
            h.fields[key] = kspan
            if key in ("description", "when"):
                if not isinstance(value, str):
                    raise WfError([Diagnostic("WF108", f"`{key}` takes a string", kspan,
                                              f'write {key}: "..."')])
                setattr(h, key, value)
            elif key == "permissions":
                names = [value] if isinstance(value, str) else value
                h.permissions = list(names)
            else:
                raise WfError([Diagnostic("WF108", f"unknown header entry `{key}`", kspan,
                                          "the header takes description, when and permissions")])
        return h

    def wf_name(self, meta, *parts):
        return "-".join(str(p) for p in parts), _span(meta)

    def header_entry(self, meta, key, value):
        return str(key[0]), key[1], value

    def header_key(self, meta, tok):
        return str(tok), _tok_span(tok)

    def header_string(self, meta, tok):
        parts = self._string_parts(tok)
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", "header strings cannot interpolate", _tok_span(tok),
                                      "write plain text; {{ and }} give braces")])
        return "".join(parts)

    def header_names(self, meta, *names):
        return [str(n) for n in names]

    # ---- declarations
    def input_decl(self, meta, name, typ, default):
        return ast.InputDecl(str(name), typ, default, span=_span(meta))

    def type_decl(self, meta, name, *fields):
        return ast.TypeDecl(str(name), list(fields), span=_span(meta))

    def field_decl(self, meta, name, typ):
        return ast.FieldDecl(str(name), typ, span=_span(meta))

    def defaults_decl(self, meta, *options):
        return ("defaults", list(options))

    def budget_decl(self, meta, *limits):
        return ("budget", list(limits))

    def budget_limit(self, meta, key, value):
        return ast.BudgetLimit(str(key), value, span=_span(meta))

    def phase_block(self, meta, title, body):
        parts = self._string_parts(title)
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", "a phase title cannot interpolate", _tok_span(title),
                                      "phase titles are fixed text; they are listed in the compiled meta")])
        return ast.Phase("".join(parts), body, title_span=_tok_span(title), span=_span(meta))

    # ---- types
    def named_type(self, meta, name, max_):
        return ast.NamedType(str(name), max_, span=_span(meta))

    def list_type(self, meta, name, item, max_):
        if str(name) != "list":
            raise WfError([Diagnostic("WF201", f"`{name}[...]` is not a type", _tok_span(name),
                                      "the only type with a parameter is list[T] max N")])
        return ast.ListType(item, max_, span=_span(meta))

    def union_type(self, meta, *options):
        texts = []
        for o in options:
            parts = self._string_parts(o)
            if not all(isinstance(p, str) for p in parts):
                raise WfError([Diagnostic("WF108", "a union option cannot interpolate", _tok_span(o))])
            texts.append("".join(parts))
        return ast.UnionType(texts, span=_span(meta))

    def optional_type(self, meta, inner):
        return ast.OptionalType(inner, span=_span(meta))

    def max_clause(self, meta, tok):
        if tok.type == "INT":
            return ast.IntLit(_int(tok), span=_tok_span(tok))
        return ast.Name(str(tok), span=_tok_span(tok))

    # ---- statements
    def block(self, meta, *stmts):
        return list(stmts)

    def targets(self, meta, *names):
        return [str(n) for n in names]

    def assign(self, meta, targets, value):
        return ast.Assign(targets, value, span=_span(meta))

    def expr_stmt(self, meta, value):
        return ast.ExprStmt(value, span=_span(meta))

    def log_stmt(self, meta, value):
        return ast.Log(value, span=_span(meta))

    def return_stmt(self, meta, value):
        return ast.Return(value, span=_span(meta))

    def stop_stmt(self, meta, cond):
        return ast.StopWhen(cond, span=_span(meta))

    def accept_stmt(self, meta, cond):
        return ("accept", cond, _span(meta))

    def pick_stmt(self, meta, name, cond):
        return ("pick", str(name), cond, _span(meta), _tok_span(name))

    def if_stmt(self, meta, cond, then, *rest):
        elifs = [r for r in rest if r is not None and r[0] == "elif"]
        orelse: list = next((r[1] for r in rest if r is not None and r[0] == "else"), [])
        for _, c, body, sp in reversed(elifs):
            orelse = [ast.If(c, body, orelse, span=sp)]
        return ast.If(cond, then, orelse, span=_span(meta))

    def elif_clause(self, meta, cond, body):
        return ("elif", cond, body, _span(meta))

    def else_clause(self, meta, body):
        return ("else", body)

    # ---- agents
    def agent_expr(self, meta, prompt, result, options):
        return ast.Agent(prompt, result, options or [], span=_span(meta))

    def result_type(self, meta, typ):
        return typ

    def with_options(self, meta, *options):
        return list(options)

    def option(self, meta, name, value):
        return ast.Option(str(name), value, span=_span(meta))

    def check_expr(self, meta, prompt, options):
        return ast.Check(prompt, options or [], span=_span(meta))

    def run_expr(self, meta, path, args):
        return ast.RunWorkflow(self._plain(path, "a workflow path"), args, span=_span(meta))

    # ---- constructs
    def fanout(self, meta, var, it, options, body):
        stmts = self._plain_body(body, "fanout")
        return ast.Fanout(str(var), it, stmts, options or [], span=_span(meta))

    def for_loop(self, meta, var, it, body):
        return ast.Fanout(str(var), it, self._plain_body(body, "for"), [], sequential=True, span=_span(meta))

    def review(self, meta, var, it, by, keep, body):
        accept = self._take_last(body, "accept", "review", "accept when EXPR")
        count = lens_var = lenses = None
        if isinstance(by, ast.Compare) and by.op == "in" and isinstance(by.left, ast.Name):
            lens_var, lenses = by.left.id, by.right
        else:
            count = by
        keep_expr, keep_all = keep if keep is not None else (None, False)
        return ast.Review(str(var), it, count, lens_var, lenses, keep_expr, keep_all,
                          self._plain_body(body[:-1], "review"), accept[1], accept_span=accept[2],
                          span=_span(meta))

    def keep_clause(self, meta, value):
        if isinstance(value, Token) and value.type == "KEEP_ALL":
            return (None, True)
        return (value, False)

    def vote(self, meta, count, quorum, body):
        return ast.Vote(count, quorum, self._plain_body(body, "vote"), span=_span(meta))

    def tournament(self, meta, a, b, it, body):
        pick = self._take_last(body, "pick", "tournament", "pick a when EXPR")
        name = pick[1]
        if name not in (str(a), str(b)):
            raise WfError([Diagnostic("WF203", f"`pick {name}`: the contestants are `{a}` and `{b}`",
                                      pick[4], f"write `pick {a} when ...`")])
        return ast.Tournament(str(a), str(b), it, self._plain_body(body[:-1], "tournament"), name, pick[2],
                              span=_span(meta))

    def repeat(self, meta, max_, var, body):
        return ast.Repeat(max_, str(var) if var is not None else None, self._plain_body(body, "repeat"),
                          span=_span(meta))

    def fix(self, meta, max_, stall, body, check):
        return ast.Fix(max_, stall, self._plain_body(body, "fix"), check, span=_span(meta))

    def _take_last(self, body: list, kind: str, construct: str, form: str) -> tuple:
        last = body[-1] if body else None
        if not (isinstance(last, tuple) and last[0] == kind):
            where = _span_of(last) if last is not None else None
            raise WfError([Diagnostic("WF109", f"a `{construct}` block must end with `{form}`", where,
                                      f"add `{form}` as the last line of the block")])
        return last

    def _plain_body(self, body: list, construct: str) -> list:
        """Reject `accept when`/`pick` anywhere but the end of their own construct."""
        out = []
        for s in body:
            if isinstance(s, tuple):
                word = "accept when" if s[0] == "accept" else "pick"
                owner = "review" if s[0] == "accept" else "tournament"
                raise WfError([Diagnostic("WF109", f"`{word}` belongs at the end of a `{owner}` block",
                                          s[3] if s[0] == "accept" else s[3],
                                          f"move it to the last line of a `{owner}` block")])
            out.append(s)
        return out

    # ---- expressions
    def lambda_expr(self, meta, *args):
        *params, body = args
        return ast.Lambda([str(p) for p in params], body, span=_span(meta))

    def cond_expr(self, meta, then, cond, orelse):
        return ast.CondExpr(cond, then, orelse, span=_span(meta))

    def or_op(self, meta, a, b):
        return ast.BoolOp("or", a, b, span=_span(meta))

    def and_op(self, meta, a, b):
        return ast.BoolOp("and", a, b, span=_span(meta))

    def not_op(self, meta, a):
        return ast.UnaryOp("not", a, span=_span(meta))

    def neg(self, meta, a):
        if isinstance(a, (ast.IntLit, ast.FloatLit)):
            a.value = -a.value
            a.span = _span(meta)
            return a
        return ast.UnaryOp("-", a, span=_span(meta))

    def compare(self, meta, a, op, b):
        return ast.Compare(op, a, b, span=_span(meta))

    def in_op(self, meta, a, b):
        return ast.Compare("in", a, b, span=_span(meta))

    def not_in_op(self, meta, a, b):
        return ast.Compare("not in", a, b, span=_span(meta))

    def comp_op(self, meta, tok):
        return str(tok)

    add_op = comp_op
    mul_op = comp_op

    def merge(self, meta, a, b):
        return ast.BinOp("|", a, b, span=_span(meta))

    def binop(self, meta, a, op, b):
        return ast.BinOp(op, a, b, span=_span(meta))

    def field(self, meta, obj, name):
        return ast.Field(obj, str(name), span=_span(meta))

    def index(self, meta, obj, idx):
        return ast.Index(obj, idx, span=_span(meta))

    def slice(self, meta, obj, lo, hi):
        return ast.Slice(obj, lo, hi, span=_span(meta))

    def call(self, meta, name, args):
        pos: list = []
        kws: list = []
        for a in args or []:
            if isinstance(a, ast.Keyword):
                kws.append(a)
            elif kws:
                raise WfError([Diagnostic("WF110", "a positional argument after a keyword argument",
                                          a.span, "put positional arguments first")])
            else:
                pos.append(a)
        return ast.Call(str(name), pos, kws, span=_span(meta))

    def call_args(self, meta, *args):
        return list(args)

    def kwarg(self, meta, name, value):
        return ast.Keyword(str(name), value, span=_span(meta))

    def name(self, meta, tok):
        return ast.Name(str(tok), span=_tok_span(tok))

    def int_lit(self, meta, tok):
        return ast.IntLit(_int(tok), span=_tok_span(tok))

    def float_lit(self, meta, tok):
        return ast.FloatLit(float(str(tok).replace("_", "")), span=_tok_span(tok))

    def string(self, meta, tok):
        return ast.StrLit(self._string_parts(tok), span=_tok_span(tok))

    def true_lit(self, meta, *_):
        return ast.BoolLit(True, span=_span(meta))

    def false_lit(self, meta, *_):
        return ast.BoolLit(False, span=_span(meta))

    def none_lit(self, meta, *_):
        return ast.NoneLit(span=_span(meta))

    def accessor(self, meta, *names):
        return ast.Accessor([str(n) for n in names], span=_span(meta))

    def tuple_lit(self, meta, first, *rest):
        return ast.TupleLit([first, *[r for r in rest if r is not None]], span=_span(meta))

    def list_lit(self, meta, *items):
        return ast.ListLit([i for i in items if i is not None], span=_span(meta))

    def list_comp(self, meta, elt, *clauses):
        return ast.ListComp(elt, list(clauses), span=_span(meta))

    def comp_for(self, meta, var, it):
        return ast.CompFor(str(var), it, span=_span(meta))

    def comp_if(self, meta, cond):
        return ast.CompIf(cond, span=_span(meta))

    def dict_lit(self, meta, *entries):
        seen: dict[str, Span] = {}
        out = []
        for e in entries:
            if e is None:
                continue
            key, value, kspan = e
            if key in seen:
                raise WfError([Diagnostic("WF111", f"the key `{key}` appears twice", kspan,
                                          "keep one, or merge records with `|`")])
            seen[key] = kspan
            out.append((key, value))
        return ast.DictLit(out, span=_span(meta))

    def dict_entry(self, meta, key, value):
        if key.type == "NAME":
            return str(key), value, _tok_span(key)
        return self._plain(key, "a record key"), value, _tok_span(key)

    # ---- helpers
    def _string_parts(self, tok: Token) -> list:
        return split_string(str(tok), _tok_span(tok),
                            lambda it: parse_expression(it.source, it.line, it.col) if isinstance(it, Interpolation)
                            else it)

    def _plain(self, tok: Token, what: str) -> str:
        parts = self._string_parts(tok)
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", f"{what} cannot interpolate", _tok_span(tok),
                                      "write fixed text here")])
        return "".join(parts)


def _span_of(item: Any) -> Span | None:
    if isinstance(item, ast.Node):
        return item.span
    if isinstance(item, tuple):
        for x in item:
            if isinstance(x, Span):
                return x
    return None
