"""Agent labels (wflang/dsl/labels.py): readable, derived from the construct and the item,
the same whatever line an agent is on; both back ends take them from here (the
differential test holds them to the same labels call for call)."""

from __future__ import annotations

import trio

from wflang.dsl import labels
from wflang.dsl.arguments import validate_args
from wflang.dsl.parser import parse
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Scheduler

SOURCE = '''workflow l:
    description: "labels"

input findings: list[str] max 4
input entries: list[str] max 2

phase "Verify":
    confirmed = review x in findings by 2:
        agent "refute {x}" -> bool
        accept when answer
    notes = fanout e in entries:
        first = agent "a {e}"
        agent "b {e} {first}"
    choice = vote 2:
        agent "vote"
    again = vote 2:
        agent "vote again"
    again = vote 2:
        agent "vote once more"
    outcome = fix max 1:
        agent "fix"
    until check "ok?"
return agent "final"
'''


def run_labels(source: str) -> list[str]:
    program = parse(source, "l.wf")
    values, problems = validate_args(program, {"findings": ["f1", "f2"], "entries": ["e1"]})
    assert not problems
    backend = FakeBackend({"rules": [], "default": "schema"})
    trio.run(run_program, program, values, Scheduler(backend, "."))
    return sorted(c["label"] for c in backend.calls)


def test_labels_name_the_construct_and_the_item() -> None:
    assert run_labels(SOURCE) == sorted([
        "confirmed · finding 1 · reviewer 1", "confirmed · finding 1 · reviewer 2",
        "confirmed · finding 2 · reviewer 1", "confirmed · finding 2 · reviewer 2",
        "first · entry 1", "notes · entry 1",
        "choice · voter 1", "choice · voter 2",
        "again · voter 1", "again · voter 2", "again 2 · voter 1", "again 2 · voter 2",
        "outcome · check 0", "outcome · attempt 1", "outcome · check 1",
        "result",
    ])


def test_labels_do_not_change_when_lines_move() -> None:
    moved = SOURCE.replace('phase "Verify":\n', '# a comment\n\n\nphase "Verify":\n\n    # spaced out\n')
    assert moved != SOURCE and run_labels(moved) == run_labels(SOURCE)


def test_singular_nouns() -> None:
    cases = {"files": "file", "findings": "finding", "entries": "entry", "classes": "class", "boxes": "box",
             "FINDERS": "finder", "status": "status", "analysis": "analysis", "glass": "glass", "x": "x", "xs": "x"}
    assert {w: labels.singular(w) for w in cases} == cases
