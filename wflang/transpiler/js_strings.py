"""JavaScript literals for the emitter: strings, template-literal text, keys and data.

Every Python string must come back from node unchanged, so escaping is explicit about
the characters that JS treats specially:

- line terminators (LF, CR, U+2028, U+2029) are always escaped: a raw CR inside a template
  literal would be read back as LF, and a raw U+2028 would end a `//` comment;
- lone surrogates (U+D800..U+DFFF) are written as `\\uXXXX`: they cannot be encoded as
  UTF-8 in the output file, and the escape gives JS exactly that code unit back;
- other control characters (C0, DEL, C1) and U+FEFF are escaped so the output is readable;
- in `meta` a backtick is written `\\u0060`: the static meta reader rejects any backtick
  character in the literal, and `\\u0060` is six ordinary characters in the source that
  evaluate to a backtick in the string's value.

Everything else (printable Unicode included) is written as is, for readable prompts.
"""

from __future__ import annotations

import re
from typing import Any

_SIMPLE = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}

# Words a scan of the output for banned constructs looks for: never written bare as an
# object key or after `.`, so that such a scan finds only real uses.
BANNED_WORDS = frozenset("this class with import eval require Function globalThis".split())
JS_RESERVED = frozenset("""
    await break case catch class const continue debugger default delete do else enum export
    extends false finally for function if implements import in instanceof interface let new
    null package private protected public return static super switch this throw true try
    typeof var void while with yield async of get set arguments eval undefined NaN Infinity
""".split())

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _needs_escape(ch: str) -> bool:
    o = ord(ch)
    return (o < 0x20 or 0x7F <= o <= 0x9F or o in (0x2028, 0x2029, 0xFEFF)
            or 0xD800 <= o <= 0xDFFF)


def _escape_char(ch: str, quote: str, no_backtick: bool) -> str:
    if ch in _SIMPLE:
        return _SIMPLE[ch]
    if ch == quote:
        return "\\" + ch
    if ch == "`" and no_backtick:
        return "\\u0060"
    if _needs_escape(ch):
        return f"\\u{ord(ch):04x}"
    return ch


def js_string(s: str, *, quote: str = "'", no_backtick: bool = False) -> str:
    """A quoted JS string literal whose value is exactly `s`."""
    return quote + "".join(_escape_char(ch, quote, no_backtick) for ch in s) + quote


def template_text(s: str) -> str:
    """`s` escaped for the text part of a template literal: backslash, backtick and `${`
    are escaped (a `$` not followed by `{` is literal in a template and left alone)."""
    out = []
    for i, ch in enumerate(s):
        if ch == "`":
            out.append("\\`")
        elif ch == "$" and s.startswith("{", i + 1):
            out.append("\\$")
        else:
            out.append(_escape_char(ch, "`", False))
    return "".join(out)


def js_template(parts: list[tuple[str, str]]) -> str:
    """A template literal from (kind, text) parts: ("text", raw string) or ("code", JS
    expression). A template with no code part is written as a plain quoted string."""
    if all(kind == "text" for kind, _ in parts):
        return js_string("".join(text for _, text in parts))
    body = "".join(template_text(t) if kind == "text" else "${" + t + "}" for kind, t in parts)
    return "`" + body + "`"


def js_key(name: str, *, no_backtick: bool = False) -> str:
    """An object-literal key: bare when it is a plain identifier, quoted otherwise.
    `__proto__` is computed (`['__proto__']`) so that it is an own property, not the
    prototype."""
    if name == "__proto__":
        return "['__proto__']"
    if _IDENT.match(name) and name not in BANNED_WORDS:
        return name
    return js_string(name, no_backtick=no_backtick)


def js_member(name: str) -> str:
    """`.name` after an optional chain: `?.name`, or `?.['name']` when it is not a plain
    identifier or is a reserved word."""
    if _IDENT.match(name) and name not in BANNED_WORDS:
        return "?." + name
    return "?.[" + js_string(name) + "]"


def js_number(v: int | float) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"no JS literal for {v!r}")
    text = repr(v)
    return text[:-2] if text.endswith(".0") else text


class JsCode:
    """Raw JS code inside a data value passed to `js_value` (a variable reference in a
    schema, for instance)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsCode) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __repr__(self) -> str:
        return f"JsCode({self.code!r})"


def js_value(v: Any, *, indent: int = 0, width: int = 100, no_backtick: bool = False,
             refs: dict[str, Any] | None = None, _top: bool = True) -> str:
    """A JSON-like value as a JS literal, two-space indented. Objects and arrays that fit
    in `width` columns stay on one line. `refs` maps const names to values: a sub-value
    equal to one of them is written as that name (schemas reuse record schemas)."""
    one = _inline(v, no_backtick, refs, top=_top)
    if one is not None and indent + len(one) <= width:
        return one
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(v, dict):
        items = [f"{pad}{js_key(k, no_backtick=no_backtick)}: "
                 f"{js_value(x, indent=indent + 1, width=width, no_backtick=no_backtick, refs=refs, _top=False)},"
                 for k, x in v.items()]
        return "{\n" + "\n".join(items) + "\n" + end + "}"
    if isinstance(v, list):
        items = [f"{pad}{js_value(x, indent=indent + 1, width=width, no_backtick=no_backtick, refs=refs, _top=False)},"
                 for x in v]
        return "[\n" + "\n".join(items) + "\n" + end + "]"
    assert one is not None
    return one


def _inline(v: Any, no_backtick: bool, refs: dict[str, Any] | None, top: bool = False) -> str | None:
    if refs and not top:
        for name, ref in refs.items():
            if ref == v and isinstance(v, dict):
                return name
    if isinstance(v, JsCode):
        return v.code
    if v is None:
        return "null"
    if isinstance(v, (bool, int, float)):
        return js_number(v)
    if isinstance(v, str):
        return js_string(v, no_backtick=no_backtick)
    if isinstance(v, dict):
        if not v:
            return "{}"
        inner = [f"{js_key(k, no_backtick=no_backtick)}: {_inline(x, no_backtick, refs)}" for k, x in v.items()]
        return "{ " + ", ".join(inner) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(str(_inline(x, no_backtick, refs)) for x in v) + "]"
    raise TypeError(f"no JS literal for {type(v).__name__}")
