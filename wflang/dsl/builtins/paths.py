"""Parts of paths and URLs, and a hash for scratch names (issue 10, Strings): basename,
dirname, extension, stem, url, hash. docs/semantics.md pins each rule; their JS helpers
sit in one block of wflang/transpiler/prelude.js.

Neither engine's library is used (Node's `path`, `URL` and `crypto` may be missing in the
workflow sandbox, and Python's posixpath / urllib read some inputs differently): each rule
is written out here and in the prelude over ASCII delimiters only, so the two agree on
every string, astral characters and lone surrogates included.
"""

from __future__ import annotations

import re
from typing import Any

from wflang.dsl import ast
from wflang.dsl.builtins.base import Builtin, Checking, builtin
from wflang.dsl.builtins.strings import need_str
from wflang.dsl.types import INT, STR, Opt, Record, Type
from wflang.dsl.values import Value


def _maybe(args: list[Type], t: Type) -> Type:
    """`t`, or `t?` when the argument may be none (which gives none)."""
    return Opt(t) if isinstance(args[0], Opt) or args[0].describe() == "none" else t


class _PathPart(Builtin):
    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        need_str(c, e, 0, args, self.usage)
        return _maybe(args, STR)


def _base(p: str) -> str:
    q = p.rstrip("/")
    return q[q.rfind("/") + 1:]


def _extension(p: str) -> str:
    b = _base(p)
    i = b.rfind(".")
    return b[i:] if i > 0 and b[:i].strip(".") else ""


@builtin
class Basename(_PathPart):
    name = "basename"
    usage = 'basename("src/app.py")'
    js = "baseName"

    @staticmethod
    def py(p: Value) -> Value:
        """The last part, trailing `/` ignored: "a/b.txt" → "b.txt", "a/b/" → "b", "/" → ""."""
        return _base(p) if isinstance(p, str) else None


@builtin
class Dirname(_PathPart):
    name = "dirname"
    usage = 'dirname("src/app.py")'
    js = "dirName"

    @staticmethod
    def py(p: Value) -> Value:
        """All before the last part, without its trailing `/`: "a/b/c" → "a/b", "a" → ".",
        "/a" → "/", "" → "."."""
        if not isinstance(p, str):
            return None
        q = p.rstrip("/")
        i = q.rfind("/")
        if i < 0:
            return "/" if p.startswith("/") else "."
        return q[:i].rstrip("/") or "/"


@builtin
class Extension(_PathPart):
    name = "extension"
    usage = 'extension("notes.tar.gz")'
    js = "extensionOf"

    @staticmethod
    def py(p: Value) -> Value:
        """From the last `.` of the basename, dot included, when a character other than
        `.` comes before it: "a.tar.gz" → ".gz", ".env" → "", "a." → ".", "a" → ""."""
        return _extension(p) if isinstance(p, str) else None


@builtin
class Stem(_PathPart):
    name = "stem"
    usage = 'stem("notes.tar.gz")'
    js = "stemOf"

    @staticmethod
    def py(p: Value) -> Value:
        """The basename without its extension: stem(p) + extension(p) == basename(p)."""
        if not isinstance(p, str):
            return None
        b = _base(p)
        return b[: len(b) - len(_extension(p))]


# ---------------------------------------------------------------- URLs

URL_RECORD = Record(None, {"scheme": STR, "host": STR, "port": Opt(INT), "path": STR, "query": STR,
                           "fragment": STR})
# Pattern texts, compiled on first use (re's own cache keeps them): most runs and checks
# never parse a URL, and compiling these six at import was a fifth of the builtins' import.
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*"
_REG_NAME = r"(?:[A-Za-z0-9._~!$&'()*+,;=\-]|%[0-9A-Fa-f]{2})*"
_USERINFO = r"(?:[A-Za-z0-9._~!$&'()*+,;=:\-]|%[0-9A-Fa-f]{2})*"
_IP_LITERAL = r"\[[0-9A-Fa-f:.]+\]"
_PORT = r"[0-9]{1,5}"
_REFUSED = r"[\x00-\x20\x7f\\]"


def parse_url(u: str) -> dict[str, Value] | None:
    """`scheme://[userinfo@]host[:port]path[?query][#fragment]`, the grammar of
    docs/semantics.md (RFC 3986 with an authority), or None."""
    if re.search(_REFUSED, u):
        return None
    i = u.find("://")
    if i <= 0 or not re.fullmatch(_SCHEME, u[:i]):
        return None
    rest = u[i + 3:]
    end = next((j for j, ch in enumerate(rest) if ch in "/?#"), len(rest))
    authority, tail = rest[:end], rest[end:]
    fragment = query = ""
    if "#" in tail:
        tail, fragment = tail.split("#", 1)
    if "?" in tail:
        tail, query = tail.split("?", 1)
    if authority.count("@") > 1:
        return None
    if "@" in authority:
        userinfo, authority = authority.split("@")
        if not re.fullmatch(_USERINFO, userinfo):
            return None
    host, port = authority, None
    if authority.startswith("["):
        close = authority.find("]") + 1
        host, after = authority[:close], authority[close:]
        if close == 0 or not re.fullmatch(_IP_LITERAL, host) or (after and not after.startswith(":")):
            return None
        port = after[1:] if after else None
    elif ":" in authority:
        host, port = authority.rsplit(":", 1)
        if not re.fullmatch(_REG_NAME, host):
            return None
    elif not re.fullmatch(_REG_NAME, host):
        return None
    if port is not None and not (re.fullmatch(_PORT, port) and int(port) <= 65535):
        return None
    return {"scheme": u[:i].lower(), "host": host.lower(), "port": None if port is None else int(port),
            "path": tail, "query": query, "fragment": fragment}


@builtin
class Url(Builtin):
    name = "url"
    usage = 'url("https://example.com/a?b#c")'
    js = "urlParts"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        need_str(c, e, 0, args, self.usage)
        return Opt(URL_RECORD)

    @staticmethod
    def py(u: Value) -> Value:
        """The parts of an absolute URL with `//`, as a record; none when u is not one."""
        return parse_url(u) if isinstance(u, str) else None


# ---------------------------------------------------------------- hash

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def utf8(s: str) -> bytes:
    """The UTF-8 of s read as JavaScript reads it, as UTF-16: a surrogate pair is one
    character, a lone surrogate becomes U+FFFD (as TextEncoder and JSON output do)."""
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


@builtin
class Hash(Builtin):
    name = "hash"
    usage = 'hash(s)'
    js = "hashText"

    def check(self, c: Checking, e: ast.Call, args: list[Type], scope: Any) -> Type:
        need_str(c, e, 0, args, self.usage)
        return _maybe(args, STR)

    @staticmethod
    def py(s: Value) -> Value:
        """FNV-1a, 64 bits, over the UTF-8 of s: 16 lowercase hex digits (not a secure hash)."""
        if not isinstance(s, str):
            return None
        h = _FNV_OFFSET
        for b in utf8(s):
            h = ((h ^ b) * _FNV_PRIME) & _MASK
        return f"{h:016x}"
