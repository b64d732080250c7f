"""The interpreter, construct by construct, against docs/semantics.md.

Agents are answered by `Double`, an in-test backend whose answers, failures and latencies
are functions of the request. Every run goes through the real scheduler with the proven
bound for its arguments, so each test also checks the run never exceeds its bound.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio

from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.checker import check_program
from wflang.dsl.loader import load
from wflang.dsl.parser import parse
from wflang.runtime.backend import AgentFailure, AgentRequest, AgentResult, Usage
from wflang.runtime.backends.fake import schema_value
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, RunError, Scheduler

FAIL = object()


class Double:
    """A backend for tests: `answer(request)` gives the value (FAIL fails the agent),
    `latency(request)` the simulated seconds. Records calls and their start/end times."""

    def __init__(self, answer: Callable[[AgentRequest], Any] | None = None,
                 latency: Callable[[AgentRequest], float] | None = None, tokens: int = 10) -> None:
        self.answer = answer or self.default
        self.latency = latency or (lambda r: 0.0)
        self.tokens = tokens
        self.calls: list[AgentRequest] = []
        self.starts: dict[str, float] = {}
        self.ends: dict[str, float] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    @staticmethod
    def default(r: AgentRequest) -> Any:
        return schema_value(r.schema, r.label, r.prompt) if r.schema else f"text for {r.label}"

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        self.calls.append(request)
        self.starts[request.label] = trio.current_time()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            delay = self.latency(request)
            if delay:
                await trio.sleep(delay)
            value = self.answer(request)
        finally:
            self.in_flight -= 1
            self.ends[request.label] = trio.current_time()
        if value is FAIL:
            raise AgentFailure(f"{request.label} failed")
        if isinstance(value, dict) and request.schema is not None:
            props = request.schema.get("properties", {})
            if list(props) in (["items"], ["value"]) and list(value) != list(props):
                value = {next(iter(props)): value}
        elif request.schema is not None and not isinstance(value, dict):
            value = {next(iter(request.schema["properties"])): value}
        return AgentResult(value, Usage(input_tokens=5, output_tokens=self.tokens))

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.calls]


@dataclass
class Ran:
    value: Any
    logs: list[str]
    calls: list[AgentRequest]
    double: Double
    sched: Scheduler
    source: str

    def line(self, marker: str) -> int:
        return line_of(self.source, marker)


HEADER = 'workflow t:\n    description: "test"\n'


def line_of(source: str, marker: str) -> int:
    hits = [i for i, text in enumerate(source.splitlines(), 1) if marker in text]
    assert len(hits) == 1, f"{marker!r} found on lines {hits}"
    return hits[0]


async def run(body: str, args: Any = None, double: Double | None = None, limits: Limits | None = None,
              path: str = "t.wf") -> Ran:
    source = HEADER + textwrap.dedent(body).lstrip("\n")
    program = parse(source, path)
    result = check_program(program)
    assert result.ok, [d.message for d in result.diagnostics]
    values, diags = validate_args(program, args)
    assert not diags, [d.message for d in diags]
    double = double or Double()
    limits = limits or Limits()
    limits.bound = result.bound.evaluate(sizes(program, values))
    sched = Scheduler(double, ".", limits)
    outcome = await run_program(program, values, sched)
    assert sched.requested <= limits.bound
    return Ran(outcome.value, [m for _, m in outcome.logs], double.calls, double, sched, source)


def by_prompt(table: dict[str, Any], default: Any = None) -> Callable[[AgentRequest], Any]:
    def answer(r: AgentRequest) -> Any:
        for key, value in table.items():
            if key in r.prompt:
                return value(r) if callable(value) else value
        return Double.default(r) if default is None else default
    return answer


# ---------------------------------------------------------------- fanout and for


async def test_fanout_keeps_order_drops_failures_and_logs_them():
    ran = await run("""
        input files: list[str] max 10
        r = fanout f in files:
            agent "review {f}"
        return r
    """, {"files": ["a", "b", "c", "d"]}, Double(by_prompt({"review b": FAIL, "review d": FAIL})))
    line = ran.line("r = fanout")
    assert ran.value == ["text for r · file 1", "text for r · file 3"]
    assert ran.logs == [f"fanout f in files (line {line}): 2 of 4 items failed"]


async def test_fanout_none_ends_the_item_and_later_steps_never_start():
    ran = await run("""
        input files: list[str] max 10
        r = fanout f in files:
            a = agent "step1 {f}"
            b = agent "step2 {a}"
            {file: f, b: b}
        return r
    """, {"files": ["x", "y", "z"]}, Double(by_prompt({"step1 y": FAIL})))
    prompts = sorted(c.prompt for c in ran.calls)
    assert [p for p in prompts if p.startswith("step2")] == ["step2 text for a · file 1", "step2 text for a · file 3"]
    assert [v["file"] for v in ran.value] == ["x", "z"]
    assert ran.logs == [f"fanout f in files (line {ran.line('r = fanout')}): 1 of 3 items failed"]


async def test_fanout_counts_a_none_value_apart_from_failures_and_skipped_items():
    # As the JS helper (dropFailed) does: an item whose value is None is dropped; it failed
    # only when an agent's failure ended it; a `stop when` skip is not counted at all.
    ran = await run("""
        input xs: list[int] max 10
        r = fanout x in xs:
            stop when x == 3
            a = agent "go {x}"
            none if x == 2 else x
        return r
    """, {"xs": [1, 2, 3, 4]})
    assert ran.value == [1, 4]
    line = ran.line('r = fanout')
    assert ran.logs == [f"fanout x in xs (line {line}): 1 of 4 items skipped (stop when x == 3)",
                        f"fanout x in xs (line {line}): 1 of 4 items gave none (not a failure)"]


@pytest.mark.trio
async def test_multi_step_fanout_has_no_barrier(autojump_clock):
    # Item A's first step is slow (10 s), item B's fast (1 s): B's second step starts at t=1,
    # long before A's first step ends at t=10.
    def latency(r: AgentRequest) -> float:
        return 10.0 if r.prompt == "one A" else 1.0

    ran = await run("""
        input items: list[str] max 4
        r = fanout it in items:
            first = agent "one {it}"
            second = agent "two {it}"
            second
        return r
    """, {"items": ["A", "B"]}, Double(latency=latency))
    d = ran.double
    two_b = next(c for c in ran.calls if c.prompt.startswith("two B"))
    one_a = next(c for c in ran.calls if c.prompt == "one A")
    assert d.starts[two_b.label] == pytest.approx(1.0)
    assert d.ends[one_a.label] == pytest.approx(10.0)
    assert d.starts[two_b.label] < d.ends[one_a.label]
    assert trio.current_time() == pytest.approx(11.0)  # A: 10 + 1; nothing waited for a barrier


async def test_fanout_stop_when_is_evaluated_when_each_item_starts():
    # concurrency=1: items start one after another; each agent spends 10 of the 45-token
    # budget, so the guard stops the 4th item (remaining 15 < 20) and the later ones.
    ran = await run("""
        input xs: list[int] max 10
        r = fanout x in xs with concurrency=1:
            stop when budget.remaining < 20
            agent "go {x}"
        return {r: r, total: budget.total, left: budget.remaining}
    """, {"xs": [1, 2, 3, 4, 5]}, limits=Limits(budget_output_tokens=45))
    assert len(ran.calls) == 3
    assert len(ran.value["r"]) == 3
    assert ran.value["total"] == 45 and ran.value["left"] == 15
    # skipped items are not failures, but each skip is counted in one line
    assert ran.logs == [f"fanout x in xs (line {ran.line('r = fanout')}): 2 of 5 items skipped "
                        "(stop when budget.remaining < 20)"]


async def test_fanout_concurrency_option_limits_items_in_flight():
    ran = await run("""
        input xs: list[int] max 20
        r = fanout x in xs with concurrency=3:
            agent "go {x}"
        return r
    """, {"xs": list(range(12))}, Double(latency=lambda r: 0.01))
    assert ran.double.max_in_flight == 3
    assert len(ran.value) == 12


async def test_budget_is_none_without_a_budget():
    ran = await run("""
        return {t: budget.total, r: budget.remaining}
    """)
    assert ran.value == {"t": None, "r": None}


@pytest.mark.trio
async def test_for_runs_items_one_after_another(autojump_clock):
    ran = await run("""
        input xs: list[int] max 5
        r = for x in xs:
            agent "go {x}"
        return r
    """, {"xs": [1, 2, 3]}, Double(latency=lambda r: 2.0))
    d = ran.double
    labels = ran.double.labels
    assert [c.prompt for c in ran.calls] == ["go 1", "go 2", "go 3"]
    for a, b in zip(labels, labels[1:], strict=False):
        assert d.starts[b] >= d.ends[a]
    assert trio.current_time() == pytest.approx(6.0)


async def test_fanout_variables_are_local_to_the_item():
    ran = await run("""
        input xs: list[int] max 5
        n = 100
        r = fanout x in xs:
            n = x * 2
            a = agent "go {n}"
            n
        return {r: r, n: n}
    """, {"xs": [1, 2]})
    assert ran.value == {"r": [2, 4], "n": 100}


# ---------------------------------------------------------------- labels and sample indices


async def test_labels_and_sample_indices_exactly():
    ran = await run("""
        input files: list[str] max 4
        phase "P":
            xs = fanout f in files:
                agent "a {f}"
            v = vote 3:
                agent "v" with label="voter"
            r = review x in files by 2:
                agent "r {x}"
                accept when answer != ""
            t = tournament a vs b in ["p", "q", "r"]:
                agent "{a} vs {b}" -> bool
                pick a when answer
            k = repeat max 2 as i:
                agent "round {i}"
            z = fix max 2:
                agent "fix it"
            until check "ok?"
            nested = fanout f in files:
                w = vote 2:
                    agent "n {f}"
                w
        last = agent "top"
        named = review x in files by 2:
            agent "lens {x}" with label="judge {x}"
            accept when true
        return 0
    """, {"files": ["f1", "f2"]})
    got = {(c.label, c.sample_index) for c in ran.calls}
    expected = {  # the site, then one part per enclosing construct; no line numbers
        ("xs · file 1", 0), ("xs · file 2", 0),
        ("voter · voter 1", 0), ("voter · voter 2", 1), ("voter · voter 3", 2),
        ("r · file 1 · reviewer 1", 0), ("r · file 1 · reviewer 2", 1),
        ("r · file 2 · reviewer 1", 0), ("r · file 2 · reviewer 2", 1),
        ("t · match 1", 0), ("t · match 2", 0),
        ("k · round 1", 0), ("k · round 2", 1),
        ("z · check 0", 0), ("z · attempt 1", 1), ("z · check 1", 1), ("z · attempt 2", 2), ("z · check 2", 2),
        ("w · file 1 · voter 1", 0), ("w · file 1 · voter 2", 1),
        ("w · file 2 · voter 1", 0), ("w · file 2 · voter 2", 1),
        ("last", 0),
        ("judge f1 · reviewer 1", 0), ("judge f1 · reviewer 2", 1),
        ("judge f2 · reviewer 1", 0), ("judge f2 · reviewer 2", 1),
    }
    assert got == expected
    assert len(ran.calls) == len(expected)
    # after phase "P", agents outside any phase are shown in it (the phase cursor)
    assert {c.phase for c in ran.calls} == {"P"}


async def test_options_defaults_and_phase_override():
    ran = await run("""
        defaults model="sonnet", effort="low", max_output_tokens=500
        phase "A":
            x = agent "one" with model="haiku", phase="B", agent_type="Explore"
            y = check "two" with effort="high"
        return 0
    """)
    one, two = sorted(ran.calls, key=lambda c: c.prompt)
    assert (one.model, one.effort, one.phase, one.agent_type, one.max_output_tokens) == \
        ("haiku", "low", "B", "Explore", 500)
    assert one.label == "x"  # the site: a phase (its `phase=` or its block) is not in the label
    assert two.label == "y"
    assert (two.model, two.effort, two.phase, two.schema["required"]) == ("sonnet", "high", "A",
                                                                          ["passed", "details"])


# ---------------------------------------------------------------- agents: results


async def test_results_text_record_list_and_scalar():
    answers = {"text": "hello", "rec": {"a": 1, "b": "x"}, "list": {"items": [1, 2]}, "num": {"value": 2.0}}
    ran = await run("""
        type R:
            a: int
            b: str
        t = agent "text"
        r = agent "rec" -> R
        l = agent "list" -> list[int] max 5
        n = agent "num" -> float
        return {t: t, r: r, l: l, n: n, s: "{n}"}
    """, double=Double(by_prompt(answers)))
    assert ran.value == {"t": "hello", "r": {"a": 1, "b": "x"}, "l": [1, 2], "n": 2, "s": "2"}
    schemas = {c.prompt: c.schema for c in ran.calls}
    assert schemas["text"] is None
    assert schemas["list"] == {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"type": "integer"}, "maxItems": 5}}, "additionalProperties": False}
    assert schemas["num"]["required"] == ["value"]


async def test_list_result_over_its_max_is_cut_with_a_log_line():
    ran = await run("""
        xs = agent "many" -> list[str] max 2 with label="many"
        return xs
    """, double=Double(lambda r: {"items": ["a", "b", "c"]}))
    assert ran.value == ["a", "b"]
    assert ran.logs == ["many: kept 2 of 3 items (declared max 2)"]


async def test_failed_agent_is_none_wherever_it_stands():
    ran = await run("""
        type R:
            a: int
        x = agent "x" -> R
        return {x: x, a: x.a, s: "got {x}"}
    """, double=Double(lambda r: FAIL))
    assert ran.value == {"x": None, "a": None, "s": "got null"}


# ---------------------------------------------------------------- review


VERDICTS = {  # item → the three reviewers' answers (FAIL abstains)
    1: [True, True, False],
    2: [False, False, True],
    3: [True, False, FAIL],
    4: [FAIL, FAIL, FAIL],
    5: [True, True, True],
}


def _review_answer(r: AgentRequest) -> Any:
    item = int(r.prompt.split()[1])
    k = int(r.label.rsplit(" ", 1)[1]) - 1  # `... · reviewer k`
    ok = VERDICTS[item][k]
    return FAIL if ok is FAIL else {"ok": ok, "why": f"{item}.{k}"}


async def test_review_statuses_abstentions_dropped_and_log():
    ran = await run("""
        input xs: list[int] max 10
        type V:
            ok: bool
            why: str
        kept, dropped = review x in xs by 3 keep if 2:
            agent "judge {x}" -> V
            accept when ok
        return {kept: kept, dropped: dropped}
    """, {"xs": [1, 2, 3, 4, 5]}, Double(_review_answer))
    assert ran.value["kept"] == [1, 5]
    assert ran.value["dropped"] == [
        {"item": 2, "status": "rejected", "accepts": 1, "rejects": 2, "abstained": 0,
         "verdicts": [{"ok": False, "why": "2.0"}, {"ok": False, "why": "2.1"}, {"ok": True, "why": "2.2"}]},
        {"item": 3, "status": "undecided", "accepts": 1, "rejects": 1, "abstained": 1,
         "verdicts": [{"ok": True, "why": "3.0"}, {"ok": False, "why": "3.1"}, None]},
        {"item": 4, "status": "undecided", "accepts": 0, "rejects": 0, "abstained": 3,
         "verdicts": [None, None, None]},
    ]
    assert list(ran.value["dropped"][0]) == ["item", "status", "accepts", "rejects", "abstained", "verdicts"]
    assert ran.logs == [f"review (line {ran.line('= review')}): 2 kept, 1 rejected, 2 undecided of 5"]


async def test_review_default_majority_keep_all_and_lenses():
    ran = await run("""
        input xs: list[int] max 10
        LENSES = ["speed", "safety"]
        a = review x in xs by 3:
            agent "judge {x}" -> bool
            accept when answer
        b = review x in xs by 3 keep if all:
            agent "strict {x}" -> bool
            accept when answer
        c = review x in xs by lens in LENSES keep if all:
            agent "lens {lens} on {x}" -> bool
            accept when answer
        return {a: a, b: b, c: c}
    """, {"xs": [1, 2, 3]}, Double(by_prompt({
        "judge 1": lambda r: r.sample_index < 2,  # 2 of 3: a majority
        "judge 2": lambda r: r.sample_index < 1,
        "judge 3": True,
        "strict 1": lambda r: r.sample_index < 2,
        "strict": True,
        "lens safety on 2": False,
        "lens": True,
    })))
    assert ran.value == {"a": [1, 3], "b": [2, 3], "c": [1, 3]}
    lens_calls = sorted((c.label, c.prompt) for c in ran.calls if c.prompt.startswith("lens"))
    assert lens_calls[:2] == [("c · x 1 · lens 1", "lens speed on 1"), ("c · x 1 · lens 2", "lens safety on 1")]


# ---------------------------------------------------------------- vote


async def test_vote_tie_goes_to_the_lowest_voter_and_failures_abstain():
    answers = ["a", "b", "b", "a", FAIL]
    ran = await run("""
        x = vote 5:
            agent "pick"
        return x
    """, double=Double(lambda r: answers[r.sample_index]))
    assert ran.value == "a"
    assert ran.logs == [f"vote (line {ran.line('vote 5')}): 1 of 5 voters failed"]


async def test_vote_groups_by_canonical_and_returns_the_first_answer():
    answers = [{"x": 1, "y": 2}, {"y": 2, "x": 1.0}, {"x": 3, "y": 0}]
    ran = await run("""
        type P:
            x: int
            y: int
        v = vote 3:
            agent "pick" -> P
        return v
    """, double=Double(lambda r: answers[r.sample_index]))
    assert ran.value == {"x": 1, "y": 2} and list(ran.value) == ["x", "y"]


async def test_vote_quorum_and_no_answer():
    answers = ["a", "a", "b", FAIL]
    q3 = await run("""
        v = vote 4 quorum 3:
            agent "pick"
        return v
    """, double=Double(lambda r: answers[r.sample_index]))
    assert q3.value is None
    assert q3.logs == ["vote (line 3): 1 of 4 voters failed", "vote (line 3): no answer reached the quorum of 3"]
    q2 = await run("""
        v = vote 4 quorum 2:
            agent "pick"
        return v
    """, double=Double(lambda r: answers[r.sample_index]))
    assert q2.value == "a"
    none = await run("""
        v = vote 3:
            agent "pick"
        return v
    """, double=Double(lambda r: FAIL))
    assert none.value is None


# ---------------------------------------------------------------- tournament


def _judge(fail: str | None = None) -> Callable[[AgentRequest], Any]:
    def answer(r: AgentRequest) -> Any:
        if r.prompt == fail:
            return FAIL
        a, b = (int(s) for s in r.prompt.split(" vs "))
        return a > b
    return answer


async def test_tournament_bracket_byes_and_match_numbers():
    src = """
        input xs: list[int] max 8
        w = tournament a vs b in xs:
            agent "{a} vs {b}" -> bool
            pick a when answer
        return w
    """
    ran = await run(src, {"xs": [1, 2, 3, 4, 5]}, Double(_judge()))
    line = ran.line("agent")
    assert ran.value == 5
    assert sorted((c.label, c.prompt) for c in ran.calls) == [
        ("w · match 1", "1 vs 2"), ("w · match 2", "3 vs 4"), ("w · match 3", "2 vs 4"), ("w · match 4", "4 vs 5")]
    failed = await run(src, {"xs": [1, 2, 3, 4, 5]}, Double(_judge(fail="4 vs 5")))
    assert failed.value == 4  # a failed judge advances a
    assert failed.logs == [f"tournament (line {line - 1}): 1 of 4 judges failed (their first contestant advanced)"]
    assert (await run(src, {"xs": []})).value is None
    one = await run(src, {"xs": [7]})
    assert one.value == 7 and one.calls == []


async def test_tournament_pick_b():
    ran = await run("""
        input xs: list[int] max 8
        w = tournament a vs b in xs:
            agent "{a} vs {b}" -> bool
            pick b when answer
        return w
    """, {"xs": [3, 1, 2]}, Double(_judge()))
    # "3 vs 1": answer true picks b=1; "1 vs 2": false → a=1.
    assert ran.value == 1


# ---------------------------------------------------------------- repeat


async def test_repeat_stop_when_carry_over_and_value():
    rounds = {1: ["x1"], 2: ["x2", "y2"], 3: []}
    ran = await run("""
        found = []
        res = repeat max 5 as i:
            new = agent "find more, round {i}" -> list[str] max 3
            stop when len(new) == 0
            found = found + new
        return {found: found, res: res}
    """, double=Double(lambda r: rounds[int(r.prompt.rsplit(" ", 1)[1])]))
    assert ran.value == {"found": ["x1", "x2", "y2"], "res": None}
    assert len(ran.calls) == 3


async def test_repeat_runs_k_rounds_and_its_value_is_the_last_statement():
    ran = await run("""
        n = 0
        res = repeat max 3:
            a = agent "go {n}"
            n = n + 1
        return {n: n, res: res}
    """)
    assert ran.value == {"n": 3, "res": 3}
    assert [c.prompt for c in ran.calls] == ["go 0", "go 1", "go 2"]
    assert [c.sample_index for c in ran.calls] == [0, 1, 2]


# ---------------------------------------------------------------- fix


FIX_SRC = """
    out = fix max 3:
        agent "fix it"
    until check "tests pass?"
    return out
