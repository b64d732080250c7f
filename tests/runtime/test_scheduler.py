"""The scheduler's limits and books (caps, items, budget, concurrency, the bound, the
journal, usage), and the refusals of `wf run` before any agent starts."""

from __future__ import annotations

import io
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.runtime.test_interpreter import FAIL, HEADER, Double, by_prompt, run
from wflang.dsl.parser import parse
from wflang.runtime.backend import AgentRequest, AgentResult, Usage
from wflang.runtime.interpreter import run_program
from wflang.runtime.journal import Journal
from wflang.runtime.run_cli import run_command, runs_command, sample_estimate, show_command
from wflang.runtime.scheduler import BoundExceeded, Limits, RunError, RunStopped, Scheduler

FANOUT = """
    input xs: list[int] max 100
    r = fanout x in xs:
        agent "go {x}"
    return r
"""


# ---------------------------------------------------------------- caps and items


async def stopped_run(args: Any, double: Double, limits: Limits) -> tuple[RunStopped, Scheduler, Double]:
    """Run FANOUT until the scheduler stops it; the error, the scheduler and the double."""
    program = parse(HEADER + textwrap.dedent(FANOUT).lstrip("\n"), "t.wf")
    sched = Scheduler(double, ".", limits)
    with pytest.raises(RunStopped) as info:
        await run_program(program, args, sched)
    return info.value, sched, double


async def test_the_agent_cap_ends_the_run():
    # As Claude Code's WorkflowAgentCapError ends the compiled script: not a None per item.
    err, sched, double = await stopped_run({"xs": list(range(8))}, Double(), Limits(agent_cap=5))
    assert str(err).startswith("the run stopped: the run reached the cap of 5 agents")
    assert len(double.calls) == 5
    assert [a.status for a in sched.agents].count("refused") >= 1


async def test_an_ordinary_agent_failure_does_not_end_the_run():
    ran = await run(FANOUT, {"xs": list(range(4))}, Double(by_prompt({"go 2": FAIL})))
    assert len(ran.value) == 3 and ran.logs == ["fanout x in xs (line 4): 1 of 4 items failed"]


async def test_4096_items_pass_and_4097_are_a_run_error():
    # The checker refuses such a program (WF304); the interpreter enforces it anyway.
    src = HEADER + "input xs: list[int] max 5000\nr = fanout x in xs:\n    x * 2\nreturn len(r)\n"
    program = parse(src, "t.wf")
    out = await run_program(program, {"xs": list(range(4096))}, Scheduler(Double(), "."))
    assert out.value == 4096
    with pytest.raises(RunError, match="4097 items; one fan-out takes at most 4096"):
        await run_program(program, {"xs": list(range(4097))}, Scheduler(Double(), "."))


# ---------------------------------------------------------------- budget, live


async def test_agent_budget_is_enforced_live():
    err, _, double = await stopped_run({"xs": list(range(5))}, Double(), Limits(budget_agents=3))
    assert "the workflow's budget of 3 agents is spent" in str(err)
    assert len(double.calls) == 3


async def test_output_token_budget_is_enforced_live():
    # One agent at a time, 10 tokens each: the 4th is asked for with 30 of 25 spent.
    err, sched, double = await stopped_run({"xs": list(range(6))}, Double(tokens=10),
                                           Limits(concurrency=1, budget_output_tokens=25))
    assert re.fullmatch(r"the run stopped: the workflow's budget of 25 output tokens is spent "
                        r"\('.+' was not started\)", str(err))
    assert len(double.calls) == 3
    assert sched.usage.output_tokens == 30


@pytest.mark.trio
async def test_token_budget_is_checked_again_when_a_queued_agent_gets_its_slot(autojump_clock):
    # Concurrency 2: agents 3.. were asked for at t=0 (nothing spent) but wait for a slot;
    # when one frees, the spent tokens are checked again.
    err, _, double = await stopped_run({"xs": list(range(6))}, Double(tokens=10, latency=lambda r: 1.0),
                                       Limits(concurrency=2, budget_output_tokens=15))
    assert "budget of 15 output tokens is spent" in str(err)
    assert len(double.calls) == 2


