"""`.wf` text → `ast.Program`, or diagnostics.

lark's LALR parser with a contextual lexer and an indenter, built once per process from
a stand-alone module cached per user (`lalr.py`), or by lark itself (`cache=True`) the
first time, so `wf check` starts fast.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

from wflang.dsl import ast, lalr
from wflang.dsl.diagnostics import Diagnostic, WfError
from wflang.dsl.gcpause import paused
from wflang.dsl.lexer import lazy_contextual_lexer
from wflang.dsl.span import Span, source_lines
from wflang.dsl.strings import Interpolation, split_string

# Beside this module (package data: an install puts it there). importlib.resources would
# bring zipfile, tempfile, shutil and pathlib with it: a tenth of a fresh `wf check`.
with open(os.path.join(os.path.dirname(__file__), "grammar.lark"), encoding="utf-8") as _f:
    _GRAMMAR = _f.read()
_lark = lalr.api(_GRAMMAR)
Lark, Token, Tree, Indenter = _lark.Lark, _lark.Token, _lark.Tree, _lark.Indenter
UnexpectedInput, UnexpectedCharacters = _lark.UnexpectedInput, _lark.UnexpectedCharacters
UnexpectedEOF, UnexpectedToken = _lark.UnexpectedEOF, _lark.UnexpectedToken

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
            levels = list(self.indent_level)  # every open block: each is a valid column
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
            if indent != self.indent_level[-1]:
                line = (token.end_line or token.line)
                raise WfError([Diagnostic(
                    "WF102", f"this line's indentation (column {indent + 1}) matches no enclosing block",
                    Span(line, indent + 1, line, indent + 2),
                    f"indent it to one of the columns {', '.join(str(i + 1) for i in levels)}"
                    " (the blocks it could belong to)")])


_lock = threading.Lock()
_parser: Any = None
_indenter: _WfIndenter | None = None


def _get_parser() -> tuple[Any, _WfIndenter]:
    global _parser, _indenter
    if _parser is None:
        _indenter = _WfIndenter()
        plugins = {"ContextualLexer": lazy_contextual_lexer(_lark)}
        if _lark.standalone:
            with paused():  # deserializing the tables: many objects, no cycles
                _parser = _lark.Lark_StandAlone(postlex=_indenter, propagate_positions=True, _plugins=plugins)
        else:
            _parser = Lark(_GRAMMAR, postlex=_indenter, cache=True, _plugins=plugins, **lalr.OPTIONS)
            lalr.build_standalone(_parser, _GRAMMAR)  # for the next process
        _speed_up_positions(_parser)
    assert _indenter is not None
    return _parser, _indenter


class _Positions:
    """What lark's PropagatePositions does, minus its cost on pass-through reductions.

    Most reductions of an expression only hand one child up the precedence ladder
    (`?or_expr` → `?and_expr` → ...); lark recomputes the child's position at every
    level, which was half the parse time. Here a passed-through child keeps the position
    it already has; a new node spans its first to its last positioned child, tokens the
    grammar filters out (keywords, brackets) included."""

    __slots__ = ("node_builder",)

    def __init__(self, node_builder: Any) -> None:
        self.node_builder = node_builder

    def __call__(self, children: list) -> Any:
        res = self.node_builder(children)
        if type(res) is Tree and not (len(children) == 1 and children[0] is res):
            first = _position(children)
            last = _position(reversed(children))
            if first is not None and last is not None:
                meta = res.meta
                if not hasattr(meta, "line"):
                    meta.line, meta.column = first[0], first[1]
                    meta.empty = False
                if not hasattr(meta, "end_line"):
                    meta.end_line, meta.end_column = last[2], last[3]
                    meta.empty = False
        return res


def _position(children: Any) -> tuple[int, int, int, int] | None:
    for c in children:
        if type(c) is Tree:
            m = c.meta
            if not m.empty:
                return m.line, m.column, m.end_line, m.end_column
        elif isinstance(c, Token):
            # Layout tokens would stretch a node to the start of the next line (or of the
            # next statement, for a block's closing dedent): a span ends at its last real token.
            if c.line is not None and c.type not in _LAYOUT:
                return c.line, c.column, c.end_line, c.end_column
    return None


_LAYOUT = frozenset({"_NL", "_INDENT", "_DEDENT"})


def _speed_up_positions(parser: Any) -> None:
    PropagatePositions = _lark.PropagatePositions
    callbacks = parser.parser.parser.parser.callbacks
    for rule, cb in callbacks.items():
        if isinstance(cb, PropagatePositions):
            callbacks[rule] = _Positions(cb.node_builder)


def parse(source: str, file: str = "<input>") -> ast.Program:
    """Parse a whole program. Raises `WfError` with located diagnostics."""
    _check_layout(source)
    text = source if source.endswith("\n") else source + "\n"
    with paused():
        tree = _run(text, "start")
        return _Builder(file, source).build(tree)


def parse_expression(source: str, line: int = 1, col: int = 1, depth: int = 0) -> ast.Expr:
    """Parse one expression (an interpolation), with spans shifted to (line, col)."""
    simple = _SIMPLE_INTERPOLATION.match(source)
    if simple:
        # `{name}` and `{name.field}` are most interpolations: build them without a parse.
        return _simple_interpolation(source, simple, line, col, depth)
    tree = _run(source, "expr", line, col)
    expr = _Builder("", source, depth).build(tree)
    _shift(expr, line, col)
    return expr


_SIMPLE_INTERPOLATION = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$")
_KEYWORDS = {"true", "false", "none", "True", "False", "None", "not", "and", "or", "in", "if", "else",
             "lambda", "for"}


def _simple_interpolation(source: str, m: re.Match[str], line: int, col: int, depth: int) -> ast.Expr:
    names = m.group(1).split(".")
    if names[0] in _KEYWORDS:
        tree = _run(source, "expr", line, col)
        expr = _Builder("", source, depth).build(tree)
        _shift(expr, line, col)
        return expr
    start = col + m.start(1)
    if depth + len(names) > MAX_DEPTH:
        raise WfError([Diagnostic(
            "WF117", f"this interpolation nests more than {MAX_DEPTH} levels deep",
            Span(line, start, line, start + len(m.group(1))),
            f"the limit is {MAX_DEPTH} levels (each `.field` counts one): name a part first")])
    expr: ast.Expr = ast.Name(names[0], span=Span(line, start, line, start + len(names[0])))
    end = start + len(names[0])
    for n in names[1:]:
        end += 1 + len(n)
        expr = ast.Field(expr, n, span=Span(line, start, line, end))
    return expr


def _run(text: str, start: str, line: int = 1, col: int = 1) -> Any:
    parser, indenter = _get_parser()
    with _lock:
        indenter.text = text
        try:
            return parser.parse(text, start=start)
        except UnexpectedInput as e:
            raise WfError([_syntax_diagnostic(e, text, line, col, start)]) from None


def _check_layout(source: str) -> None:
    """Tabs in indentation are refused up front: their width is a matter of taste."""
    for n, text in enumerate(source_lines(source), 1):
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
# Words that start agents: outside the start of a statement they lex as plain names.
_AGENT_WORDS = {"agent", "check", "run", "fanout", "review", "vote", "tournament", "repeat", "fix"}
# Declarations that only exist at the top level of a file.
_TOP_LEVEL_WORDS = {"phase", "input", "type", "defaults", "budget", "workflow"}
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
# A line that opens a block: `phase "T"`, `xs = fanout ...`, `if c`, `type T`, ...
_BLOCK_OPENER = re.compile(r"\s*([A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*=\s*)?(return\s+)?"
                           r"(phase|fanout|for|review|vote|tournament|repeat|fix|if|elif|else|type|workflow)\b")


def _describe(term: str) -> str:
    if term in _TOKEN_NAMES:
        return _TOKEN_NAMES[term]
    parser, _ = _get_parser()
    for t in parser.terminals:
        if t.name == term and t.pattern.type == "str":
            return f"`{t.pattern.value}`"
    return term.lower()


def _keyword(tok: Token) -> str | None:
    """The word, when `tok` is a reserved word of the grammar (`review`, `pick`, ...)."""
    value = str(tok.value)
    if tok.type != "NAME" and value.isidentifier() and tok.type == value.upper():
        return value
    return None


def _unexpected(tok: Token) -> str:
    """What the parser found, for a message: `unexpected string "..."`, not `unexpected a string`."""
    value = str(tok.value)
    if tok.type == "NAME":
        return f"name `{value}`"
    if tok.type in ("STRING", "LONG_STRING"):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"string {shown.splitlines()[0]}"
    if tok.type in ("INT", "FLOAT"):
        return f"number `{value}`"
    if _keyword(tok):
        return f"keyword `{value}`"
    return _describe(tok.type)


def _expected(e: UnexpectedToken) -> set[str]:
    """The terminals the parser could take here. The contextual lexer's own `expected`
    can be the set of the state it fell back from, so ask the parser when possible."""
    ip = getattr(e, "interactive_parser", None)
    if ip is not None:
        try:
            return set(ip.accepts())
        except Exception:  # an odd parser state: fall back to lark's own set
            pass
    return set(e.expected)


def _unclosed_bracket(text: str, before: int) -> tuple[str, int] | None:
    """The last bracket opened before offset `before` that is never closed, as (bracket, offset)."""
    unclosed, _ = _brackets(text)
    candidates = [b for b in unclosed if b[1] < before]
    return max(candidates, key=lambda b: b[1]) if candidates else None


def _brackets(text: str) -> tuple[list[tuple[str, int]], set[int]]:
    """Brackets that are never closed, and offsets of closers that close nothing
    (strings and comments skipped)."""
    stack: list[tuple[str, int]] = []
    unclosed: list[tuple[str, int]] = []
    stray: set[int] = set()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j) and (len(quote) == 3 or text[j] != "\n"):
                j += 2 if text[j] == "\\" else 1
            i = j + len(quote)
            continue
        if ch in _CLOSERS:
            stack.append((ch, i))
        elif ch in ")]}":
            if stack and _CLOSERS[stack[-1][0]] == ch:
                stack.pop()
            elif stack:
                unclosed.append(stack.pop())
            else:
                stray.add(i)
        i += 1
    return unclosed + stack, stray


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _last_line_end(text: str, before_line: int) -> tuple[int, int]:
    """(line, col) just after the last non-blank, non-comment line before `before_line`."""
    lines = text.split("\n")
    for n in range(min(before_line - 1, len(lines)), 0, -1):
        stripped = lines[n - 1].split("#", 1)[0].rstrip()
        if stripped:
            return n, len(stripped) + 1
    return 1, 1


def _syntax_diagnostic(e: UnexpectedInput, text: str, line0: int, col0: int,
                       start: str = "start") -> Diagnostic:
    def at(line: int, col: int, width: int = 1) -> Span:
        if line == 1:
            col += col0 - 1
        line += line0 - 1
        return Span(line, col, line, col + max(1, width))

    if isinstance(e, UnexpectedCharacters):
        return _bad_character(e, text, at)
    if isinstance(e, UnexpectedToken):
        if start == "expr":
            return _bad_interpolation(e, text, at)
        return _bad_token(e, text, at)
    if isinstance(e, UnexpectedEOF):
        return Diagnostic("WF105", "the file ends in the middle of a construct", None,
                          "finish the last statement")
    return Diagnostic("WF101", str(e).splitlines()[0], None)


def _bad_character(e: UnexpectedCharacters, text: str, at: Any) -> Diagnostic:
    pos = e.pos_in_stream
    ch = text[pos] if pos < len(text) else ""
    span = at(e.line, e.column)
    for start in (pos, pos - 1, pos - 2):  # lark may have taken `""` as an empty string first
        if start >= 0 and text.startswith('"""', start) and text.count('"""', start) % 2 == 1:
            line, col = _line_col(text, start)
            return Diagnostic("WF104", 'this """ string is never closed', at(line, col, 3),
                              'end it with """ (on a line of its own, or after the last word)')
    if text.startswith('"""', pos):
        return Diagnostic("WF104", 'this """ string is never closed', at(e.line, e.column, 3),
                          'end it with """ (on a line of its own, or after the last word)')
    if ch in "\"'":
        return Diagnostic("WF104", "this string is never closed", span,
                          f"close it with {ch} on the same line, or use \"\"\"...\"\"\" for text over several lines")
    if ch in ")]}":
        return Diagnostic("WF112", f"`{ch}` closes nothing", span, "remove it, or open the bracket it closes")
    if not ch.isprintable() or ch.isspace():  # a control or odd space: name it, it is invisible
        shown = f"U+{ord(ch):04X}" if ch else "end of file"
        hint = ("lines end with \\n (or \\r\\n); remove it" if ch == "\r"
                else "remove it; it is invisible in most editors")
        return Diagnostic("WF101", f"unexpected character {shown}", span, hint)
    return Diagnostic("WF101", f"unexpected character `{ch}`", span,
                      "remove it; strings go between quotes, comments start with `#`")


