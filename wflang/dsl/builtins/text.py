"""Builtins that make or read text: how each is typed and what it means in Python. Their
JS helpers are in wflang/transpiler/prelude.js."""

from __future__ import annotations

import math
import re
from typing import Any

from wflang.dsl import ast
from wflang.dsl.builtins.base import Builtin, Checking, builtin
from wflang.dsl.builtins.support import items
from wflang.dsl.types import INT, STR, Type
from wflang.dsl.values import Value, is_number, text, to_json


class _Text(Builtin):
    """A builtin whose value is a string, whatever its argument."""

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        return STR


@builtin
class Join(Builtin):
    name = "join"
    arity = (1, 2)
    keywords = ("sep",)
    usage = 'join(xs, ", ")'
    js = "join"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        c.need_list(e, 0, args)
        return STR

    @staticmethod
    def py(xs: Value, sep: Value = "") -> str:
        return text(sep).join(text(x) for x in items(xs))


@builtin
class Lower(_Text):
    name = "lower"
    usage = "lower(s)"
    js = "lower"

    @staticmethod
    def py(s: Value) -> Value:
        return s.lower() if isinstance(s, str) else None


@builtin
class Upper(_Text):
    name = "upper"
    usage = "upper(s)"
    js = "upper"

    @staticmethod
    def py(s: Value) -> Value:
        return s.upper() if isinstance(s, str) else None


@builtin
class Strip(_Text):
    name = "strip"
    usage = "strip(s)"
    js = "strip"

    @staticmethod
    def py(s: Value) -> Value:
        return s.strip(" \t\n\r\f\v") if isinstance(s, str) else None


@builtin
class Json(Builtin):
    name = "json"
    keywords = ("indent",)
    usage = "json(v) or json(v, indent=0)"
    js = "json"  # jsonIndent with indent= (emit.py call_json)

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        k = self.keyword(e, "indent")
        # (the checker typed the keyword already; a literal of another kind is the mistake)
        if k is not None and isinstance(k.value, (ast.StrLit, ast.BoolLit, ast.ListLit, ast.DictLit)):
            c.error("WF213", "json: indent is a number of spaces", k.value.span,
                    "write json(v, indent=0) for the compact form")
        return STR

    @staticmethod
    def py(v: Value, indent: Value = 2) -> str:
        """JSON.stringify(v, null, indent): at most 10 spaces; below 1 (or none) compact."""
        n = min(10, int(indent)) if is_number(indent) and math.isfinite(indent) else 0
        return to_json(v, n if n >= 1 else None)


@builtin
class Str(_Text):
    name = "str"
    usage = "str(v)"
    js = "text"

    @staticmethod
    def py(v: Value) -> str:
        return text(v)


_DIGITS = r"[+-]?[0-9]+"  # compiled on first use (re's cache): not every program converts text


@builtin
class Int(Builtin):
    name = "int"
    usage = "int(v)"
    js = "int"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        return INT

    @staticmethod
    def py(v: Value) -> Value:
        if is_number(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return int(v)  # truncates toward zero
        if isinstance(v, str):
            return int(v) if re.fullmatch(_DIGITS, v) else None
        return None