# ---------------------------------------------------------------- concurrency


@pytest.mark.parametrize("width", [1, 4, 16])
async def test_concurrency_limit_is_honoured(width: int):
    ran = await run(FANOUT, {"xs": list(range(40))}, Double(latency=lambda r: 0.005),
                    limits=Limits(concurrency=width))
    assert ran.double.max_in_flight == width
    assert ran.sched.max_in_flight == width
    assert len(ran.value) == 40


@pytest.mark.trio
async def test_default_concurrency_is_16_and_slots_are_reused_at_once(autojump_clock):
    ran = await run(FANOUT, {"xs": list(range(64))}, Double(latency=lambda r: 1.0))
    assert ran.double.max_in_flight == 16
    assert trio.current_time() == pytest.approx(4.0)  # 64 agents / 16 slots × 1 s


# ---------------------------------------------------------------- the proven bound


async def test_asking_for_more_agents_than_the_bound_stops_the_run():
    program = parse(HEADER + 'a = agent "one"\nb = agent "two"\nc = agent "three"\n', "t.wf")
    double = Double()
    with pytest.raises(BoundExceeded) as info:
        await run_program(program, {}, Scheduler(double, ".", Limits(bound=2)))
    assert len(double.calls) == 2
    # The message names the agent, its line and construct, the bound, and that it is a bug.
    message = str(info.value)
    assert 'agent 3 ("' in message and "line 5" in message and "past the 2 agents" in message
    assert "This is a bug in wflang" in message and "internal error" not in message


# ---------------------------------------------------------------- journal and usage


async def test_each_agent_is_journaled_before_its_result_is_used(tmp_path: Path):
    journal = Journal.open(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})

    class Checking(Double):
        async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
            # By the time agent k is asked for, agents 0..k-1 are committed.
            done = [a for a in journal.get_run(run_id).agents if a.status == "done"]
            assert len(done) == len(self.calls)
            return await super().run_agent(request, workspace)

    program = parse(HEADER + "r = for x in range(4):\n    agent \"go {x}\"\nreturn r\n", "t.wf")
    sched = Scheduler(Checking(), tmp_path, journal=journal, run_id=run_id)
    out = await run_program(program, {}, sched)
    assert len(out.value) == 4
    assert len(journal.get_run(run_id).agents) == 4
    journal.close()


async def test_resume_in_process_takes_finished_agents_from_the_journal(tmp_path: Path):
    # Two items with the very same prompt: one content key, two journal occurrences.
    src = HEADER + 'input xs: list[str] max 9\nr = fanout x in xs:\n    agent "same"\nv = vote 3:\n' \
                   '    agent "pick"\nreturn {r: r, v: v}\n'
    program = parse(src, "t.wf")
    journal = Journal.open(tmp_path)
    run_id = journal.start_run("t", "t.wf", src, {})
    first = Double(lambda r: f"{r.prompt}-{len(first.calls)}")
    out1 = await run_program(program, {"xs": ["a", "b"]}, Scheduler(first, tmp_path, journal=journal,
                                                                       run_id=run_id))
    second = Double()
    sched = Scheduler(second, tmp_path, journal=journal, run_id=run_id, resume=True)
    out2 = await run_program(program, {"xs": ["a", "b"]}, sched)
    assert second.calls == []
    assert sorted(out2.value["r"]) == sorted(out1.value["r"]) and out2.value["v"] == out1.value["v"]
    assert all(a.cached for a in sched.agents) and len(sched.agents) == 5
    journal.close()