def _bad_interpolation(e: UnexpectedToken, text: str, at: Any) -> Diagnostic:
    tok = e.token
    if tok.type == "$END":
        line, col = _line_col(text, len(text.rstrip()))
        return Diagnostic("WF113", "the expression in `{...}` is incomplete", at(line, col),
                          "finish the expression, or write `{{` and `}}` for literal braces")
    width = len(str(tok.value)) or 1
    return Diagnostic("WF113", f"unexpected {_unexpected(tok)} in `{{...}}`", at(tok.line or 1, tok.column or 1, width),
                      "an interpolation holds one expression, e.g. {x.file}; write `{{` for a literal brace")


_EXPR_STARTS = {"a name", "a number", "a string", "`(`", "`[`", "`{`", "`-`", "`.`", "`not`", "`lambda`",
                "`true`", "`false`", "`none`", "`True`", "`False`", "`None`"}


def _expected_hint(terms: set[str]) -> str | None:
    """`expected an expression, `:`` rather than a list of every token an expression starts with."""
    described = {_describe(t) for t in terms if not t.startswith("__")}
    if {"a name", "a number", "a string"} <= described:
        described = (described - _EXPR_STARTS) | {"an expression"}
    expected = sorted(described, key=lambda d: (d != "an expression", d))
    if not expected:
        return None
    return "expected " + ", ".join(expected[:8]) + (" ..." if len(expected) > 8 else "")


