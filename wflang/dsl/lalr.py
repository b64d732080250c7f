"""Which lark the parser runs on: a stand-alone LALR module cached per user, or lark itself.

`import lark` costs about 100 ms (its grammar compiler, Earley, CYK, the `regex` module),
a third of a fresh `wf check`, though a check only needs the LALR driver and the lexer.
lark's own tool (`lark.tools.standalone`) writes exactly that as one module with the
parse table inside. We generate it on this machine the first time (from the installed
lark and `grammar.lark`), compile it, and keep the code object (marshal) in the user's
cache directory; later processes load it without importing lark. The file records the
grammar text it was made from, and is used only if that text is the current grammar's,
so an edited grammar or a new Python rebuilds it; any problem (no cache directory, a
damaged file) falls back to lark with its own `cache=True`, which parses the same.
"""

from __future__ import annotations

import marshal
import os
import sys
import types
import zlib
from typing import Any

from wflang.dsl.gcpause import paused

_FORMAT = 2  # bump when what we generate changes (it is part of the file's name)
_MODULE = "wflang.dsl._lalr_standalone"

# The options the parser is built with, in both paths (parser.py passes postlex/_plugins).
OPTIONS: dict[str, Any] = dict(parser="lalr", lexer="contextual", start=["start", "expr"],
                               propagate_positions=True, maybe_placeholders=True)


_KEEP = 8  # cached grammars kept per Python: the newest, so several installs never thrash


