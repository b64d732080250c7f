"""The lazy contextual lexer (wflang/dsl/lexer.py) and the cached stand-alone parser
(wflang/dsl/lalr.py) parse exactly as lark's own contextual lexer and parser do: the same
trees, the same tokens at the same positions, the same errors, on every .wf file in the
repository, on mutations of them and on random text."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wflang.dsl import lalr, parser
from wflang.dsl.lexer import _first_chars, _sre_parse, lazy_contextual_lexer

ROOT = Path(__file__).resolve().parents[2]
# Only committed-looking sources: not a run's journal folder (`.wf/`), nor node_modules.
SOURCES = sorted(p for p in ROOT.rglob("*.wf")
                 if p.is_file() and not {"node_modules", ".wf", ".venv"} & set(p.relative_to(ROOT).parts))


def _stock() -> Any:
    return lark.Lark(parser._GRAMMAR, postlex=parser._WfIndenter(), **lalr.OPTIONS)


def _ours_on_lark() -> Any:
    plugins = {"ContextualLexer": lazy_contextual_lexer(_LarkApi)}
    return lark.Lark(parser._GRAMMAR, postlex=parser._WfIndenter(), _plugins=plugins, **lalr.OPTIONS)


class _LarkApi:
    BasicLexer = lark.lexer.BasicLexer
    ContextualLexer = lark.lexer.ContextualLexer


STOCK = _stock()
OURS = _ours_on_lark()


def _shape(node: Any) -> Any:
    """A tree as plain tuples (the two parsers' Tree/Token classes may differ)."""
    if hasattr(node, "data") and hasattr(node, "children"):
        return ("tree", str(node.data), tuple(_shape(c) for c in node.children))
    if node is None:
        return None
    return ("token", node.type, str(node), node.line, node.column, node.end_line, node.end_column,
            node.start_pos, node.end_pos)


def _outcome(p: Any, text: str, start: str = "start") -> Any:
    indenter = p.options.postlex
    indenter.text = text
    try:
        return ("ok", _shape(p.parse(text, start=start)))
    except Exception as e:  # compare what the diagnostics read from the error
        token = getattr(e, "token", None)
        return ("error", type(e).__name__, getattr(e, "line", None), getattr(e, "column", None),
                getattr(e, "pos_in_stream", None), _shape(token) if token is not None else None,
                sorted(getattr(e, "expected", None) or getattr(e, "allowed", None) or ()),
                str(e).split("\n", 1)[0])  # (the rest lists a set, in no fixed order)


def _same(text: str, start: str = "start") -> None:
    want = _outcome(STOCK, text, start)
    assert _outcome(OURS, text, start) == want
    ours, _ = parser._get_parser()  # the one `wf check` uses: stand-alone once cached
    got = _outcome(ours, text, start)
    if want[0] == "ok":
        assert got[0] == "ok"  # (our position callbacks change only trees' meta, not shapes)
        assert got == want
    else:
        assert got[:8] == want[:8]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_parses_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    _same(text if text.endswith("\n") else text + "\n")


def test_mutations_of_the_examples_fail_or_parse_the_same() -> None:
    rng = random.Random(8)
    pieces = ["max", "maxi", "all", "\"\"\"", "\"", "'", "->", "-", ">", "<=", "1.5", "1e3", "12abc", "#",
              "\\\n", "\n", "    ", "(", ")", "[", "]", "{", "}", ":", "agent", "keep if all", "min -"]
    texts = [p.read_text(encoding="utf-8") for p in SOURCES[:40]]
    for _ in range(300):
        text = rng.choice(texts)
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.5:
            text = text[:at] + rng.choice(pieces) + text[at:]
        else:
            text = text[:at] + text[at + rng.randrange(1, 8):]
        _same(text if text.endswith("\n") else text + "\n")


ALPHABET = st.sampled_from(list("abmx_019.\"'#-><=!()[]{}:,+*/%|? \t\n\\") +
                           ["max", "all", "if", "in", "not", "keep", "agent", "\"\"\"", "    "])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_random_text_parses_the_same(text: str) -> None:
    _same('workflow t:\n    description: "d"\n\nphase "P":\n    x = ' + text + "\n")
    _same(text, "expr")


def test_first_characters_of_the_terminals() -> None:
    def first(regexp: str) -> Any:
        found, nullable = _first_chars(_sre_parse.parse(regexp))
        return None if found is None else (set(found), nullable)

    assert first(r"[A-Za-z_][A-Za-z0-9_]*")[0] == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
    assert first(r"(?:\r?\n[\t ]*|#[^\n]*)+") == ({"\r", "\n", "#"}, False)
    assert first(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'') == ({'"', "'"}, False)
    assert first(r"[^x]") is None  # a negated class could start with anything
    assert first(r"a?") == ({"a"}, True)  # can match empty: the lexer then tries it everywhere