def _bad_token(e: UnexpectedToken, text: str, at: Any) -> Diagnostic:
    tok = e.token
    terms = _expected(e)
    hint = _expected_hint(terms)
    offset = tok.start_pos if tok.type != "$END" and tok.start_pos is not None else len(text)
    line = tok.line if tok.type != "$END" and tok.line else text.count("\n") + 1
    col = tok.column if tok.type != "$END" and tok.column else 1
    width = len(str(tok.value)) if tok.type not in ("_NL", "_INDENT", "_DEDENT", "$END") else 1
    prev = (getattr(e, "token_history", None) or [None])[-1]

    bracket = _unclosed_bracket(text, offset)
    if bracket is not None and _line_col(text, bracket[1])[0] < line:
        bline, bcol = _line_col(text, bracket[1])
        return Diagnostic("WF112", f"`{bracket[0]}` is never closed", at(bline, bcol),
                          f"close it with `{_CLOSERS[bracket[0]]}`; the parser noticed on line {line}")
    if tok.type in ("RPAR", "RSQB", "RBRACE") and offset in _brackets(text)[1]:
        return Diagnostic("WF112", f"`{tok.value}` closes nothing", at(line, col),
                          "remove it, or open the bracket it should close")
    if "_INDENT" in terms and tok.type != "_INDENT":
        rest = text[tok.end_pos:] if tok.type == "_DEDENT" and tok.end_pos is not None else ""
        if tok.type == "$END" or (tok.type == "_DEDENT" and _only_blank(rest)):
            oline, ocol = _last_line_end(text, line + 1)
            return Diagnostic("WF105", "the file ends before the block this line opens",
                              at(oline, max(1, ocol - 1)), "add the block's lines under it, indented by 4 more spaces")
        if tok.type == "_DEDENT":
            line, col = tok.end_line or line, tok.end_column or 1
            width = len(text.split("\n")[line - 1].rstrip()) - col + 1
        return Diagnostic("WF102", "expected an indented block", at(line, col, width),
                          "the line before ends with `:`, so the lines under it must be indented more")
    if prev is not None and prev.type == "STRING" and _open_interpolation(str(prev.value)):
        return Diagnostic("WF104", "a quote inside `{...}` ends this string early",
                          at(prev.end_line or line, max(1, (prev.end_column or 2) - 1)),
                          "inside an interpolation write strings with single quotes ('k'), "
                          "or use a \"\"\"...\"\"\" string")
    if prev is not None and _keyword(prev) and tok.type in ("EQUAL", "COMMA"):
        word = _keyword(prev)
        return Diagnostic("WF114", f"`{word}` is a keyword and cannot be a variable name", _tok_span_at(prev, at),
                          f"rename it, e.g. `{word}_result`")
    if prev is not None and prev.type == "NAME" and str(prev.value) in _AGENT_WORDS and tok.type != "LPAR":
        if re.search(rf"\belse\s+{prev.value}\b", text.split("\n")[(prev.line or 1) - 1]):
            return Diagnostic("WF223", f"`{prev.value}` cannot start in an agent's fallback", _tok_span_at(prev, at),
                              "`else E` is the value when the agent fails, computed without agents; "
                              "to try again, use `fix` or a second step that checks for `none`")
        return Diagnostic("WF223", f"`{prev.value}` can only start a statement", _tok_span_at(prev, at),
                          f"assign the result to a name first: `x = {prev.value} ...`, then use `x`")
    if prev is not None and prev.type == "NAME" and str(prev.value) == "fail" and tok.type in ("STRING", "LONG_STRING"):
        return Diagnostic("WF223", "`fail` can only start a statement", _tok_span_at(prev, at),
                          '`fail "message"` ends the run; it has no value to assign or use')
    fn = _def_mistake(tok, prev, text, line, at)
    if fn is not None:
        return fn
    word = _keyword(tok)
    if word in _TOP_LEVEL_WORDS and col > 1:
        what = "a phase" if word == "phase" else f"`{word}`"
        return Diagnostic("WF115", f"{what} cannot be inside a block", at(line, col, width),
                          f"`{word}` belongs at the top level of the file: move it to column 1")
    if "WORKFLOW" in terms and tok.type != "WORKFLOW":
        return Diagnostic("WF116", "a .wf file starts with its header, `workflow NAME:`", at(line, col, width),
                          'begin with `workflow my-name:` and an indented `description: "..."`')
    if terms == {"UNTIL"}:
        return Diagnostic("WF107", "a `fix` block is followed by `until CHECK`", at(line, col, width),
                          'add `until check "..."` under the block, at the indentation of `fix`')
    if tok.type == "$END":
        oline, ocol = _last_line_end(text, line + 1)
        return Diagnostic("WF105", "the file ends in the middle of a construct", at(oline, max(1, ocol - 1)), hint)
    if tok.type == "_INDENT":
        iline = tok.end_line or line
        icol = tok.end_column or 1
        content = text.split("\n")[iline - 1].rstrip() if iline <= text.count("\n") + 1 else ""
        return Diagnostic("WF102", "unexpected indentation", at(iline, icol, max(1, len(content) - icol + 1)),
                          "this line is indented more than the one before, which opens no block")
    if tok.type == "_DEDENT":
        return Diagnostic("WF102", "this block ends too early", at(tok.end_line or line, tok.end_column or 1),
                          hint)
    if tok.type == "_NL":
        msg = "this line ends too early"
        if "COLON" in terms:
            msg = "expected `:` at the end of this line"
            opener = _BLOCK_OPENER.match(text.split("\n")[line - 1]) if line <= text.count("\n") + 1 else None
            hint = "a line that opens a block ends with `:`" if opener else "write `:` here"
        elif line <= text.count("\n") + 1 and text.split("\n")[line - 1].strip() == "fail":
            hint = 'give the message the run fails with: `fail "nothing to review"`'
        return Diagnostic("WF106", msg, at(line, col), hint)
    return Diagnostic("WF107", f"unexpected {_unexpected(tok)}", at(line, col, width), hint)


