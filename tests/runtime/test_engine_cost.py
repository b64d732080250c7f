"""What the engine does once per agent site, not once per agent (issue 11: `wf run` with
1,000 instant agents against node). Each count is taken for a fan-out of 20 agents and
of 60: work that depends only on the site (its options, schema, label's site name, the
content key's fixed fields) or that an agent's answer does not need (a JSON encoder per
call, a second encoding, redaction of texts that hold no secret, an Event per waiter)
must not grow with the number of agents."""

from __future__ import annotations

import gc
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import trio

from wflang.dsl.parser import parse
from wflang.runtime import interpreter, redact
from wflang.runtime.backend import AgentRequest, AgentResult, Usage
from wflang.runtime.journal import Journal
from wflang.runtime.scheduler import Limits, Scheduler

SOURCE = """workflow cost:
    description: "one site, many agents"
input xs: list[int] max 100
type R:
    n: int
    tag: str
r = fanout x in xs:
    agent "item {x}" -> R with model="haiku", label="item {x}"
return len(r)
"""


class Instant:
    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        return AgentResult({"n": 1, "tag": "t"}, Usage(3, 2), "m")


def _counted(counts: Counter[str], name: str, fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counts[name] += 1
        return fn(*args, **kwargs)

    return wrapper


def _run(tmp_path: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    with monkeypatch.context() as m:
        m.setattr(interpreter.Interpreter, "_site_of", _counted(counts, "site", interpreter.Interpreter._site_of))
        m.setattr(json.JSONEncoder, "encode", _counted(counts, "encode", json.JSONEncoder.encode))
        m.setattr(json.JSONEncoder, "iterencode", _counted(counts, "iterencode", json.JSONEncoder.iterencode))
        m.setattr(redact, "redact_text", _counted(counts, "redact_text", redact.redact_text))
        m.setattr(redact, "redact_value", _counted(counts, "redact_value", redact.redact_value))
        m.setattr(trio.Event, "__init__", _counted(counts, "event", trio.Event.__init__))
        m.setattr(AgentRequest, "__init__", _counted(counts, "request", AgentRequest.__init__))
        ws = tmp_path / str(n)
        ws.mkdir()
        with Journal.open(ws) as journal:
            args = {"xs": list(range(n))}
            run_id = journal.start_run("cost", "cost.wf", SOURCE, args)
            sched = Scheduler(Instant(), ws, Limits(bound=n), journal=journal, run_id=run_id)
            outcome = trio.run(interpreter.run_program, parse(SOURCE, "cost.wf"), args, sched)
            assert outcome.value == n and sched._commits is not None and sched._commits.rows == n
            counts["groups"] = sched._commits.groups
    return counts


def test_per_site_work_is_done_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tmp_path, 1, monkeypatch)  # the process-wide caches (content-key heads) warm for both
    few, many = _run(tmp_path, 20, monkeypatch), _run(tmp_path, 60, monkeypatch)
    assert few["site"] == many["site"] == 1
    assert few["request"] == many["request"] == 1  # one template per site, filled per agent
    for name in ("encode", "iterencode", "redact_text", "redact_value"):
        assert few[name] == many[name], (name, few[name], many[name])
    # no Event per waiting agent: trio's own per group commit (its worker thread) at most
    assert many["event"] - few["event"] <= max(0, many["groups"] - few["groups"]), (few, many)


def test_a_run_restores_the_collector_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    _run(tmp_path, 5, monkeypatch)
    assert gc.get_threshold() == before