async def test_a_failed_agent_is_retried_on_resume(tmp_path: Path):
    program = parse(HEADER + 'input xs: list[str] max 9\nr = fanout x in xs:\n    agent "do {x}"\nreturn r\n',
                    "t.wf")
    journal = Journal.open(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})
    await run_program(program, {"xs": ["a", "b"]},
                      Scheduler(Double(lambda r: FAIL if r.prompt == "do b" else "ok"), tmp_path,
                                journal=journal, run_id=run_id))
    again = Double(lambda r: "ok")
    out = await run_program(program, {"xs": ["a", "b"]},
                            Scheduler(again, tmp_path, journal=journal, run_id=run_id, resume=True))
    assert [c.prompt for c in again.calls] == ["do b"]
    assert out.value == ["ok", "ok"]
    journal.close()


async def test_usage_is_accounted_per_agent_phase_and_run():
    ran = await run("""
        phase "A":
            x = agent "one"
            y = agent "two"
        phase "B":
            z = agent "three"
        w = agent "four"
    """, double=Double(tokens=7))
    s = ran.sched
    assert s.usage.output_tokens == 28 and s.usage.input_tokens == 20
    assert {p: (st.done, st.usage.output_tokens) for p, st in s.phases.items()} == \
        {"A": (2, 14), "B": (2, 14)}  # `four` runs after phase B: shown (and counted) in it
    assert [a.usage.output_tokens for a in s.agents] == [7, 7, 7, 7]


def test_sample_estimate_extrapolates_per_phase():
    from wflang.dsl.checker import check_program

    program = parse(HEADER + textwrap.dedent("""\
        input files: list[str] max 50
        phase "Find":
            r = fanout f in files:
                agent "find {f}"
        phase "Sum":
            s = agent "sum"
    """), "t.wf")
    bound = check_program(program).bound

    class A:  # an AgentStat-like record
        def __init__(self, phase: str, out: int, model: str | None = None) -> None:
            self.phase, self.model = phase, model
            self.usage = Usage(input_tokens=100, output_tokens=out)

    est = sample_estimate(bound, {"files": 2}, {"files": 20}, [A("Find", 100), A("Find", 300), A("Sum", 50)])
    rows = {r["phase"]: r for r in est["phases"]}
    assert rows["Find"]["worst_agents"] == 20 and rows["Find"]["per_agent_output_tokens"] == 200
    assert rows["Find"]["worst_output_tokens"] == 4000 and rows["Find"]["expected_agents"] == 20
    assert rows["Sum"]["worst_agents"] == 1 and rows["Sum"]["worst_output_tokens"] == 50
    assert est["full_bound"] == 21 and est["sample_bound"] == 3
    # sonnet by default: $3 in, $15 out per million tokens
    assert est["worst_cost"] == pytest.approx(20 * (100 * 3 + 200 * 15) / 1e6 + (100 * 3 + 50 * 15) / 1e6)


# ---------------------------------------------------------------- wf run: refusals and outputs


SCHEMA_FAKE: dict[str, Any] = {"rules": [], "default": "schema"}


def _cli(tmp_path: Path, body: str, args: Any = None, fake: Any = SCHEMA_FAKE, **kw: Any) -> tuple[int, str, str]:
    """Run `run_command` on `body`; `fake` is a fake file's content, a path, or None (real backend)."""
    wf = tmp_path / "w.wf"
    wf.write_text(body)
    if isinstance(fake, dict):
        fake_path = tmp_path / "fake.json"
        fake_path.write_text(json.dumps(fake))
        fake = str(fake_path)
    out, err = io.StringIO(), io.StringIO()
    if args is not None:
        (tmp_path / "args.json").write_text(json.dumps(args))
        kw.setdefault("args_file", str(tmp_path / "args.json"))
    kw["fake"] = fake
    code = run_command(str(wf), workspace=str(tmp_path), stdout=out, stderr=err, **kw)
    return code, out.getvalue(), err.getvalue()


PERMS = 'workflow p:\n    description: "d"\n    permissions: edit\nx = agent "hi"\nreturn x\n'