def _def_mistake(tok: Token, prev: Token | None, text: str, line: int, at: Any) -> Diagnostic | None:
    """The usual slips in a `def` line (docs/language.md §13b), said as such."""
    if prev is not None and prev.type == "NAME" and str(prev.value) == "def" and (prev.column or 1) > 1:
        return Diagnostic("WF115", "a function cannot be defined inside a block", _tok_span_at(prev, at),
                          "`def` belongs at the top level of the file: move it to column 1")
    src = text.split("\n")[line - 1] if line <= text.count("\n") + 1 else ""
    if not src.startswith("def "):
        return None
    if tok.type == "COLON" and "->" not in src:
        return Diagnostic("WF107", "a function declares the type of its result", _tok_span_at(tok, at),
                          "write `-> T` before the `:`, e.g. `def name(x: str) -> int:`")
    if tok.type in ("RPAR", "COMMA") and prev is not None and prev.type == "NAME":
        return Diagnostic("WF107", f"the parameter `{prev.value}` has no type", _tok_span_at(prev, at),
                          f"write `{prev.value}: T`, e.g. `{prev.value}: str`")
    return None


def _open_interpolation(raw: str) -> bool:
    """Does the string token `raw` stop inside a `{...}` (a `"` in the expression ended it)?"""
    depth = 0
    body = raw[1:-1].replace("{{", "").replace("}}", "")
    for ch in body:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
    return depth > 0


