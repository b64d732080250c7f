"""String builtins (issue 10, Strings): pieces, search, replacement, slugs, numbers as
text, and regular expressions of one dialect (regex_dialect.py). Their JS helpers are in
wflang/transpiler/prelude.js; docs/semantics.md pins what each means.

Lists they make (`split`, `lines`, `findall`) have no size the checker could derive from a
string, so each takes `max=N`, a size known before the run; the result is cut at N in
both targets, with the log line `take` writes, so the bound stays a proof.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from wflang.dsl import ast
from wflang.dsl.builtins.base import Builtin, Checking, builtin
from wflang.dsl.builtins.support import count
from wflang.dsl.sizes import ZERO, Sym
from wflang.dsl.types import BOOL, ERROR, FLOAT, INT, STR, ListT, Type, is_numeric, is_stringy, strip_opt
from wflang.dsl.values import Value, is_number, js_number, text

_BLANKS = " \t\n\r\f\v"
_BLANK_RUN = r"[ \t\n\r\f\v]+"  # compiled on first use (re's cache), as _NOT_SLUG


def need_str(c: Checking, e: ast.Call, i: int, args: list[Type], usage: str) -> None:
    t = args[i]
    if t != ERROR and not is_stringy(t) and strip_opt(t).describe() != "none":
        c.error("WF213", f"`{e.func}` takes a string here, not {t.describe()}", e.args[i].span, usage)


def need_number(c: Checking, e: ast.Call, i: int, args: list[Type], usage: str) -> None:
    t = args[i]
    if t != ERROR and not is_numeric(t):
        c.error("WF213", f"`{e.func}` takes a number here, not {t.describe()}", e.args[i].span, usage)


def not_empty(c: Checking, e: ast.Call, i: int, what: str) -> None:
    """An empty literal where it would mean something surprising (split at nothing)."""
    a = e.args[i] if i < len(e.args) else None
    if isinstance(a, ast.StrLit) and a.is_plain and a.text == "":
        c.error("WF213", f"{e.func}: the {what} is empty", a.span, f"give a {what} of one character or more")


def declared_max(c: Checking, b: Builtin, e: ast.Call) -> Sym:
    """The `max=N` a list-making string builtin must declare (WF303 without it)."""
    k = b.keyword(e, "max")
    if k is None:
        c.error("WF303", f"{e.func}() needs `max=N`: the most items its list may hold", e.span,
                f"write {b.usage}; a longer result is cut at N, with a log line")
        return ZERO
    return c.size_of(k.value, f"{e.func} max")


def _cut(pieces: list[Value], n: Value, fn: str) -> tuple[list[Value], int]:
    return pieces[: max(0, count(n, fn))], len(pieces)


class _ListOfText(Builtin):
    """split / lines / findall: a list of strings, cut at `max=`."""
    keywords = ("max",)
    logs_cut = True

    def result(self, c: Checking, e: ast.Call) -> Type:
        return ListT(STR, declared_max(c, self, e), f"{self.name}, line {e.span.line}")

    def run(self, args: list[Value], kwargs: dict[str, Value]) -> tuple[Value, int | None]:
        kw = dict(kwargs)
        n = kw.pop("max", None)
        return _cut(type(self).py(*args, **kw), n, self.name)


@builtin
class Split(_ListOfText):
    name = "split"
    arity = (1, 2)
    usage = 'split(s, ",", max=50)'
    js = "splitText"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        for i in range(len(args)):
            need_str(c, e, i, args, self.usage)
        not_empty(c, e, 1, "separator")
        return self.result(c, e)

    @staticmethod
    def py(s: Value, sep: Value = None) -> list[Value]:
        """The pieces between separators; without one (or with none), the words between runs
        of ` \\t\\n\\r\\f\\v`; an empty separator gives the code points."""
        if not isinstance(s, str):
            return []
        if sep is None:
            return [w for w in re.split(_BLANK_RUN, s) if w]
        sep = text(sep)
        return list(s) if sep == "" else s.split(sep)


@builtin
class Lines(_ListOfText):
    name = "lines"
    usage = "lines(s, max=100)"
    js = "linesOf"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        need_str(c, e, 0, args, self.usage)
        return self.result(c, e)

    @staticmethod
    def py(s: Value) -> list[Value]:
        """Split at `\\n`; a `\\r` before it goes too; no last empty line after a final `\\n`."""
        if not isinstance(s, str) or s == "":
            return []
        out = s.split("\n")
        if out[-1] == "":
            out.pop()
        return [x[:-1] if x.endswith("\r") else x for x in out]


@builtin
class Replace(Builtin):
    name = "replace"
    arity = (3, 3)
    usage = 'replace(s, "old", "new")'
    js = "replaceText"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        for i in range(3):
            need_str(c, e, i, args, self.usage)
        not_empty(c, e, 1, "text to replace")
        return STR

    @staticmethod
    def py(s: Value, old: Value, new: Value) -> Value:
        """Every occurrence, left to right, not overlapping; an empty `old` changes nothing."""
        if not isinstance(s, str):
            return None
        old = text(old)
        return s if old == "" else s.replace(old, text(new))


class _Search(Builtin):
    arity = (2, 2)

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        need_str(c, e, 0, args, self.usage)
        need_str(c, e, 1, args, self.usage)
        return BOOL


@builtin
class Find(_Search):
    name = "find"
    usage = 'find(s, "text")'
    js = "findText"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        super().check(c, e, args, scope)
        return INT

    @staticmethod
    def py(s: Value, sub: Value) -> int:
        """The code-point index of the first occurrence, -1 when there is none."""
        return s.find(text(sub)) if isinstance(s, str) else -1


@builtin
class Contains(_Search):
    name = "contains"
    usage = 'contains(s, "text")'
    js = "containsText"

    @staticmethod
    def py(s: Value, sub: Value) -> bool:
        return isinstance(s, str) and text(sub) in s


@builtin
class StartsWith(_Search):
    name = "starts_with"
    usage = 'starts_with(s, "prefix")'
    js = "startsWith"

    @staticmethod
    def py(s: Value, prefix: Value) -> bool:
        return isinstance(s, str) and s.startswith(text(prefix))


@builtin
class EndsWith(_Search):
    name = "ends_with"
    usage = 'ends_with(s, "suffix")'
    js = "endsWith"

    @staticmethod
    def py(s: Value, suffix: Value) -> bool:
        return isinstance(s, str) and s.endswith(text(suffix))


_NOT_SLUG = r"[^a-z0-9]+"
_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


@builtin
class Slug(Builtin):
    name = "slug"
    usage = "slug(s)"
    js = "slugOf"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        need_str(c, e, 0, args, self.usage)
        return STR

    @staticmethod
    def py(s: Value) -> Value:
        """ASCII letters lowered, ASCII letters and digits kept, every run of anything else
        one `-`, none at either end: `"Fix: the README!"` → `"fix-the-readme"`."""
        if not isinstance(s, str):
            return None
        return re.sub(_NOT_SLUG, "-", s.translate(_ASCII_LOWER)).strip("-")


_MAX_DIGITS = 20
_EXACT = Context(prec=200, rounding=ROUND_HALF_UP)  # a double below 1e21 with 20 decimals has at most ~61 digits


def _digits(d: Value) -> int:
    return min(_MAX_DIGITS, max(0, count(d, "round")))


def _quantized(x: float | int, d: int) -> Decimal:
    """x at d decimals from its exact binary value, ties away from zero: what JS
    Number.prototype.toFixed computes."""
    return _EXACT.quantize(Decimal(x), Decimal(1).scaleb(-d))


class _Rounding(Builtin):
    arity = (1, 2)

    def check_args(self, c: Checking, e: ast.Call, args: list[Type]) -> None:
        need_number(c, e, 0, args, self.usage)
        if len(args) > 1:
            need_number(c, e, 1, args, self.usage)
            d = e.args[1]
            if isinstance(d, ast.IntLit) and not 0 <= d.value <= _MAX_DIGITS:
                c.error("WF213", f"{e.func}: {d.value} decimals (0 to {_MAX_DIGITS})", d.span,
                        f"write {self.usage}")


@builtin
class Round(_Rounding):
    name = "round"
    usage = "round(x, 2)"
    js = "roundTo"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        self.check_args(c, e, args)
        whole = len(e.args) == 1 or (isinstance(e.args[1], ast.IntLit) and e.args[1].value == 0)
        return INT if whole else FLOAT

    @staticmethod
    def py(x: Value, digits: Value = 0) -> Value:
        """The nearest number with `digits` decimals (0 to 20), ties away from zero, from
        the exact value of x (JS toFixed): round(2.5) = 3, round(-2.5) = -3, round(1.005, 2)
        = 1 (1.005 is stored as 1.00499...). Not a number → none."""
        if not is_number(x) or x != x or x in (float("inf"), float("-inf")):
            return None
        if abs(x) >= 1e21:  # already whole; toFixed gives up there
            return x
        v = float(_quantized(x, _digits(digits)))
        return int(v) if v.is_integer() and abs(v) <= 2**53 - 1 else v


@builtin
class Fixed(_Rounding):
    name = "fixed"
    usage = "fixed(x, 2)"
    js = "fixedText"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        self.check_args(c, e, args)
        return STR

    @staticmethod
    def py(x: Value, digits: Value = 0) -> Value:
        """x as text with exactly `digits` decimals, rounded as round() does:
        fixed(3.1, 2) = "3.10". From 1e21 on, x as text() prints it. Not a number → none."""
        if not is_number(x) or x != x or x in (float("inf"), float("-inf")):
            return None
        if abs(x) >= 1e21:
            return js_number(x)
        if x == 0:
            x = 0  # -0.0 prints as 0 in JS
        return format(_quantized(x, _digits(digits)), "f")


# ---------------------------------------------------------------- regular expressions


def pattern_literal(arg: ast.Expr, constant: Any) -> str | None:
    """The text of a pattern argument: a plain string literal, or a constant set to one."""
    if isinstance(arg, ast.Name):
        value = constant(arg.id)
        arg = value if value is not None else arg
    if isinstance(arg, ast.StrLit) and arg.is_plain:
        return arg.text
    return None


def ignore_case(e: ast.Call, constant: Any) -> bool | None:
    """The `ignore_case=` of a pattern call: false when absent, None when it is not `true` or
    `false` written in the call or a constant set to one (it shapes the pattern itself)."""
    k = Builtin.keyword(e, "ignore_case")
    if k is None:
        return False
    value = k.value
    if isinstance(value, ast.Name):
        value = constant(value.id) or value
    return value.value if isinstance(value, ast.BoolLit) else None


class _Regex(Builtin):
    """A builtin whose argument `pattern_at` is a pattern of the dialect, and which takes
    `ignore_case=true` (ASCII letters in either case, regex_dialect.py)."""
    pattern_at = 1
    static_keywords = ("ignore_case",)

    def check_pattern(self, c: Checking, e: ast.Call, args: list[Type]) -> None:
        # The dialect is loaded by the programs that use a pattern (here and in `py`), not
        # with the builtins: it was a sixth of their import.
        from wflang.dsl.builtins.regex_dialect import PatternError, translate

        need_str(c, e, 0, args, self.usage)
        fold = ignore_case(e, c.constant)
        if fold is None:
            k = self.keyword(e, "ignore_case")
            c.error("WF241", f"{e.func}: ignore_case must be `true` or `false`, written in the call or "
                    "a constant", k.value.span if k else e.span,
                    "it is part of the pattern, which is checked and translated before the run")
            fold = False
        arg = e.args[self.pattern_at]
        pattern = pattern_literal(arg, c.constant)
        if pattern is None:
            c.error("WF241", f"{e.func}: the pattern must be a string literal or a constant", arg.span,
                    f"write the pattern in the call ({self.usage}): it is checked before the run")
            return
        try:
            if translate(pattern, fold).empty and self.global_flag:
                c.error("WF240", f"{e.func}: this pattern can match the empty text, where Python and "
                        "JavaScript go on differently", arg.span,
                        "make it match at least one character (`+` rather than `*`, no `?` or `|` "
                        "with an empty side, no anchor alone); matches() may test such a pattern")
                return
        except PatternError as err:
            near = pattern[err.offset:err.offset + 6]
            c.error("WF240", f"{e.func}: {err.message} (at `{near}`, character {err.offset + 1})"
                    if near else f"{e.func}: {err.message}", arg.span,
                    err.hint + "; patterns keep to the dialect both Python and JavaScript read "
                    "the same way (docs/language.md §13a)")


@builtin
class Matches(_Regex):
    name = "matches"
    arity = (2, 2)
    keywords = ("ignore_case",)
    usage = 'matches(s, "[0-9]+")'
    js = "reMatches"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        self.check_pattern(c, e, args)
        return BOOL

    @staticmethod
    def py(s: Value, pattern: str, ignore_case: Value = False) -> bool:
        """Whether the pattern matches anywhere in s (none → false)."""
        from wflang.dsl.builtins.regex_dialect import compiled

        return isinstance(s, str) and compiled(pattern, ignore_case is True).search(s) is not None


@builtin
class ReReplace(_Regex):
    name = "re_replace"
    arity = (3, 3)
    keywords = ("ignore_case",)
    usage = 're_replace(s, "[0-9]+", "N")'
    js = "reReplace"
    global_flag = True

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        self.check_pattern(c, e, args)
        need_str(c, e, 2, args, self.usage)
        return STR

    @staticmethod
    def py(s: Value, pattern: str, new: Value, ignore_case: Value = False) -> Value:
        """Every match replaced by `new`, taken as plain text (no group references)."""
        if not isinstance(s, str):
            return None
        from wflang.dsl.builtins.regex_dialect import compiled

        new = text(new)
        return compiled(pattern, ignore_case is True).sub(lambda _: new, s)


@builtin
class Findall(_Regex, _ListOfText):
    name = "findall"
    arity = (2, 2)
    keywords = ("max", "ignore_case")
    usage = 'findall(s, "[0-9]+", max=20)'
    js = "reFindall"
    global_flag = True

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        self.check_pattern(c, e, args)
        return self.result(c, e)

    @staticmethod
    def py(s: Value, pattern: str, ignore_case: Value = False) -> list[Value]:
        """The text of every match, left to right (whole matches; groups only group)."""
        if not isinstance(s, str):
            return []
        from wflang.dsl.builtins.regex_dialect import compiled

        return [m.group(0) for m in compiled(pattern, ignore_case is True).finditer(s)]
