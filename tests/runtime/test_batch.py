"""`wf run --batch` through the real anthropic SDK against a local stand-in of the Messages
and Message Batches APIs (tests/runtime/batch_server.py), answering from fake answers."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.runtime.batch_server import BatchServer
from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.loader import load
from wflang.runtime.backends.anthropic import AnthropicBackend, RetryPolicy
from wflang.runtime.backends.batch import MAX_BYTES, MAX_REQUESTS, BatchBackend, BatchLimits, custom_id
from wflang.runtime.interpreter import run_program
from wflang.runtime.journal import Journal
from wflang.runtime.progress import RunObserver
from wflang.runtime.run_cli import run_command
from wflang.runtime.scheduler import Limits, Scheduler

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-ant-FAKE-batch-key-0123456789"

REVIEW = '''workflow big-review:
    description: "Three tool-less reviewers judge every item; a live agent sums up"

input items: list[str] max 200

budget agents <= 601

type Verdict:
    ok: bool
    why: str

phase "Review" with tools=none:
    kept = review x in items by 3:
        agent "Judge {x}: is it fine?" -> Verdict
        accept when ok

summary = agent "Summarise: {len(kept)} items kept."
return {kept: kept, summary: summary}
'''

FAKE = {"rules": [{"prompt": r"item-\d*[02468]:", "reply": {"ok": True, "why": "even"}},
                  {"prompt": "^Summarise", "reply": "half of them"}],
        "default": {"reply": {"ok": False, "why": "odd"}}}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "review.wf").write_text(REVIEW)
    (tmp_path / "args.json").write_text(json.dumps({"items": [f"item-{i}" for i in range(1, 201)]}))
    (tmp_path / "fake.json").write_text(json.dumps(FAKE))
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("WF_MODELS", raising=False)
    return tmp_path


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    srv = BatchServer(FAKE).start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
    yield srv
    srv.hold.clear()
    srv.stop()


def wf_run(ws: Path, *extra: str, **kwargs: Any) -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(ws / "review.wf"), workspace=str(ws), yes=True, json_out=True,
                       stdout=out, stderr=err, **kwargs)
    value = json.loads(out.getvalue())["result"] if code == 0 else None
    assert KEY not in err.getvalue()
    return code, value, err.getvalue()


# ---------------------------------------------------------------- one batch of 600


def test_a_review_of_200_by_3_is_one_batch_of_600_with_the_live_fake_result(env: Path, server: BatchServer) -> None:
    live_ws = env / "live"
    live_ws.mkdir()
    (live_ws / "review.wf").write_text(REVIEW)
    code, live_value, _ = wf_run(live_ws, args_file=str(env / "args.json"), fake=str(env / "fake.json"))
    assert code == 0

    t0 = time.monotonic()
    code, value, err = wf_run(env, args_file=str(env / "args.json"), batch=True)
    wall = time.monotonic() - t0
    assert code == 0, err
    assert value == live_value
    assert len(value["kept"]) == 100 and value["summary"] == "half of them"

    [batch] = server.submissions
    assert len(batch.requests) == 600
    # The tool-using summary ran live, alongside: one Messages API call, no tools denied to it.
    assert len(server.live_requests) == 1 and server.live_requests[0]["tools"]
    # Each request is named by its agent's journal content key.
    with Journal.open(env) as journal:
        [run] = journal.list_runs()
        detail = journal.get_run(run.id)
        assert journal.batches(run.id) == [(batch.id, 600)]
    keys = {a.key for a in detail.agents if a.label.startswith("kept · item ")}
    assert {r["custom_id"] for r in batch.requests} == keys and len(keys) == 600
    # One request is one turn with only the return_result tool: no workspace tool offered.
    first = batch.requests[0]["params"]
    assert [t["name"] for t in first["tools"]] == ["return_result"] and "no tools" in first["system"]
    assert "batch: 600 of the 601 agents are tool-less" in err
    assert f"batch {batch.id}: submitted 600 requests" in err
    assert f"batch {batch.id}: ended: 600 submitted, 0 processing, 600 succeeded, 0 errored, 0 expired" in err
    # create, retrieve (ended), retrieve + results (the SDK's results() reads the batch first), 1 live call
    calls = [c for c in server.calls if c[1] != "/v1/messages"]
    assert calls == [("POST", "/v1/messages/batches"), ("GET", f"/v1/messages/batches/{batch.id}"),
                     ("GET", f"/v1/messages/batches/{batch.id}"), ("GET", f"/v1/messages/batches/{batch.id}/results")]
    print(f"\n600-request batch: {len(server.calls)} HTTP calls, {wall:.2f}s wall")


def test_custom_ids_fit_the_api_pattern() -> None:
    key = "a" * 64
    assert custom_id(key, 0, 1) == key
    others = {custom_id(key, o, t) for o in range(3) for t in range(1, 4)}
    assert len(others) == 9
    assert all(len(c) == 64 and c.isalnum() for c in others)
    assert MAX_REQUESTS == 100_000 and MAX_BYTES == 256_000_000


# ---------------------------------------------------------------- in process: split, failures


def program_and_values(ws: Path, items: list[str]) -> tuple[Any, dict[str, Any], int]:
    loaded = load(str(ws / "review.wf"))
    assert loaded.ok
    values, diags = validate_args(loaded.program, {"items": items})
    assert not diags
    return loaded.program, values, loaded.result.bound.evaluate(sizes(loaded.program, values))


class Seen(RunObserver):
    def __init__(self) -> None:
        self.polls: list[tuple[str, str, dict[str, int]]] = []
        self.notes: list[str] = []

    def batch(self, batch_id: str, status: str, counts: dict[str, int]) -> None:
        self.polls.append((batch_id, status, counts))

    def note(self, message: str) -> None:
        self.notes.append(message)


async def run_in_process(ws: Path, items: list[str], limits: BatchLimits | None = None, batch: bool = True,
                         journal: Journal | None = None, run_id: str | None = None,
                         resume: bool = False) -> tuple[Any, Scheduler, Any, Seen]:
    program, values, bound = program_and_values(ws, items)
    live = AnthropicBackend(request_timeout=5.0, retry=RetryPolicy(max_attempts=4, base_delay=0.01),
                            rng=random.Random(1))
    backend: Any = BatchBackend(live, limits or BatchLimits(window=0.05, poll_first=0.02),
                                rng=random.Random(2)) if batch else live
    seen = Seen()
    if batch:
        backend.attach(journal, run_id, seen)
    sched = Scheduler(backend, ws, Limits(bound=bound), journal=journal, run_id=run_id, resume=resume,
                      observer=seen)
    try:
        if batch:
            async with backend.session():
                outcome = await run_program(program, values, sched)
        else:
            outcome = await run_program(program, values, sched)
    finally:
        await backend.aclose()
    return outcome.value, sched, backend, seen


async def test_a_batch_over_the_request_limit_is_split(env: Path, server: BatchServer) -> None:
    items = [f"item-{i}" for i in range(1, 201)]
    value, sched, backend, seen = await run_in_process(env, items, BatchLimits(max_requests=250, window=0.05,
                                                                               poll_first=0.02))
    assert [len(b.requests) for b in server.submissions] == [250, 250, 100]
    assert [n for _, n in backend.stats.submitted] == [250, 250, 100]
    assert len(value["kept"]) == 100
    assert sum(1 for a in sched.agents if a.status == "done") == 601
    # The byte limit splits too: each request is a few hundred bytes.
    server.batches.clear()
    await run_in_process(env, items[:10], BatchLimits(max_bytes=8_000, window=0.05, poll_first=0.02))
    sizes_ = [len(b.requests) for b in server.submissions]
    assert sum(sizes_) == 30 and len(sizes_) > 1
    assert all(len(json.dumps(b.requests)) <= 8_000 for b in server.submissions)


async def test_errored_and_expired_requests_fail_as_live_ones_do(env: Path, server: BatchServer) -> None:
    items = [f"item-{i}" for i in range(1, 9)]
    # item-1: expires once, then answers. item-2: a transient error once, then answers.
    # item-3: invalid (final at once). item-4: a transient error every time.
    fates = {"item-1:": ("expired", 1), "item-2:": ("errored:overloaded_error", 1),
             "item-3:": ("errored:invalid_request_error", 99), "item-4:": ("errored:api_error", 99)}

    def fate(cid: str, prompt: str, submission: int) -> str | None:
        for marker, (what, times) in fates.items():
            if marker in prompt and submission <= times:
                return what
        return None

    server.fate = fate
    value, sched, backend, seen = await run_in_process(env, items)
    failed = {a.label: a.error for a in sched.agents if a.status == "failed"}
    # item-3's three reviewers fail at once; item-4's after 4 attempts (the live retry policy)
    assert sorted(failed) == [f"kept · item {i} · reviewer {k}" for i in (3, 4) for k in (1, 2, 3)]
    assert all("invalid_request_error" in failed[f"kept · item 3 · reviewer {k}"] for k in (1, 2, 3))
    assert all("after 4 attempts" in failed[f"kept · item 4 · reviewer {k}"] for k in (1, 2, 3))
    # Submissions: the first batch, then the retried ones (item-1, -2, -4), then item-4 twice more.
    assert [len(b.requests) for b in server.submissions] == [24, 9, 3, 3]
    # The live view saw the first batch end with its counts.
    first = next(c for bid, status, c in seen.polls if status == "ended" and bid == server.submissions[0].id)
    assert first == {"processing": 0, "succeeded": 12, "errored": 9, "canceled": 0, "expired": 3}

    # The same failures, live: 529/500 are retried, a 400 is final at once. Identical requests
    # cannot be told apart on the wire, so item-1 and item-2 get three transient errors in all,
    # however they fall among their three reviewers (each still within 4 attempts).
    live_fates = {"item-1:": (529, 1), "item-2:": (529, 1), "item-3:": (400, 99), "item-4:": (500, 99)}
    counts: dict[str, int] = {}

    def live_fate(prompt: str, n: int) -> int | None:
        for marker, (status, times) in live_fates.items():
            if marker in prompt:
                counts[marker] = counts.get(marker, 0) + 1
                return status if counts[marker] <= times * 3 else None
        return None

    server.live_fate = live_fate
    live_value, live_sched, _, _ = await run_in_process(env, items, batch=False)
    assert live_value == value
    live_failed = {a.label: a.error for a in live_sched.agents if a.status == "failed"}
    assert sorted(live_failed) == sorted(failed), live_failed


async def test_ctrl_c_cancels_the_batch_in_flight(env: Path, server: BatchServer) -> None:
    server.hold.set()
    with trio.move_on_after(30):
        async with trio.open_nursery() as nursery:
            async def stop_when_submitted() -> None:
                while not server.batches:
                    await trio.sleep(0.01)
                await trio.sleep(0.05)
                nursery.cancel_scope.cancel()  # what Ctrl-C does to the run's tasks

            nursery.start_soon(stop_when_submitted)
            await run_in_process(env, ["item-1", "item-2"])
    [batch] = server.submissions
    assert batch.canceled and batch.status == "ended"
    assert ("POST", f"/v1/messages/batches/{batch.id}/cancel") in server.calls


# ---------------------------------------------------------------- a killed run resumes by collecting


def wf_process(ws: Path, *args: str, url: str) -> subprocess.Popen[str]:
    environ = {**os.environ, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "wflang", "run", str(ws / "review.wf"), "--workspace", str(ws),
                             "--yes", "--json", *args], env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(check: Any, what: str, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def journaled_batches(ws: Path) -> list[tuple[str, int]]:
    path = ws / ".wf" / "journal.sqlite"
    if not path.exists():
        return []
    with Journal.open(ws) as journal:
        runs = journal.list_runs()
        return journal.batches(runs[0].id) if runs else []


def test_a_killed_run_resumes_by_collecting_its_batch_never_resubmitting(env: Path, server: BatchServer) -> None:
    server.hold.set()  # the batch stays in progress
    proc = wf_process(env, "--args", str(env / "args.json"), "--batch", url=server.url)
    try:
        [(bid, n)] = wait_for(lambda: journaled_batches(env), "the batch in the journal")
        assert n == 600
        wait_for(lambda: server.batches[bid].polls >= 1, "a poll of the batch")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(server.batches) == 1
    with Journal.open(env) as journal:
        [run] = journal.list_runs()
        assert run.status == "interrupted"
        assert run.agents_done == 0
    server.hold.clear()  # the batch ends while nobody waits on it
    proc = wf_process(env, "--resume", run.id, url=server.url)  # --batch is carried by the journal
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(server.batches) == 1  # collected, not submitted again
    assert f"batch {bid}: collecting it" in err
    value = json.loads(out)["result"]
    assert len(value["kept"]) == 100
    with Journal.open(env) as journal:
        assert journal.batches(run.id) == [(bid, 600)]
        assert journal.get_run(run.id).run.status == "done"


def test_sigint_cancels_the_batch_and_exits_130(env: Path, server: BatchServer) -> None:
    server.hold.set()
    proc = wf_process(env, "--args", str(env / "args.json"), "--batch", url=server.url)
    try:
        [(bid, _)] = wait_for(lambda: journaled_batches(env), "the batch in the journal")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert server.batches[bid].canceled
    assert f"batch {bid}: canceled" in err and "resume with" in err


# ---------------------------------------------------------------- honesty


def test_batch_without_tool_less_agents_says_so_and_runs_live(env: Path, server: BatchServer) -> None:
    (env / "review.wf").write_text(REVIEW.replace(' with tools=none:', ':'))
    code, value, err = wf_run(env, args_json=json.dumps({"items": ["item-1", "item-2"]}), batch=True)
    assert code == 0, err
    assert "no agent of this workflow is tool-less" in err and "running live" in err
    assert not server.batches and len(server.live_requests) == 7
    assert value["kept"] == ["item-2"]


def test_the_sample_estimate_shows_batch_pricing(env: Path) -> None:
    code, _, err = wf_run(env, args_file=str(env / "args.json"), fake=str(env / "fake.json"), sample=2)
    assert code == 0
    line = next(x for x in err.splitlines() if x.startswith("with --batch"))
    assert "(600 of 601 agents tool-less, at half price)" in line
    worst = float(next(x for x in err.splitlines() if x.startswith("estimated cost")).split("worst $")[1].split(",")[0])
    batched = float(line.split("worst $")[1].split(",")[0])
    assert batched < worst