"""


def _checks(passes_at: int | None, details: Callable[[int], str] = lambda k: f"run {k}"):
    def answer(r: AgentRequest) -> Any:
        if r.prompt == "fix it":
            return "done"
        k = r.sample_index
        return {"passed": passes_at is not None and k >= passes_at, "details": details(k)}
    return answer


async def test_fix_passes_at_once():
    ran = await run(FIX_SRC, double=Double(_checks(0)))
    assert ran.value == {"passed": True, "attempts": 0, "last": {"passed": True, "details": "run 0"}}
    assert len(ran.calls) == 1


async def test_fix_loops_until_the_check_passes():
    ran = await run(FIX_SRC, double=Double(_checks(2)))
    assert ran.value == {"passed": True, "attempts": 2, "last": {"passed": True, "details": "run 2"}}
    assert [c.prompt for c in ran.calls] == ["tests pass?", "fix it", "tests pass?", "fix it", "tests pass?"]


async def test_fix_honours_its_cap():
    ran = await run(FIX_SRC, double=Double(_checks(None)))
    assert ran.value == {"passed": False, "attempts": 3, "last": {"passed": False, "details": "run 3"}}
    assert len(ran.calls) == 7


async def test_fix_stalls_on_the_same_failure():
    src = """
        out = fix max 5 stall 2:
            agent "fix it"
        until check "tests pass?"
        return out
    """
    # Checks: run 0, run 1, same, same → the last 3 results are equal after attempt 3.
    seq = {0: "a", 1: "b", 2: "b", 3: "b", 4: "c", 5: "d"}
    ran = await run(src, double=Double(_checks(None, lambda k: seq[k])))
    assert ran.value["attempts"] == 3 and ran.value["passed"] is False
    # A failed check is None: two Nones in a row are "the same failure" too.
    ran = await run(src, double=Double(lambda r: "ok" if r.prompt == "fix it" else FAIL))
    assert ran.value == {"passed": False, "attempts": 2, "last": None}


# ---------------------------------------------------------------- statements


async def test_if_log_and_block_values():
    ran = await run("""
        input n: int max 10
        if n > 5:
            size = "big"
        elif n > 2:
            size = "mid"
        else:
            size = "small"
        log "size is {size}, n/4 = {n / 4}, list {[n]}"
        return size
    """, {"n": 3})
    assert ran.value == "mid"
    assert ran.logs == ["size is mid, n/4 = 0.75, list [\n  3\n]"]


async def test_no_return_is_none_and_phases_share_the_scope():
    ran = await run("""
        phase "A":
            x = agent "one"
        phase "B":
            y = agent "two: {x}"
    """)
    assert ran.value is None
    assert [c.prompt for c in ran.calls] == ["one", "two: text for x"]


async def test_expressions_in_a_workflow():
    ran = await run("""
        type F:
            file: str
            line: int
            severity: "low" | "medium" | "high"
        input xs: list[F] max 10
        ranked = top(unique(xs, by=(.file, .line)), 3, by=.severity)
        names = [x.file for x in sort(xs, by=lambda v: v.line) if x.line > 1]
        return {ranked: [r.line for r in ranked], names: names, m: {a: 1} | {b: 2}, j: join(names, "+")}
    """, {"xs": [
        {"file": "a", "line": 1, "severity": "low"},
        {"file": "b", "line": 5, "severity": "high"},
        {"file": "a", "line": 1, "severity": "high"},
        {"file": "c", "line": 3, "severity": "medium"},
        {"file": "d", "line": 2, "severity": "high"},
    ]})
    assert ran.value == {"ranked": [5, 2, 3], "names": ["d", "c", "b"], "m": {"a": 1, "b": 2}, "j": "d+c+b"}


async def test_a_bad_value_is_a_run_error_with_a_line():
    # The checker rules this out; the interpreter still fails cleanly, naming the line.
    program = parse(HEADER + 'n = 1\nx = "a" + n\n', "t.wf")
    with pytest.raises(RunError, match=r"line 4: `\+` does not apply to a str and a number"):
        await run_program(program, {}, Scheduler(Double(), "."))


# ---------------------------------------------------------------- run "other.wf"


async def test_run_inlines_the_child_in_the_callers_phase(tmp_path: Path):
    (tmp_path / "child.wf").write_text(textwrap.dedent("""\
        workflow child:
            description: "c"
        input n: int max 5
        input tag: str = "t"
        phase "Own":
            xs = fanout i in range(n):
                agent "child {tag} {i}"
        return len(xs)
    """))
    parent = tmp_path / "parent.wf"
    parent.write_text(HEADER + textwrap.dedent("""\
        phase "P":
            c = run "child.wf" with {n: 2}
        return c
    """))
    loaded = load(str(parent))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    program = loaded.program
    double = Double()
    values, _ = validate_args(program, None)
    sched = Scheduler(double, ".", Limits(bound=loaded.result.bound.evaluate({})))
    out = await run_program(program, values, sched)
    assert out.value == 2
    assert sorted((c.label, c.phase, c.prompt) for c in double.calls) == [
        ("child · xs · i 1", "P", "child t 0"), ("child · xs · i 2", "P", "child t 1")]


async def test_run_parses_the_child_itself_when_not_attached(tmp_path: Path):
    (tmp_path / "child.wf").write_text(
        'workflow child:\n    description: "c"\ninput s: str\nx = agent "say {s}"\nreturn upper(s)\n')
    (tmp_path / "parent.wf").write_text(HEADER + 'x = run "child.wf" with {s: "hi"}\nreturn x\n')
    program = parse((tmp_path / "parent.wf").read_text(), str(tmp_path / "parent.wf"))
    double = Double()
    out = await run_program(program, {}, Scheduler(double, "."))
    assert out.value == "HI"
    # A child's agents are labelled with the name of the workflow they are written in.
    assert [(c.label, c.phase) for c in double.calls] == [("child · x", None)]
    bad = parse(HEADER + 'x = run "child.wf" with {t: 1}\n', str(tmp_path / "p2.wf"))
    with pytest.raises(RunError, match="unknown argument `t`"):
        await run_program(bad, {}, Scheduler(Double(), "."))
