"""lark's contextual lexer, built lazily and without compiling one regex per parser state.

lark's `ContextualLexer` makes a `BasicLexer` for each of the ~100 distinct sets of
terminals the parser states accept (about 30 ms at start-up) and, on first use in a state,
compiles one alternation of that state's terminals (about 1.5 ms each; the design example
reaches 51 states: 100 ms of a 300 ms `wf check`). This lexer gives the same tokens, the
same positions and the same errors (tests/dsl/test_lexer.py compares it with lark's on
every example, on mutations of them and on random text):

- a state's lexer is made the first time the parser is in that state;
- each terminal's regex is compiled once for all states, and a state's alternation is
  tried alternative by alternative, in lark's order, which is what Python's leftmost
  alternation does; only alternatives whose first character can be the next character
  are tried (the first characters are read from the regex's parse, `re._parser`);
- keywords a NAME-like terminal absorbs (lark's "unless" callback) are a dict lookup.

It is plugged in through lark's `_plugins` option, which does not change lark's cache key;
`lazy_contextual_lexer(api)` makes the class for lark or for the stand-alone module (`lalr.py`).
"""

from __future__ import annotations

import re
from typing import Any

try:
    from re import _constants as _sre_c  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover (Python < 3.11)
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_ANY = None  # "could start with any character"


def _first_chars(items: Any) -> tuple[frozenset[str] | None, bool]:
    """(characters a match can start with or _ANY, whether the sequence can match empty)."""
    out: set[str] = set()
    for op, av in items:
        first, nullable = _first_item(op, av)
        if first is _ANY:
            return _ANY, True
        out |= first
        if not nullable:
            return frozenset(out), False
    return frozenset(out), True


def _first_item(op: Any, av: Any) -> tuple[frozenset[str] | None, bool]:
    if op is _sre_c.LITERAL:
        return frozenset((chr(av),)), False
    if op is _sre_c.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is _sre_c.LITERAL:
                chars.add(chr(value))
            elif kind is _sre_c.RANGE and value[1] - value[0] < 512:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:  # NEGATE, CATEGORY (\w, \s ...), huge ranges: anything
                return _ANY, True
        return frozenset(chars), False
    if op is _sre_c.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & (_sre_c.SRE_FLAG_IGNORECASE | _sre_c.SRE_FLAG_VERBOSE):
            return _ANY, True
        return _first_chars(sub)
    if op is _sre_c.BRANCH:
        out: set[str] = set()
        nullable = False
        for alternative in av[1]:
            first, n = _first_chars(alternative)
            if first is _ANY:
                return _ANY, True
            out |= first
            nullable = nullable or n
        return frozenset(out), nullable
    if op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, getattr(_sre_c, "POSSESSIVE_REPEAT", None)):
        low, _high, sub = av
        first, nullable = _first_chars(sub)
        return first, nullable or low == 0
    return _ANY, True  # anchors, look-arounds, backreferences, `.`: do not guess


class _Alternative:
    __slots__ = ("name", "literal", "match", "first")

    def __init__(self, terminal: Any, flags: int) -> None:
        self.name = terminal.name
        pattern = terminal.pattern
        if pattern.type == "str" and not pattern.flags and not flags:
            # A keyword or a bracket (most terminals): `startswith`, no regex to compile.
            self.literal: str | None = pattern.value
            self.match: Any = None
            self.first: frozenset[str] | None = frozenset(pattern.value[:1])
            return
        regexp = pattern.to_regexp()
        self.literal = None
        self.match = re.compile(regexp, flags).match
        first: frozenset[str] | None = _ANY
        if not flags & re.IGNORECASE:
            try:
                found, nullable = _first_chars(_sre_parse.parse(regexp, flags))
                first = _ANY if nullable else found
            except Exception:  # an unusual regex: try it at every position
                first = _ANY
        self.first = first


_compiled: dict[tuple[str, int], _Alternative] = {}


def _alternative(terminal: Any, flags: int) -> _Alternative:
    key = (terminal.name, flags)
    alt = _compiled.get(key)
    if alt is None:
        alt = _compiled[key] = _Alternative(terminal, flags)
    return alt


class _Unless:
    """lark's UnlessCallback for plain strings: a NAME that spells a keyword is the keyword."""

    __slots__ = ("types",)

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def __call__(self, t: Any) -> Any:
        kind = self.types.get(t.value)
        if kind is not None:
            t.type = kind
        return t