def test_run_prints_the_plan_and_the_result_as_json(tmp_path: Path):
    code, out, err = _cli(tmp_path, textwrap.dedent("""\
        workflow demo:
            description: "d"
        input files: list[str] max 50
        defaults model="haiku"
        phase "Find":
            r = fanout f in files:
                agent "find {f}" -> int
        return sum(r)
    """), {"files": ["a", "b", "c"]}, {"rules": [{"prompt": "find", "reply": 2}]}, json_out=True)
    assert code == 0, err
    record = json.loads(out)  # --json: one record, the result in it
    assert record["result"] == 6 and record["status"] == "done" and record["agents"]["done"] == 3
    assert "agents: at most 3 for these arguments (files: 3)" in err
    assert "models: haiku" in err and "permissions: read-only" in err
    journal = Journal.open(tmp_path)
    [summary] = journal.list_runs()
    assert summary.status == "done" and summary.agents_done == 3
    journal.close()
    out2, err2 = io.StringIO(), io.StringIO()
    assert show_command(summary.id, json_out=True, workspace=str(tmp_path), stdout=out2, stderr=err2) == 0
    assert json.loads(out2.getvalue())["result"] == 6
    out3 = io.StringIO()
    assert runs_command(workspace=str(tmp_path), json_out=True, stdout=out3, stderr=io.StringIO()) == 0
    assert json.loads(out3.getvalue())[0]["id"] == summary.id == record["run_id"]


def test_run_writes_out_file(tmp_path: Path):
    code, out, err = _cli(tmp_path, HEADER + 'return {a: 1}\n', out_file=str(tmp_path / "r.json"))
    assert code == 0, err
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1} and out == ""


def test_permissions_need_the_header_and_a_confirmation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A real (non-fake) run: without --allow and off a terminal, refuse with a hint.
    from wflang.runtime import run_cli

    monkeypatch.setattr(run_cli, "_backend", lambda fake: Double())
    code, _, err = _cli(tmp_path, PERMS, fake=None)
    assert code == 2
    assert "needs edit" in err and "--allow edit" in err
    code, out, err = _cli(tmp_path, PERMS, allow="edit", json_out=True, fake=None)
    assert code == 0, err
    assert "(confirmed by --allow)" in err
    # --allow shell on a workflow that does not declare it: noted, not granted.
    code, _, err = _cli(tmp_path, PERMS, allow="edit,shell", fake=None)
    assert code == 0 and "does not declare it" in err
    code, _, err = _cli(tmp_path, PERMS, allow="root", fake=None)
    assert code == 2 and "unknown capability `root`" in err


def test_permissions_interactive_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from wflang.runtime import run_cli

    granted: list[frozenset[str]] = []

    class Recording(Double):
        async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
            granted.append(request.permissions)
            return await super().run_agent(request, workspace)

    monkeypatch.setattr(run_cli, "_backend", lambda fake: Recording())
    monkeypatch.setattr(run_cli, "_is_tty", lambda stream: True)
    code, _, err = _cli(tmp_path, PERMS, stdin=io.StringIO("n\n"), fake=None)
    assert code == 2 and "not confirmed" in err and granted == []
    code, _, err = _cli(tmp_path, PERMS, stdin=io.StringIO("y\n"), fake=None)
    assert code == 0, err
    assert granted == [frozenset({"edit"})]