def _only_blank(text: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.split("\n"))


def _enumerated(names: tuple[list[str], Span], it: ast.Expr, word: str) -> tuple[str | None, str, ast.Expr]:
    """`x in C`, or `i, x in enumerate(C)`: (index name or None, item name, C)."""
    (vars_, span) = names
    is_enum = isinstance(it, ast.Call) and it.func == "enumerate"
    if len(vars_) == 1:
        if is_enum:
            raise WfError([Diagnostic("WF118", "`enumerate(...)` gives two names: the index and the item",
                                      span, f"write `{word} i, {vars_[0]} in enumerate(...)`")])
        return None, vars_[0], it
    index, var = vars_
    if not is_enum:
        raise WfError([Diagnostic("WF118", f"two loop names need `enumerate(...)`: `{index}, {var}`", span,
                                  f"write `{word} {index}, {var} in enumerate({_src_hint(it)})` "
                                  "(the index counts from 0)")])
    assert isinstance(it, ast.Call)
    if len(it.args) != 1 or it.kwargs:
        raise WfError([Diagnostic("WF118", "`enumerate` takes one list", it.span,
                                  f"write `{word} {index}, {var} in enumerate(xs)`")])
    if index == var:
        raise WfError([Diagnostic("WF118", f"the index and the item are both named `{var}`", span,
                                  "give them different names, e.g. `i, x`")])
    return index, var, it.args[0]


def _src_hint(it: ast.Expr) -> str:
    return it.id if isinstance(it, ast.Name) else "..."


def _tok_span_at(tok: Token, at: Any) -> Span:
    return at(tok.line or 1, tok.column or 1, len(str(tok.value)))


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
    digits = str(tok).replace("_", "").lstrip("0") or "0"
    # Numbers are doubles in both targets; past 1.8e308 a literal is infinity in JS (and
    # past 4,300 digits Python will not even read it): refuse it where it is written.
    if len(digits) > 309 or int(digits) > _FLOAT_MAX:
        raise WfError([Diagnostic("WF213", "this number is too large to represent", _tok_span(tok),
                                  "numbers are 64-bit floats in both targets: stay under 1.7e308")])
    return int(digits)


_FLOAT_MAX = int(sys.float_info.max)


class _Lit:
    """A literal option of a union type, before `union_type` sorts the options."""

    def __init__(self, value: Any, span: Span) -> None:
        self.value = value
        self.span = span


def _bound_lit(tok: Token, sign: int, span: Span) -> ast.Expr:
    """The number of a `min`/`max` clause (an int, or a float for `float min 0.5`)."""
    if tok.type == "FLOAT":
        return ast.FloatLit(sign * float(str(tok).replace("_", "")), span=span)
    return ast.IntLit(sign * _int(tok), span=span)
# How deeply a program may nest: blocks, brackets, calls, operators (each operator of a
# chain and each `elif` is one level). Every stage walks the tree recursively, a few
# Python frames per level; this keeps all of them far from Python's recursion limit.
MAX_DEPTH = 100


def _too_deep(meta: Any, what: str) -> WfError:
    return WfError([Diagnostic(
        "WF117", f"{what} nests more than {MAX_DEPTH} levels deep", _span(meta),
        f"the limit is {MAX_DEPTH} levels (each block, bracket, call, operator and `elif` counts "
        "one): give an inner part a name first (`part = ...`) and use the name")])