class _Scanner:
    """Matches what lark's Scanner over `terminals` (one alternation, in order) matches."""

    def __init__(self, terminals: list[Any], flags: int) -> None:
        self.alternatives = [_alternative(t, flags) for t in terminals]
        self.allowed_types = {t.name for t in terminals}
        self.by_char: dict[str, list[_Alternative]] = {}

    def _candidates(self, ch: str) -> list[_Alternative]:
        found = [a for a in self.alternatives if a.first is _ANY or ch in a.first]
        self.by_char[ch] = found
        return found

    def match(self, text: Any, pos: int) -> tuple[str, str] | None:
        s, end = text.text, text.end
        candidates = self.by_char.get(s[pos])
        if candidates is None:
            candidates = self._candidates(s[pos])
        for alt in candidates:
            literal = alt.literal
            if literal is not None:
                if s.startswith(literal, pos, end):
                    return literal, alt.name
            else:
                m = alt.match(s, pos, end)
                if m:
                    return m.group(0), alt.name
        return None


_spelled: dict[tuple[str, str, int], bool] = {}


def _spells(retok: Any, strtok: Any, flags: int) -> bool:
    """Does the regex terminal match the whole of the string terminal (lark's test)?"""
    key = (retok.name, strtok.name, flags)
    found = _spelled.get(key)
    if found is None:
        s = strtok.pattern.value
        m = _alternative(retok, flags).match(s)
        found = _spelled[key] = bool(m) and m.group(0) == s
    return found


def _unless(terminals: list[Any], flags: int) -> tuple[list[Any], dict[str, Any]]:
    """lark's `_create_unless`, with the absorbed strings as dicts."""
    strings = [t for t in terminals if t.pattern.type == "str"]
    embedded: set[str] = set()
    callback: dict[str, Any] = {}
    for retok in terminals:
        if retok.pattern.type != "re":
            continue
        types: dict[str, str] = {}
        for strtok in strings:
            if strtok.priority != retok.priority:
                continue
            s = strtok.pattern.value
            if _spells(retok, strtok, flags):
                types.setdefault(s, strtok.name)
                if strtok.pattern.flags <= retok.pattern.flags:
                    embedded.add(strtok.name)
        if types:
            callback[retok.name] = _Unless(types)
    return [t for t in terminals if t.name not in embedded], callback


_made: dict[int, type] = {}


def lazy_contextual_lexer(api: Any) -> type:
    """The lazy ContextualLexer class over `api`'s lark classes (lark's, or the stand-alone's)."""
    made = _made.get(id(api.ContextualLexer))
    if made is None:
        made = _made[id(api.ContextualLexer)] = _make(api.BasicLexer, api.ContextualLexer)
    return made


def _make(basic: type, contextual: type) -> type:
    from copy import copy

    class FastBasicLexer(basic):  # type: ignore[misc, valid-type]
        def _build_scanner(self) -> Any:
            terminals, self.callback = _unless(self.terminals, self.g_regex_flags)
            for type_, f in self.user_callbacks.items():  # none in wflang; kept for lark's contract
                self.callback.setdefault(type_, f)
            return _Scanner(terminals, self.g_regex_flags)

    class LexersByState(dict):
        def __init__(self, owner: Any) -> None:
            super().__init__()
            self.owner = owner

        def __missing__(self, state: int) -> Any:
            lexer = self.owner._lexer_for(state)
            self[state] = lexer
            return lexer

    class LazyContextualLexer(contextual):  # type: ignore[misc, valid-type]
        """lark's ContextualLexer with per-state lexers made on demand (see the module doc)."""

        BasicLexer = FastBasicLexer

        def __init__(self, conf: Any, states: dict[int, Any], always_accept: Any = ()) -> None:
            if conf.use_bytes or conf.re_module is not re or any(
                    t.pattern.type == "str" and t.pattern.flags for t in conf.terminals):
                raise ValueError("LazyContextualLexer supports str input, the re module and plain strings")
            self._conf = copy(conf)
            self._conf.terminals = list(conf.terminals)
            self._states = states
            self._always = set(conf.ignore) | set(always_accept)
            self._by_key: dict[frozenset[str], Any] = {}
            self._root: Any = None
            self.lexers = LexersByState(self)

        def _lexer_for(self, state: int) -> Any:
            key = frozenset(self._states[state])
            lexer = self._by_key.get(key)
            if lexer is None:
                by_name = self._conf.terminals_by_name
                conf = copy(self._conf)
                conf.terminals = [by_name[n] for n in key | self._always if n in by_name]
                conf.skip_validation = True  # lark validated every terminal when it built the grammar
                lexer = self._by_key[key] = self.BasicLexer(conf)
            return lexer

        @property  # type: ignore[override]
        def root_lexer(self) -> Any:  # only on a syntax error: what the text would be elsewhere
            if self._root is None:
                conf = copy(self._conf)
                conf.skip_validation = True
                self._root = self.BasicLexer(conf)
            return self._root

    return LazyContextualLexer
