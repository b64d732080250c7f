"""Shared prompt heads (wflang/dsl/shared_head.py): which agents send the static start of
their prompt as its own prompt-cache block, and where the prompt is split. Both back ends
read this module; the differential test holds them to the same head call for call."""

from __future__ import annotations

from wflang.dsl import ast, shared_head
from wflang.dsl.parser import parse

HEAD = "You review one file of a large service; every handler validates its input. " * 3  # 228 chars

SOURCE = f'''workflow h:
    description: "heads"

input files: list[str] max 4

phase "P":
    short = fanout f in files:
        agent "Review {{f}} carefully."
    long = fanout f in files:
        agent "{HEAD}Now review {{f}}."
    voted = vote 3:
        agent "{HEAD}Pick one."
    once = agent "{HEAD}Summarise {{long}}."
    dynamic = fanout f in files:
        agent "{{f}} {HEAD}"
return [short, long, voted, once, dynamic]
'''


def agents(program: ast.Program) -> list[ast.Agent]:
    return [n for n in ast.walk(program) if isinstance(n, ast.Agent)]


def test_only_a_long_static_head_of_a_repeated_site_is_shared() -> None:
    program = parse(SOURCE, "h.wf")
    heads = shared_head.shared_heads(program)
    short, long, voted, once, dynamic = agents(program)
    assert heads == {id(long): HEAD + "Now review "}
    assert len(HEAD) >= shared_head.MIN_HEAD_CHARS > len("Review ")  # `short`: too short to be worth it
    # `voted`: the whole prompt is static, shared whole by the breakpoint after it anyway;
    # `once`: a single agent's head is never read back; `dynamic`: no static head
    assert id(voted) not in heads and id(once) not in heads and id(dynamic) not in heads


def test_the_head_length_is_counted_as_javascript_counts_it() -> None:
    assert shared_head.utf16_length("abc") == 3
    assert shared_head.utf16_length("a\U0001F600b") == 4  # beyond U+FFFF: a surrogate pair
    assert shared_head.utf16_length("é—") == 2


def test_a_split_is_made_only_when_it_is_clean() -> None:
    assert shared_head.split(HEAD + "file 3", HEAD) == (HEAD, "file 3")
    assert shared_head.split(HEAD + " \n\t\u3000", HEAD) is None  # a blank rest (JS trim)
    assert shared_head.split(HEAD + "\x1f", HEAD) == (HEAD, "\x1f")  # not JS whitespace
    assert shared_head.split("other " + HEAD, HEAD) is None
    assert shared_head.split(HEAD + "x", None) is None
    assert shared_head.split("\ufeff \n" + "rest", "\ufeff \n") is None  # a blank head
    assert shared_head.js_blank("\u00a0\u2028\ufeff") and not shared_head.js_blank("\u200b")