class _Builder:
    """Turns lark's tree into AST nodes, bottom up: each rule's method gets the rule's
    position (`meta`) and its built children. A plain recursive walk: lark's generic
    Transformer costs about twice as much per node."""

    def __init__(self, file: str, source: str, depth: int = 0) -> None:
        self.file = file
        self.source = source
        self.depth = depth  # the nesting of the node being built (interpolations add to it)

    def build(self, tree: Any, depth: int | None = None) -> Any:
        if depth is None:
            depth = self.depth
        if depth > MAX_DEPTH:
            raise _too_deep(tree.meta, "this")
        if tree.data == "binary_op":
            return self._chain(tree, depth)
        step = 1
        if tree.data == "if_stmt":  # each `elif` becomes an `if` inside the `else` before it
            step += sum(1 for c in tree.children if type(c) is Tree and c.data == "elif_clause")
        children = [self.build(c, depth + step) if isinstance(c, Tree) else c for c in tree.children]
        self.depth = depth
        return getattr(self, tree.data)(tree.meta, *children)

    # ---- program
    def start(self, meta, *items):
        header = items[0]
        inputs, types, defaults, budget, consts, body = [], [], [], [], [], []
        requires: list[ast.Require] = []
        functions: list[ast.FunctionDef] = []
        for it in items[1:]:
            if isinstance(it, ast.FunctionDef):
                functions.append(it)
            elif isinstance(it, ast.InputDecl):
                inputs.append(it)
            elif isinstance(it, ast.Require):
                if body:  # it runs before every statement: written after one, it would mislead
                    raise WfError([Diagnostic(
                        "WF229", "`require` must come before the workflow's first statement", it.span,
                        "move it up, beside the inputs: requirements are checked with the arguments, "
                        "before anything runs")])
                requires.append(it)
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
        body = self._plain_body(body, "workflow")
        return ast.Program(self.file, self.source, header, inputs, types, defaults, budget, consts, body,
                           requires, functions, span=_span(meta))

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
        try:
            parts = self._string_parts(tok)
        except WfError as exc:
            # `when: "Pass {files: [...]}"`: braces that do not even parse as an expression
            # mean the writer wanted braces, so say how to write them
            raise WfError([Diagnostic("WF108", "header strings cannot interpolate", _tok_span(tok),
                                      "write plain text; {{ and }} give braces")]) from exc
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", "header strings cannot interpolate", _tok_span(tok),
                                      "write plain text; {{ and }} give braces")])
        return "".join(parts)

    def header_names(self, meta, *names):
        return [str(n) for n in names]

    # ---- declarations
    def input_decl(self, meta, name, typ, raw, default):
        return ast.InputDecl(str(name), typ, default, raw=raw is not None, span=_span(meta))

    def raw_mark(self, meta):
        return True

    def require_decl(self, meta, cond, message):
        return ast.Require(cond, message, span=_span(meta))

    def type_decl(self, meta, name, doc, *fields):
        return ast.TypeDecl(str(name), list(fields), span=_span(meta), doc=doc)

    def type_doc(self, meta, tok):
        # `type T:` then a string line: the type's description, carried into its schema
        return self._fixed_text(tok, "a type description cannot interpolate")

    def field_decl(self, meta, name, omit, typ, doc):
        # `name?: T` may be left out and then reads as `none`: its type is `T?`
        if omit is not None and not isinstance(typ, ast.OptionalType):
            typ = ast.OptionalType(typ, span=typ.span)
        text = None if doc is None else self._fixed_text(doc, "a field description cannot interpolate")
        return ast.FieldDecl(str(name), typ, omittable=omit is not None, doc=text, span=_span(meta))

    def _fixed_text(self, tok, message: str) -> str:
        problem = Diagnostic("WF108", message, _tok_span(tok),
                             "the description is fixed text the model reads; {{ and }} give braces")
        try:
            parts = self._string_parts(tok)
        except WfError as exc:
            raise WfError([problem]) from exc
        if not all(isinstance(p, str) for p in parts):
            raise WfError([problem])
        return "".join(parts)

    def omit_mark(self, meta):
        return True

    def defaults_decl(self, meta, *options):
        return ("defaults", list(options))

    def budget_decl(self, meta, *limits):
        return ("budget", list(limits))

    def budget_limit(self, meta, key, value):
        return ast.BudgetLimit(str(key), value, span=_span(meta))

    def phase_block(self, meta, title, options, body):
        parts = self._string_parts(title)
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", "a phase title cannot interpolate", _tok_span(title),
                                      "phase titles are fixed text; they are listed in the compiled meta")])
        stmts = self._plain_body(body, "phase")
        for o in options or []:
            _phase_option(o, stmts)
        return ast.Phase("".join(parts), stmts, title_span=_tok_span(title), span=_span(meta))

    # ---- types
    def def_decl(self, meta, name, params, result, body):
        return ast.FunctionDef(str(name), params or [], result, self._plain_body(body, "def"),
                               name_span=_tok_span(name), span=_span(meta))

    def def_params(self, meta, *params):
        return list(params)

    def def_param(self, meta, name, typ):
        return ast.Param(str(name), typ, span=_span(meta))

    def named_type(self, meta, name, min_, max_):
        return ast.NamedType(str(name), max_, min_, span=_span(meta))

    def list_type(self, meta, name, item, min_, max_):
        if str(name) != "list":
            hint = "a map names its key type and its value type: map[str, T] max N" if str(name) == "map" \
                else "the types with parameters are list[T] max N and map[str, T] max N"
            raise WfError([Diagnostic("WF202", f"`{name}[...]` is not a type", _tok_span(name), hint)])
        return ast.ListType(item, max_, span=_span(meta), min=min_)

    def map_type(self, meta, name, key, value, min_, max_):
        if str(name) != "map":
            hint = "write list[T] max N" if str(name) == "list" else \
                "the types with parameters are list[T] max N and map[str, T] max N"
            raise WfError([Diagnostic("WF202", f"`{name}[..., ...]` is not a type", _tok_span(name), hint)])
        return ast.MapType(key, value, max_, span=_span(meta), min=min_)

    def union_type(self, meta, *atoms):
        """Sort a union's options: all strings → UnionType (as before: their order ranks
        them); other literals → LiteralType; any type among them → AnyOfType, its literals
        gathered into one option where the first stood; `none` → the whole is `T?`."""
        if len(atoms) == 1 and isinstance(atoms[0], ast.TypeExpr):
            return atoms[0]
        span = _span(meta)
        has_none = any(isinstance(a, _Lit) and a.value is None for a in atoms)
        lits = [a for a in atoms if isinstance(a, _Lit) and a.value is not None]
        types = [a for a in atoms if isinstance(a, ast.TypeExpr)]
        if not lits and not types:
            raise WfError([Diagnostic("WF202", "`none` alone is not a type", span,
                                      "write `T?` (or `T | none`) for a value that may be none")])
        lit_type: ast.TypeExpr | None = None
        if lits:
            lit_span = Span(lits[0].span.line, lits[0].span.col, lits[-1].span.end_line, lits[-1].span.end_col)
            if all(isinstance(x.value, str) for x in lits):
                lit_type = ast.UnionType([x.value for x in lits], span=lit_span)
            else:
                lit_type = ast.LiteralType([x.value for x in lits], span=lit_span)
        out: ast.TypeExpr
        if not types:
            out = lit_type  # type: ignore[assignment]
        else:
            options: list[ast.TypeExpr] = []
            for a in atoms:
                if isinstance(a, ast.TypeExpr):
                    options.append(a)
                elif a is (lits[0] if lits else None):
                    options.append(lit_type)  # type: ignore[arg-type]
            out = options[0] if len(options) == 1 else ast.AnyOfType(options, span=span)
        return ast.OptionalType(out, span=span) if has_none else out

    def lit_string(self, meta, tok):
        parts = self._string_parts(tok)
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", "a union option cannot interpolate", _tok_span(tok))])
        return _Lit("".join(parts), _tok_span(tok))

    def lit_int(self, meta, tok):
        return _Lit(_int(tok), _tok_span(tok))

    def lit_neg_int(self, meta, tok):
        return _Lit(-_int(tok), _span(meta))

    def lit_float(self, meta, tok):
        return _Lit(float(str(tok).replace("_", "")), _tok_span(tok))

    def lit_neg_float(self, meta, tok):
        return _Lit(-float(str(tok).replace("_", "")), _span(meta))

    def lit_true(self, meta, *_):
        return _Lit(True, _span(meta))

    def lit_false(self, meta, *_):
        return _Lit(False, _span(meta))

    def lit_none(self, meta, *_):
        return _Lit(None, _span(meta))

    def optional_type(self, meta, inner):
        return ast.OptionalType(inner, span=_span(meta))

    def min_clause(self, meta, tok):
        return _bound_lit(tok, 1, _span(meta))

    def neg_min_clause(self, meta, tok):
        return _bound_lit(tok, -1, _span(meta))

    def max_clause(self, meta, tok):
        if tok.type in ("INT", "FLOAT"):
            return _bound_lit(tok, 1, _tok_span(tok))
        return ast.Name(str(tok), span=_tok_span(tok))

    def neg_max_clause(self, meta, tok):
        return _bound_lit(tok, -1, _span(meta))

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

    def fail_stmt(self, meta, value):
        return ast.Fail(value, span=_span(meta))

    def return_stmt(self, meta, value):
        return ast.Return(value, span=_span(meta))

    def stop_stmt(self, meta, cond):
        return ast.StopWhen(cond, span=_span(meta))

    def accept_stmt(self, meta, cond):
        return ("accept", cond, _span(meta))

    def pick_stmt(self, meta, name, cond):
        return ("pick", str(name), cond, _span(meta), _tok_span(name))

    def if_stmt(self, meta, cond, then, *rest):
        then = self._plain_body(then, "if")
        elifs = [r for r in rest if r is not None and r[0] == "elif"]
        orelse: list = next((r[1] for r in rest if r is not None and r[0] == "else"), [])
        for _, c, body, sp in reversed(elifs):
            orelse = [ast.If(c, body, orelse, span=sp)]
        return ast.If(cond, then, orelse, span=_span(meta))

    def elif_clause(self, meta, cond, body):
        return ("elif", cond, self._plain_body(body, "elif"), _span(meta))

    def else_clause(self, meta, body):
        return ("else", self._plain_body(body, "else"))

    # ---- agents
    def agent_expr(self, meta, prompt, result, options, fallback):
        return ast.Agent(prompt, result, options or [], fallback, span=_span(meta))

    def agent_else(self, meta, value):
        return value

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
    def fanout(self, meta, names, it, options, body):
        stmts = self._plain_body(body, "fanout")
        index, var, it = _enumerated(names, it, "fanout")
        return ast.Fanout(var, it, stmts, options or [], index_var=index, span=_span(meta))

    def for_loop(self, meta, names, it, body):
        index, var, it = _enumerated(names, it, "for")
        return ast.Fanout(var, it, self._plain_body(body, "for"), [], sequential=True, index_var=index,
                          span=_span(meta))

    def loop_names(self, meta, *names):
        return [str(n) for n in names], _span(meta)

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
        if str(a) == str(b):
            raise WfError([Diagnostic("WF203", f"both contestants are named `{a}`", _tok_span(b),
                                      f"name them apart: `tournament {a} vs other in ...`")])
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
            example = {"review": "e.g. `accept when answer` for a `-> bool` reviewer, "
                                 "`accept when not refuted` for a record with a `refuted` field",
                       "tournament": "e.g. `pick a when answer == \"A\"`"}.get(construct, "")
            raise WfError([Diagnostic("WF109", f"a `{construct}` block must end with `{form}`", where,
                                      f"add `{form}` as the last line of the block; {example}")])
        return last

    def _plain_body(self, body: list, construct: str) -> list:
        """Reject `accept when`/`pick` anywhere but the end of their own construct."""
        out = []
        for s in body:
            if isinstance(s, tuple):
                word = "accept when" if s[0] == "accept" else "pick"
                owner = "review" if s[0] == "accept" else "tournament"
                raise WfError([Diagnostic("WF109", f"`{word}` belongs at the end of a `{owner}` block",
                                          s[2] if s[0] == "accept" else s[3],  # the statement's span
                                          f"move it to the last line of a `{owner}` block")])
            out.append(s)
        return out

    # ---- expressions
    def lambda_expr(self, meta, *args):
        *params, body = args
        return ast.Lambda([str(p) for p in params], body, span=_span(meta))

    def cond_expr(self, meta, then, cond, orelse):
        return ast.CondExpr(cond, then, orelse, span=_span(meta))

    def not_op(self, meta, a):
        node = ast.UnaryOp("not", a, span=_span(meta))
        node._bare_not = True  # type: ignore[attr-defined]  # regrouped by _chain, unless in parentheses
        return node

    def paren(self, meta, e):
        if isinstance(e, ast.UnaryOp):
            e.__dict__.pop("_bare_not", None)
        return e

    def neg(self, meta, a):
        if isinstance(a, (ast.IntLit, ast.FloatLit)):
            a.value = -a.value
            a.span = _span(meta)
            return a
        return ast.UnaryOp("-", a, span=_span(meta))

    def _chain(self, tree: Tree, depth: int) -> ast.Expr:
        """`a op b op c ...`, parsed flat and left to right, grouped here by precedence."""
        operands: list[Any] = []
        ops: list[str] = []
        t: Any = tree
        while type(t) is Tree and t.data == "binary_op":
            left, op, right = t.children
            operands.append(right)
            ops.append(" ".join(str(tok) for tok in op.children))
            t = left
        operands.append(t)
        operands.reverse()
        ops.reverse()
        # The chain becomes a tree as deep as it has operators (`a + b + c` is `(a + b) + c`).
        inner = depth + len(ops)
        if inner > MAX_DEPTH:
            raise _too_deep(tree.meta, f"this expression of {len(ops)} operators")
        built = [self.build(o, inner) if type(o) is Tree else o for o in operands]
        return _Precedence(built, ops).parse()
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

    def comp_for(self, meta, names, it):
        index, var, it = _enumerated(names, it, "for")
        return ast.CompFor(var, it, index_var=index, span=_span(meta))

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
                            lambda it: parse_expression(it.source, it.line, it.col, self.depth + 1)
                            if isinstance(it, Interpolation) else it)

    def _plain(self, tok: Token, what: str) -> str:
        parts = self._string_parts(tok)
        if not all(isinstance(p, str) for p in parts):
            raise WfError([Diagnostic("WF108", f"{what} cannot interpolate", _tok_span(tok),
                                      "write fixed text here")])
        return "".join(parts)


