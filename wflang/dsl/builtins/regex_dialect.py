"""The regular expressions of `matches`, `re_replace` and `findall`: a small dialect that
means the same in Python `re` and in JavaScript `RegExp`.

Rather than refusing what is known to differ, this parses an allowed subset and writes
each target's pattern from it, spelling out what the engines read differently:

| written | meaning | Python | JavaScript (flag `u`) |
|---|---|---|---|
| `.` | any character but `\\n` | `[^\\n]` | `[^\\n]` (JS `.` also stops at `\\r`, U+2028...) |
| `^`, `$` | start, end of the text | `^`, `\\Z` (Python `$` also matches before a final `\\n`) | `^`, `$` |
| `\\d \\w \\s` | ASCII digit, word character, blank | `[0-9]`, `[0-9A-Za-z_]`, `[\\t\\n\\v\\f\\r ]` | the same classes (Python's are Unicode) |
| `\\b` | ASCII word boundary | with `re.ASCII` | as is |
| `( )` | grouping | `(?: )` | `(?: )` |

Allowed: literal characters, `\\` before a punctuation character, `\\n \\t \\r \\f \\v`,
classes `[a-z_]` / `[^...]` with ranges and `\\d \\w \\s` inside, groups `( )` `(?: )`,
lookahead `(?= )` `(?! )`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}` (m ≤ 1000)
with an optional lazy `?`, on a group only when the group cannot match the empty text.
Everything else is refused with the reason: lookbehind, `\\B`, named
groups, backreferences and octal escapes, inline flags, possessive and atomic forms,
`\\A \\Z \\z`, `\\x \\u \\p` escapes (write the character itself), a `{`, `}` or `]` that is
not part of its construct, nested `[` and set operations in a class, empty classes.

`ignore_case` folds ASCII letters only, and is written into the pattern (`k` → `[kK]`,
`[a-c]` → `[a-cA-C]`) rather than given to the engines as a flag: JavaScript's `ui` folds
by Unicode's simple case folding (`k` matches U+212A KELVIN SIGN, `s` U+017F LONG S),
Python's `re.IGNORECASE` with `re.ASCII` folds ASCII only and without it folds
differently again (`i` matches U+0130), and both follow their own Unicode version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wflang.dsl.reprs import field_repr

MAX_PATTERN = 1000
MAX_REPEAT = 1000
_PUNCT = set("\\.^$|?*+()[]{}/-,:=!<>#&~%@'\"`;_ ")
_FLAGGED_ESCAPES = {  # escape letter: (why it is refused, hint)
    "A": ("`\\A` is Python-only", "`^` is the start of the text"),
    "Z": ("`\\Z` is Python-only (JavaScript reads a `Z`)", "`$` is the end of the text"),
    "z": ("`\\z` is not a regular-expression escape in Python nor JavaScript", "`$` is the end of the text"),
    "G": ("`\\G` exists in neither engine", "anchor with `^`"),
    "x": ("`\\x` escapes are not in the dialect", "write the character itself in the string"),
    "u": ("`\\u` escapes are not in the dialect", "write the character itself in the string"),
    "U": ("`\\U` escapes are not in the dialect", "write the character itself in the string"),
    "p": ("`\\p{...}` (Unicode properties) is JavaScript-only", "list the characters in a class"),
    "P": ("`\\P{...}` (Unicode properties) is JavaScript-only", "list the characters in a class"),
    "N": ("`\\N{...}` is Python-only", "write the character itself in the string"),
    "k": ("named backreferences read differently", "repeat the sub-pattern instead"),
    "c": ("`\\c` control escapes are JavaScript-only", "write the character itself in the string"),
}
_CLASS_ESC = {"d": [(48, 57)], "w": [(48, 57), (65, 90), (97, 122), (95, 95)],
              "s": [(9, 13), (32, 32)]}
_CHAR_ESC = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11}


class PatternError(Exception):
    def __init__(self, message: str, offset: int, hint: str) -> None:
        super().__init__(message)
        self.message, self.offset, self.hint = message, offset, hint


@dataclass(frozen=True, repr=False)
class Translated:
    """A pattern of the dialect, written for each engine."""

    __repr__ = field_repr  # the dataclass text, made on demand (wflang/dsl/reprs.py)

    python: str  # compile with re.ASCII
    js: str  # the body of a JS regex literal, flag `u` (plus `g` where all matches count)
    # Can it match the empty text somewhere? After an empty match Python looks for a
    # longer one at the same place and JavaScript moves on, so findall and re_replace
    # refuse such patterns (matches does not care).
    empty: bool


def _py_char(cp: int) -> str:
    if chr(cp).isascii() and chr(cp).isalnum():
        return chr(cp)
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _js_char(cp: int) -> str:
    if chr(cp).isascii() and chr(cp).isalnum():
        return chr(cp)
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{{{cp:x}}}"


def _class(ranges: list[tuple[int, int]], negated: bool) -> tuple[str, str]:
    def body(ch: object) -> str:
        out = []
        for lo, hi in ranges:
            out.append(ch(lo) if lo == hi else f"{ch(lo)}-{ch(hi)}")  # type: ignore[operator]
        return "".join(out)

    neg = "^" if negated else ""
    return f"[{neg}{body(_py_char)}]", f"[{neg}{body(_js_char)}]"


def _folded(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges with the other case of every ASCII letter in them added (a negated class
    then leaves out both cases, as case-insensitive engines read `[^a]`)."""
    out = list(ranges)
    for lo, hi in ranges:
        for first, last, shift in ((65, 90, 32), (97, 122, -32)):
            a, b = max(lo, first), min(hi, last)
            if a <= b:
                out.append((a + shift, b + shift))
    return out