@pytest.mark.parametrize("body, args, kw, message", [
    (FANOUT.replace("\n    ", "\n"), {"xs": "nope"}, {}, "args.xs: expected a list"),
    (FANOUT.replace("\n    ", "\n"), {"xs": [1], "ys": 2}, {}, "unknown argument `ys`"),
    (FANOUT.replace("\n    ", "\n"), None, {}, "missing argument `xs`"),
    ('return fils\n', None, {}, "unknown name `fils`"),
    ('return 1\n', None, {"concurrency": 0}, "--concurrency takes 1 to 16 agents at once, not 0"),
    ('return 1\n', None, {"concurrency": 17}, "--concurrency takes 1 to 16 agents at once, not 17"),
    ('return 1\n', None, {"sample": 2, "resume": "r-1"}, "cannot be combined with --resume"),
    ('return 1\n', None, {"resume": "r-nope"}, "no run r-nope"),
    ('return 1\n', None, {"fake": "/nonexistent/fake.json"}, "cannot read it"),
    ('return 1\n', None, {"fake": {"rules": 3}}, "rules: expected an array"),
])
def test_bad_input_is_a_clear_message_never_a_traceback(tmp_path: Path, body: str, args: Any, kw: dict,
                                                       message: str):
    code, out, err = _cli(tmp_path, HEADER + body, args, **kw)
    assert code in (1, 2)
    assert message in err
    assert "Traceback" not in err and out == ""


def test_missing_api_key_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code, _, err = _cli(tmp_path, HEADER + 'x = agent "a"\n', fake=None)
    assert code == 2 and "ANTHROPIC_API_KEY is not set" in err


def test_a_bound_over_the_cap_for_these_arguments_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The checker proves the worst case fits, so refusing at run time needs a bound that
    # says otherwise for these arguments.
    from wflang.dsl import loader

    real_load = loader.load_cached  # what `wf run` loads with

    def load(path: str) -> Any:
        loaded = real_load(path)
        loaded.result.bound.evaluate = lambda sizes: 2000
        return loaded

    monkeypatch.setattr(loader, "load_cached", load)
    code, _, err = _cli(tmp_path, HEADER + FANOUT.replace("\n    ", "\n"), {"xs": [1, 2]})
    assert code == 1 and "may start 2000 agents; a run may start at most 1000" in err  # the arguments


def test_sample_runs_a_slice_and_extrapolates(tmp_path: Path):
    code, out, err = _cli(tmp_path, HEADER + FANOUT.replace("\n    ", "\n"), {"xs": list(range(30))},
                          sample=3, json_out=True)
    assert code == 0, err
    record = json.loads(out)
    assert len(record["result"]) == 3 and record["sample"]["full_bound"] == 30
    assert "full arguments: at most 30 agents (this sample: at most 3)" in err
    assert "estimated cost" in err


# ---------------------------------------------------------------- the progress view


async def test_progress_line_mode_reports_phases_logs_and_failures():
    from rich.console import Console

    from wflang.runtime.progress import ProgressView

    buf = io.StringIO()
    view = ProgressView(Console(file=buf, width=200), live=False)
    program = parse(HEADER + textwrap.dedent("""\
        input xs: list[int] max 9
        phase "Scan":
            r = fanout x in xs:
                agent "go {x}"
        log "scanned {len(r)}"
    """), "t.wf")
    sched = Scheduler(Double(lambda r: FAIL if r.prompt == "go 2" else "ok"), ".", observer=view)
    with view:
        await run_program(program, {"xs": [1, 2, 3]}, sched, view)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "phase Scan"
    assert "failed r · x 2: r · x 2 failed" in lines
    assert "log [Scan] fanout x in xs (line 5): 1 of 3 items failed" in lines
    assert any(line.startswith("phase Scan: 2 done, 1 failed, 20 output tokens") for line in lines)
    assert lines[-1] == "log scanned 2"


async def test_progress_live_mode_draws_a_table():
    from rich.console import Console

    from wflang.runtime.progress import ProgressView

    buf = io.StringIO()
    view = ProgressView(Console(file=buf, width=120, force_terminal=True), live=True)
    program = parse(HEADER + 'phase "Scan":\n    r = fanout x in range(5):\n        agent "go {x}"\n', "t.wf")
    with view:
        await run_program(program, {}, Scheduler(Double(), ".", observer=view), view)
    out = buf.getvalue()
    assert "queued" in out and "running" in out and "Scan" in out