_PRECEDENCE = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4,
               "not in": 4, "|": 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}
_NOT = 3  # `not x == y` is `not (x == y)`, as in Python


class _Precedence:
    """Precedence climbing over operands and the operators between them."""

    def __init__(self, operands: list[ast.Expr], ops: list[str]) -> None:
        self.operands = operands
        self.ops = ops
        self.pos = 0  # the next operand; the next operator is ops[pos - 1]

    def parse(self) -> ast.Expr:
        return self.rest(self.operand(), 0)

    def next_op(self) -> str | None:
        return self.ops[self.pos - 1] if self.pos - 1 < len(self.ops) else None

    def operand(self) -> ast.Expr:
        node = self.operands[self.pos]
        self.pos += 1
        nots: list[ast.UnaryOp] = []
        while isinstance(node, ast.UnaryOp) and node.__dict__.get("_bare_not"):
            nots.append(node)
            node = node.operand
        if not nots:
            return node
        node = self.rest(node, _NOT + 1)  # a bare `not` covers the comparison after it
        for n in reversed(nots):
            node = ast.UnaryOp("not", node, span=n.span.to(node.span))
        return node

    def rest(self, left: ast.Expr, min_prec: int) -> ast.Expr:
        op = self.next_op()
        while op is not None and _PRECEDENCE[op] >= min_prec:
            prec = _PRECEDENCE[op]
            right = self.operand()
            nxt = self.next_op()
            while nxt is not None and _PRECEDENCE[nxt] > prec:
                right = self.rest(right, prec + 1)
                nxt = self.next_op()
            left = _binary(op, left, right)
            op = self.next_op()
        return left