class _Parser:
    def __init__(self, src: str, fold: bool = False) -> None:
        self.s = src
        self.i = 0
        self.fold = fold  # ignore_case: each ASCII letter stands for both its cases

    def fail(self, message: str, hint: str, at: int | None = None) -> PatternError:
        return PatternError(message, self.i if at is None else at, hint)

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    # Each construct returns (Python text, JS text, whether it can match the empty text).
    def alternation(self) -> tuple[str, str, bool]:
        py, js, empty = self.sequence()
        while self.peek() == "|":
            self.i += 1
            p, j, e = self.sequence()
            py, js, empty = py + "|" + p, js + "|" + j, empty or e
        return py, js, empty

    def sequence(self) -> tuple[str, str, bool]:
        py, js, empty = "", "", True
        while self.peek() not in ("", "|", ")"):
            atom, repeatable, nullable = self.atom()
            if self.peek() in ("*", "+", "?", "{"):
                if not repeatable:
                    raise self.fail("nothing here can be repeated", "a quantifier follows a character, a class or a group")
                if nullable:  # JavaScript drops an empty repetition and backtracks; Python keeps it
                    raise self.fail("a repeated group that can match the empty text reads differently in "
                                    "Python and JavaScript", "make the group match at least one character: "
                                    "`(a|b)*` rather than `(a*|b)*`, `(x+)?` rather than `(x*)?`")
                q, least = self.quantifier()
                nullable = nullable or least == 0
                if self.peek() in ("*", "+", "?", "{"):
                    raise self.fail("a quantifier after a quantifier (possessive or doubled) reads differently "
                                    "in Python and JavaScript", "put the inner repetition in a group: `(a+)?`")
                atom = (atom[0] + q, atom[1] + q)
            py, js, empty = py + atom[0], js + atom[1], empty and nullable
        return py, js, empty

    def quantifier(self) -> tuple[str, int]:
        """The quantifier's text and its least count."""
        c = self.peek()
        if c in "*+?":
            self.i += 1
            q, lo = c, 1 if c == "+" else 0
        else:
            m = re.compile(r"\{([0-9]{1,4})(,([0-9]{0,4}))?\}").match(self.s, self.i)
            if m is None:
                raise self.fail("a `{` that is not a quantifier `{n}`, `{n,}` or `{n,m}`",
                                "write `\\{` for the character")
            lo = int(m.group(1))
            hi = lo if m.group(2) is None else int(m.group(3)) if m.group(3) else None
            if lo > MAX_REPEAT or (hi is not None and (hi > MAX_REPEAT or hi < lo)):
                raise self.fail(f"a repetition count must be 0 to {MAX_REPEAT}, the smaller first",
                                "write {n,m} with n ≤ m ≤ 1000")
            self.i = m.end()
            q = m.group(0)
        if self.peek() == "?":
            self.i += 1
            q += "?"
        return q, lo

    def atom(self) -> tuple[tuple[str, str], bool, bool]:
        """One construct, whether it may be repeated, and whether it can match empty."""
        c = self.peek()
        at = self.i
        if c == "(":
            return self.group()
        if c == "[":
            return self.char_class(), True, False
        self.i += 1
        if c == ".":
            return ("[^\\n]", "[^\\n]"), True, False
        if c == "^":
            return ("^", "^"), False, True
        if c == "$":
            return ("\\Z", "$"), False, True
        if c in "*+?":
            raise self.fail("nothing here can be repeated", "write `\\" + c + "` for the character", at)
        if c == "{":
            self.i = at
            raise self.fail("a `{` with nothing to repeat", "write `\\{` for the character")
        if c in "}]":
            raise self.fail(f"a lone `{c}` (Python reads a character, JavaScript refuses it)",
                            f"write `\\{c}` for the character", at)
        if c == "\\":
            pair, repeatable = self.escape(at)
            return pair, repeatable, not repeatable  # \b is the one zero-width escape
        if 0xD800 <= ord(c) <= 0xDFFF:
            raise self.fail("a lone surrogate in a pattern", "use whole characters", at)
        if self.fold and c.isascii() and c.isalpha():
            return _class(_folded([(ord(c), ord(c))]), False), True, False
        return (_py_char(ord(c)), _js_char(ord(c))), True, False

    def escape(self, at: int) -> tuple[tuple[str, str], bool]:
        c = self.peek()
        if c == "":
            raise self.fail("a `\\` at the end of the pattern", "write `\\\\` for a backslash", at)
        self.i += 1
        if c == "b":
            return ("\\b", "\\b"), False
        if c == "B":  # Python before 3.14 finds no \B in the empty text; JavaScript does
            raise self.fail("`\\B` reads differently on an empty text", "test with `\\b` and `not`", at)
        if c.lower() in _CLASS_ESC:
            return _class(_CLASS_ESC[c.lower()], c.isupper()), True
        if c in _CHAR_ESC:
            return (_py_char(_CHAR_ESC[c]), _js_char(_CHAR_ESC[c])), True
        if c in _PUNCT:
            return (_py_char(ord(c)), _js_char(ord(c))), True
        if c.isdigit():
            raise self.fail(f"`\\{c}`: backreferences and octal escapes read differently in Python and "
                            "JavaScript", "repeat the sub-pattern, or write the character itself", at)
        if c in _FLAGGED_ESCAPES:
            why, hint = _FLAGGED_ESCAPES[c]
            raise self.fail(why, hint, at)
        raise self.fail(f"unknown escape `\\{c}`", "escape only punctuation, or use \\d \\w \\s \\b \\n \\t", at)

    def group(self) -> tuple[tuple[str, str], bool, bool]:
        """A group, and whether it may be repeated (a lookahead may not, in JavaScript)."""
        at = self.i
        self.i += 1
        head = "(?:"
        if self.peek() == "?":
            kind = self.s[self.i:self.i + 3]
            if kind.startswith("?:"):
                self.i += 2
            elif kind.startswith(("?=", "?!")):
                head = "(" + kind[:2]
                self.i += 2
            elif kind in ("?<=", "?<!"):
                raise self.fail("lookbehind is not in the dialect (the engines differ on what it may contain)",
                                "match the text before as well, or test it separately", at)
            elif kind.startswith(("?P", "?<")):
                raise self.fail("named groups are written differently in Python and JavaScript",
                                "use a plain group `( )`", at)
            elif kind.startswith("?>"):
                raise self.fail("atomic groups are Python-only", "use a plain group `( )`", at)
            elif kind.startswith("?#"):
                raise self.fail("comments inside a pattern are Python-only", "remove the comment", at)
            else:
                raise self.fail("inline flags `(?...)` are not in the dialect",
                                "for `(?i)` write `ignore_case=true` in the call; the other flags have no equivalent", at)
        py, js, empty = self.alternation()
        if self.peek() != ")":
            raise self.fail("a `(` without its `)`", "close the group", at)
        self.i += 1
        plain = head == "(?:"
        return (head + py + ")", head + js + ")"), plain, empty or not plain

    def char_class(self) -> tuple[str, str]:
        at = self.i
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        if self.peek() == "]":
            raise self.fail("an empty class `[]` (Python reads `]` as its first character)",
                            "write `[\\]...]` for a `]`, or drop the class", at)
        ranges: list[tuple[int, int]] = []
        while True:
            c = self.peek()
            if c == "":
                raise self.fail("a `[` without its `]`", "close the class", at)
            if c == "]":
                self.i += 1
                break
            if c == "[":
                raise self.fail("a `[` inside a class (Python may read a nested set)", "write `\\[`")
            if self.s.startswith(("&&", "~~", "||", "--"), self.i):
                raise self.fail(f"`{self.s[self.i:self.i + 2]}` in a class (a set operation in newer engines)",
                                "write one of the two characters, escaped")
            lo = self.class_char()
            if isinstance(lo, list):
                ranges += lo
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                dash = self.i
                self.i += 1
                hi = self.class_char()
                if isinstance(hi, list):
                    raise self.fail("a range cannot end in a class escape", "write `\\-` for a dash", dash)
                if hi < lo:
                    raise self.fail("a range from a larger to a smaller character", "write the smaller first", dash)
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        return _class(_folded(ranges) if self.fold else ranges, negated)

    def class_char(self) -> int | list[tuple[int, int]]:
        c = self.peek()
        at = self.i
        self.i += 1
        if c != "\\":
            if 0xD800 <= ord(c) <= 0xDFFF:
                raise self.fail("a lone surrogate in a pattern", "use whole characters", at)
            return ord(c)
        e = self.peek()
        self.i += 1
        if e in _CLASS_ESC:
            return list(_CLASS_ESC[e])
        if e in _CHAR_ESC:
            return _CHAR_ESC[e]
        if e != "" and e in _PUNCT:
            return ord(e)
        if e in ("D", "W", "S"):
            raise self.fail(f"`\\{e}` inside a class is not in the dialect", "negate the whole class: `[^...]`", at)
        if e == "b":
            raise self.fail("`\\b` inside a class (a backspace in both, but easy to misread)",
                            "write the character itself", at)
        self.i = at + 1
        self.escape(at)  # raises: every other escape is refused
        raise self.fail(f"`\\{e}` is not in the dialect", "write the character itself", at)


@lru_cache(maxsize=256)
def translate(pattern: str, ignore_case: bool = False) -> Translated:
    """The pattern in each engine's syntax, or PatternError saying what is outside the dialect;
    with ignore_case, ASCII letters match either case (written out: no engine flag)."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"a pattern of {len(pattern)} characters (at most {MAX_PATTERN})", 0,
                           "split the work into several patterns")
    p = _Parser(pattern, ignore_case)
    py, js, empty = p.alternation()
    if p.i < len(pattern):  # only a `)` stops the top level early
        raise p.fail("a `)` without its `(`", "write `\\)` for the character")
    return Translated(py, js or "(?:)", empty)  # `//` would be a JS comment


@lru_cache(maxsize=256)
def compiled(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    return re.compile(translate(pattern, ignore_case).python, re.ASCII)
