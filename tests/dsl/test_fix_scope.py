"""`last` and `attempt` in a `fix` body: in scope there, typed, not assignable, and a
clear hint anywhere else; the bound does not change."""

from __future__ import annotations

from wflang.dsl.checker import check_program
from wflang.dsl.parser import parse

HEADER = 'workflow t:\n    description: "d"\n'


def errors(body: str) -> list[tuple[str, str, str | None]]:
    result = check_program(parse(HEADER + body, "t.wf"))
    return [(d.code, d.message, d.hint) for d in result.diagnostics if d.severity == "error"]


FIX = ('o = fix max 3:\n    agent "attempt {attempt}: {last.details} ({last.passed})"\n'
       'until check "run the tests"\nreturn o\n')


def test_last_and_attempt_are_in_scope_in_the_body_and_the_bound_is_unchanged() -> None:
    result = check_program(parse(HEADER + FIX, "t.wf"))
    assert result.ok
    plain = check_program(parse(HEADER + FIX.replace("attempt {attempt}: {last.details} ({last.passed})", "x"),
                                "t.wf"))
    assert result.bound.total == plain.bound.total == 3 + 4


def test_last_is_a_check_answer_or_none() -> None:
    [(code, message, hint)] = errors(FIX.replace("{last.details}", "{last.nope}"))
    assert (code, message, hint) == ("WF225", "`{passed: bool, details: str}` has no field `nope`",
                                     "fields: passed, details")


def test_outside_a_fix_the_hint_says_where_they_live() -> None:
    [(code, message, hint)] = errors("x = last\nreturn x\n")
    assert code == "WF201" and message == "unknown name `last`"
    assert hint is not None and "only in the body of a `fix`" in hint
    [(_, message, hint)] = errors("return attempt\n")
    assert message == "unknown name `attempt`" and "only in the body of a `fix`" in (hint or "")


def test_they_do_not_leak_after_the_fix() -> None:
    found = errors(FIX.replace("return o\n", "z = attempt\nreturn o\n"))
    assert [c for c, _, _ in found] == ["WF201"]


def test_they_cannot_be_assigned_in_the_body() -> None:
    [(code, message, hint)] = errors('o = fix max 2:\n    last = 3\nuntil check "c"\nreturn o\n')
    assert code == "WF219" and "`last` is the fix's own name" in message and "new name" in (hint or "")


def test_an_outer_name_is_shadowed_in_the_body_only() -> None:
    body = 'attempt = "outer"\no = fix max 2:\n    agent "{attempt}"\nuntil check "c"\nreturn attempt + "!"\n'
    assert errors(body) == []