def _binary(op: str, left: ast.Expr, right: ast.Expr) -> ast.Expr:
    span = left.span.to(right.span)
    if op in ("or", "and"):
        return ast.BoolOp(op, left, right, span=span)
    if _PRECEDENCE[op] == 4:
        return ast.Compare(op, left, right, span=span)
    return ast.BinOp(op, left, right, span=span)


def _span_of(item: Any) -> Span | None:
    if isinstance(item, ast.Node):
        return item.span
    if isinstance(item, tuple):
        for x in item:
            if isinstance(x, Span):
                return x
    return None


def _phase_option(o: ast.Option, stmts: list[ast.Stmt]) -> None:
    """`phase "T" with tools=none:` is a default for the agents written in the block: it is
    given to each of them that does not set it, so every reader of the tree (checker,
    interpreter, emitter) sees it as the agent's own option."""
    if o.name != "tools":
        raise WfError([Diagnostic("WF214", f"a phase takes no option `{o.name}`", o.span,
                                  "a phase takes only `tools=none`; give other options on its agents "
                                  "or in `defaults`")])
    if not isinstance(o.value, ast.NoneLit):
        raise WfError([Diagnostic("WF214", "tools takes only `none`", o.value.span,
                                  "write `tools=none`: the phase's agents see only their prompt")])
    for node in list(ast.walk(stmts)):
        if isinstance(node, (ast.Agent, ast.Check)) and not any(x.name == o.name for x in node.options):
            node.options.append(ast.Option(o.name, o.value, span=o.span))