def cache_path(grammar: str) -> str | None:
    """One file per grammar (named by a checksum of its text; the text inside decides), so
    two installed versions, or two checkouts, do not overwrite each other's tables: one
    shared file made every switch a rebuild with lark, about 0.8 s."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    tag = sys.implementation.cache_tag or "python"
    crc = zlib.crc32(f"{_FORMAT}\n{grammar}".encode())
    return os.path.join(base, "wflang", f"lalr-{tag}-{crc:08x}.marshal")


def _prune(path: str) -> None:
    """Delete the oldest other caches of this Python beyond `_KEEP` (best effort)."""
    folder, name = os.path.split(path)
    prefix = name.rsplit("-", 1)[0]
    try:
        legacy = os.path.join(folder, prefix + ".marshal")  # the one shared file of earlier versions
        if os.path.exists(legacy):
            os.unlink(legacy)
        others = [os.path.join(folder, n) for n in os.listdir(folder)
                  if n.startswith(prefix + "-") and n.endswith(".marshal") and n != name]
        others.sort(key=os.path.getmtime, reverse=True)
        for old in others[_KEEP - 1:]:
            os.unlink(old)
    except OSError:
        pass


def load_standalone(grammar: str) -> Any:
    """The cached stand-alone module for `grammar`, or None (then build one or use lark)."""
    path = cache_path(grammar)
    if path is None:
        return None
    try:
        # The file holds code that is executed below: only a regular file of this user
        # that nobody else can write, as the program cache reads (a shared or planted folder).
        from wflang.dsl.program_cache import _read_own_file

        blob = _read_own_file(path)  # one read: marshal.load(f) reads a file in many small pieces
        if blob is None:
            return None
        with paused():  # hundreds of thousands of objects, no cycles
            fmt, cached_grammar, code, data, memo, tables = marshal.loads(blob)
    except Exception:  # missing, unreadable, from another marshal version: rebuild
        return None
    if fmt != _FORMAT or cached_grammar != grammar or not isinstance(code, types.CodeType):
        return None
    module = types.ModuleType(_MODULE)
    module.__file__ = path
    sys.modules[_MODULE] = module  # dataclasses (and pickle) look classes' modules up
    try:
        with paused():
            exec(code, module.__dict__)
            _use_tables(module, tables)
        lark_cls = module.Lark
    except Exception:
        sys.modules.pop(_MODULE, None)
        return None
    module.Lark_StandAlone = lambda **options: lark_cls._load_from_dict(data, memo, **options)
    return module


def _use_tables(module: types.ModuleType, tables: bytes) -> None:
    """Make the module's loader take its rules, terminals and parse table from `tables`
    (pickled objects of the module's own classes) instead of rebuilding them from their
    JSON-like form: lark's generic deserializer was a fifth of a fresh `wf check`."""
    try:  # the C unpickler alone: `pickle` itself imports more than it saves here
        from _pickle import loads
    except ImportError:  # not CPython
        from pickle import loads

    objects, parse_table = loads(tables)
    module.SerializeMemoizer.deserialize = classmethod(lambda cls, data, namespace, memo: objects)
    module.IntParseTable.deserialize = classmethod(lambda cls, data, memo: parse_table)


def _pickled_tables(code: types.CodeType, data: dict[str, Any], memo: dict[Any, Any]) -> bytes:
    """The rules and terminals (lark's memo) and the parse table, made with the classes of
    the stand-alone module `code` defines, pickled: what `_use_tables` hands its loader."""
    import pickle

    module = types.ModuleType(_MODULE)
    before = sys.modules.get(_MODULE)
    sys.modules[_MODULE] = module
    try:
        exec(code, module.__dict__)
        objects = module.SerializeMemoizer.deserialize(memo, {"Rule": module.Rule, "TerminalDef": module.TerminalDef},
                                                       {})
        parse_table = module.IntParseTable.deserialize(data["parser"]["parser"], objects)
        return pickle.dumps((objects, parse_table), protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        if before is None:
            sys.modules.pop(_MODULE, None)
        else:
            sys.modules[_MODULE] = before


# Edits to lark's stand-alone code, each applied only where the text is exactly this
# (else the code stays as lark wrote it, only slower to import). None changes behaviour:
# `regex` serves only Lark(regex=True); lark's logger is set to CRITICAL and logs nothing;
# `inspect` serves only Transformer decorators, which the parser does not use.
_EDITS = (
    ("try:\n    import regex\n    _has_regex = True\nexcept ImportError:\n    _has_regex = False\n",
     "_has_regex = False\n"),
    ('import logging\n', ''),
    ('logger: logging.Logger = logging.getLogger("lark")\nlogger.addHandler(logging.StreamHandler())\n',
     'class _NoLog:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\n\n\n'
     'logger = _NoLog()\n'),
    ('logger.setLevel(logging.CRITICAL)\n', ''),
    ('from inspect import getmembers, getmro\n',
     'def getmembers(obj):\n    import inspect\n    return inspect.getmembers(obj)\n\n\n'
     'def getmro(cls):\n    return cls.__mro__\n'),
)


def build_standalone(parser: Any, grammar: str) -> None:
    """Write the stand-alone parser of the lark `parser` (built from `grammar`) to the cache:
    lark's stand-alone code compiled, and its tables as plain data (marshal reads them at C
    speed, where the generated module would build them from a 700 kB literal).

    Best effort: a read-only home or a full disk leaves the next process on lark."""
    path = cache_path(grammar)
    if path is None:
        return
    tmp = f"{path}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
    try:
        from lark.grammar import Rule
        from lark.lexer import TerminalDef
        from lark.tools import standalone

        parts = []
        for i, pyfile in enumerate(standalone.EXTRACT_STANDALONE_FILES):  # as gen_standalone does
            with open(os.path.join(standalone._larkdir, pyfile)) as f:
                code = standalone.extract_sections(f)["standalone"]
            if i:
                code = standalone.strip_docstrings(iter(code.splitlines(True)).__next__)
            parts.append(code)
        source = "\n".join(parts) + "\nShift = 0\nReduce = 1\n"
        for old, new in _EDITS:
            if source.count(old) == 1:
                source = source.replace(old, new)
        # The options go into the tables as data: leave out the objects (our indenter,
        # our lexer class); the loading process passes its own.
        data, memo = parser.memo_serialize([TerminalDef, Rule])
        data = dict(data, options=dict(data["options"], postlex=None, _plugins={}))
        code_obj = compile(source, "<wflang: lark.tools.standalone>", "exec")
        tables = _pickled_tables(code_obj, data, memo)
        # What the pickle holds need not be read again: the states (most of the data) and
        # the memo (a placeholder: lark's loader requires one).
        parser_data = dict(data["parser"], parser=dict(data["parser"]["parser"], states={}))
        data = dict(data, parser=parser_data)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # A new file of our own, never through a link planted under that name; 0600 as the programs.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            marshal.dump((_FORMAT, grammar, code_obj, data, {"tables": "pickled"}, tables), f)
        os.replace(tmp, path)  # atomic: a concurrent `wf` reads the old file or the new one
        _prune(path)
    except Exception:
        try:
            os.unlink(tmp)
        except OSError:
            pass


_NAMES = ("Lark", "Token", "Tree", "Indenter", "UnexpectedInput", "UnexpectedCharacters", "UnexpectedEOF",
          "UnexpectedToken", "PropagatePositions", "BasicLexer", "ContextualLexer", "PatternRE", "PatternStr",
          "TerminalDef")


def api(grammar: str) -> Any:
    """lark's classes the parser uses: from the cached stand-alone module when it matches
    `grammar`, else from lark (`.standalone` says which)."""
    module = load_standalone(grammar)
    if module is not None and all(hasattr(module, n) for n in (*_NAMES, "Lark_StandAlone")):
        ns = types.SimpleNamespace(**{n: getattr(module, n) for n in _NAMES})
        ns.standalone, ns.Lark_StandAlone = True, module.Lark_StandAlone
        return ns
    import lark
    from lark import exceptions, indenter, lexer, parse_tree_builder

    ns = types.SimpleNamespace(
        Lark=lark.Lark, Token=lark.Token, Tree=lark.Tree, Indenter=indenter.Indenter,
        UnexpectedInput=exceptions.UnexpectedInput, UnexpectedCharacters=exceptions.UnexpectedCharacters,
        UnexpectedEOF=exceptions.UnexpectedEOF, UnexpectedToken=exceptions.UnexpectedToken,
        PropagatePositions=parse_tree_builder.PropagatePositions, BasicLexer=lexer.BasicLexer,
        ContextualLexer=lexer.ContextualLexer, PatternRE=lexer.PatternRE, PatternStr=lexer.PatternStr,
        TerminalDef=lexer.TerminalDef)
    ns.standalone, ns.Lark_StandAlone = False, None
    return ns
