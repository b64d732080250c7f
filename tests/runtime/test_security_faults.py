"""No server answer can crash a run: every server-given delay is parsed, clamped and never
NaN, infinite or negative; a hung or trickling server ends in a clean retry or a clean
failure within the configured limits. Real SDK against the local stand-in on 127.0.0.1,
with real trio sleeps (the original crash was trio refusing a NaN deadline)."""

from __future__ import annotations

import datetime
import math
import random
import time
from collections.abc import AsyncIterator, Callable
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from tests.runtime import messages_server as ms
from tests.runtime.messages_server import MessagesServer
from wflang.runtime.backend import AgentFailure, AgentRequest
from wflang.runtime.backends.anthropic import (
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_STALL_TIMEOUT,
    AnthropicBackend,
    RetryPolicy,
    _retry_after,
    server_delay,
)

KEY = "sk-ant-FAULTS-never-shown-0123456789"
CAP = 0.05  # seconds: the clamp used end to end, so real sleeps stay short
# Slack on top of a stated limit when checking that a failure came "within" it: generous,
# since 8 helpers share 2 cores; it only catches the old hour-long waits, not speed.
SLACK = 30.0

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def http_date(offset: float) -> str:
    return format_datetime(NOW + datetime.timedelta(seconds=offset), usegmt=True)


# --------------------------------------------------------------- parsing, unit by unit

PARSED = [
    ({"retry-after": "3"}, 3.0),
    ({"retry-after": " 7 "}, 7.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "-nan"}, None),
    ({"retry-after": "NaN"}, None),
    ({"retry-after": "inf"}, 1e9),
    ({"retry-after": "-inf"}, None),
    ({"retry-after": "1e400"}, 1e9),
    ({"retry-after": "-5"}, None),
    ({"retry-after": "soon"}, None),
    ({"retry-after": ""}, None),
    ({"retry-after": http_date(30)}, 30.0),
    ({"retry-after": http_date(-30)}, 0.0),
    ({"retry-after": "Wed, 01 Jan 2026 12:00:10 GMT"}, 10.0),
    ({"retry-after": "Wednesday, 01-Jan-26 12:00:20 GMT"}, 20.0),  # RFC 850 form
    ({"retry-after": "Thu Jan  1 12:00:40 2026"}, 40.0),  # asctime form
    ({"retry-after": "Wed, 99 Foo 2026 99:99:99 GMT"}, None),
    ({"retry-after-ms": "2500"}, 2.5),
    ({"retry-after-ms": "nan", "retry-after": "4"}, 4.0),
    ({"retry-after-ms": "inf"}, 1e6),
    ({"retry-after-ms": "-1"}, None),
    ({}, None),
]


@pytest.mark.parametrize(("headers", "expected"), PARSED, ids=[repr(h) for h, _ in PARSED])
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    got = _retry_after(headers, now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got is not None and math.isclose(got, expected, abs_tol=1e-6)


@given(st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms"]), st.text(max_size=40)))
def test_server_delay_is_always_sane(headers: dict[str, str]) -> None:
    wait = server_delay(headers, 60.0)
    assert wait is None or (math.isfinite(wait) and 0.0 <= wait <= 60.0)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_server_delay_of_any_float(value: float) -> None:
    for header in ("retry-after", "retry-after-ms"):
        wait = server_delay({header: repr(value)}, 60.0)
        assert wait is None or (math.isfinite(wait) and 0.0 <= wait <= 60.0)


def test_defaults_are_tens_of_seconds_not_an_hour() -> None:
    assert 10 <= DEFAULT_REQUEST_TIMEOUT <= 120
    assert DEFAULT_REQUEST_TIMEOUT < DEFAULT_STALL_TIMEOUT <= 300


# --------------------------------------------------------------- end to end


@pytest.fixture
def server() -> Any:
    srv = MessagesServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def backend(
    server: MessagesServer, monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> AsyncIterator[Callable[..., AnthropicBackend]]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    built: list[AnthropicBackend] = []

    async def real_sleep(seconds: float) -> None:
        waits.append(seconds)
        await trio.sleep(seconds)  # a NaN or infinite deadline would raise here

    def make(**kwargs: Any) -> AnthropicBackend:
        kwargs.setdefault("base_url", server.url)
        kwargs.setdefault("request_timeout", 2.0)
        kwargs.setdefault("stall_timeout", 10.0)
        kwargs.setdefault("retry", RetryPolicy(base_delay=0.01, max_delay=0.02, max_retry_after=CAP))
        kwargs.setdefault("rng", random.Random(3))
        kwargs.setdefault("sleep", real_sleep)
        b = AnthropicBackend(**kwargs)
        built.append(b)
        return b

    yield make
    for b in built:
        await b.aclose()


def req() -> AgentRequest:
    return AgentRequest(prompt="hi", schema=None, label="fault")


@pytest.mark.parametrize(
    "value",
    ["nan", "-nan", "inf", "-inf", "1e400", "-1e400", "-5", "999999999", "soon", "",
     "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Wed, 99 Foo 2026 99:99:99 GMT"],
)
async def test_any_retry_after_is_retried_cleanly(
    server: MessagesServer, backend: Any, tmp_path: Path, value: str, waits: list[float]
) -> None:
    server.push(ms.rate_limited(value) if value else ms.status(429), ms.text("ok"))
    result = await backend().run_agent(req(), tmp_path)
    assert result.value == "ok"
    assert len(server.requests) == 2
    assert len(waits) == 1 and math.isfinite(waits[0]) and 0.0 <= waits[0] <= CAP


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "1e12"])
async def test_any_retry_after_ms_is_retried_cleanly(
    server: MessagesServer, backend: Any, tmp_path: Path, value: str, waits: list[float]
) -> None:
    server.push(ms.status(529, "overloaded_error", "busy", {"retry-after-ms": value}), ms.text("ok"))
    result = await backend().run_agent(req(), tmp_path)
    assert result.value == "ok" and len(server.requests) == 2
    assert len(waits) == 1 and math.isfinite(waits[0]) and 0.0 <= waits[0] <= CAP


async def test_bad_retry_after_until_attempts_run_out_fails_cleanly(
    server: MessagesServer, backend: Any, tmp_path: Path
) -> None:
    server.push(*[ms.rate_limited(v) for v in ("nan", "inf", "-1")])
    b = backend(retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, max_retry_after=CAP))
    with pytest.raises(AgentFailure, match="after 3 attempts.*HTTP 429") as info:
        await b.run_agent(req(), tmp_path)
    assert KEY not in str(info.value)
    assert len(server.requests) == 3


async def test_hung_server_ends_at_the_stall_limit(
    server: MessagesServer, backend: Any, tmp_path: Path
) -> None:
    server.push(*[ms.hang(30.0) for _ in range(20)])
    b = backend(request_timeout=0.3, stall_timeout=2.0,
                retry=RetryPolicy(max_attempts=20, base_delay=0.01, max_delay=0.02))
    started = time.monotonic()
    with pytest.raises(AgentFailure, match=r"stall limit of 2s.*timed out after 0.3s"):
        await b.run_agent(req(), tmp_path)
    assert time.monotonic() - started < 2.0 + SLACK
    assert len(server.requests) <= 7  # at most ceil(2 / 0.3) attempts fit in the stall limit


async def test_trickling_server_hits_the_total_request_timeout(
    server: MessagesServer, backend: Any, tmp_path: Path
) -> None:
    # Each byte arrives quickly (a per-read timeout never fires); the body would take ~50s.
    server.push(ms.trickle(0.2), ms.text("ok"))
    result = await backend(request_timeout=0.5).run_agent(req(), tmp_path)
    assert result.value == "ok"
    assert len(server.requests) == 2


async def test_huge_retry_after_cannot_outlast_the_stall_limit(
    server: MessagesServer, backend: Any, tmp_path: Path
) -> None:
    # A generous clamp (1 hour) still cannot hold the agent past its stall limit.
    server.push(ms.rate_limited("3600"), ms.text("never reached"))
    b = backend(stall_timeout=4.0, retry=RetryPolicy(max_retry_after=3600.0))
    started = time.monotonic()
    with pytest.raises(AgentFailure, match="stall limit of 4s.*HTTP 429"):
        await b.run_agent(req(), tmp_path)
    assert time.monotonic() - started < 4.0 + SLACK
    assert len(server.requests) == 1


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf])
def test_limits_must_be_positive_and_finite(bad: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with pytest.raises(ValueError, match="positive number of seconds"):
        AnthropicBackend(request_timeout=bad)
    with pytest.raises(ValueError, match="positive number of seconds"):
        AnthropicBackend(stall_timeout=bad)


# --------------------------------------------------------------- wf run: the limits are options


def _wf(tmp_path: Path, **kw: Any) -> tuple[int, str, str]:
    import io

    from wflang.runtime.run_cli import run_command

    wf = tmp_path / "w.wf"
    wf.write_text('workflow w:\n    description: "d"\nx = agent "hi"\nreturn x\n')
    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(wf), workspace=str(tmp_path), yes=True, stdout=out, stderr=err, **kw)
    return code, out.getvalue(), err.getvalue()


def test_plan_shows_the_limits_and_a_hung_server_fails_the_run_within_them(
    server: MessagesServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    server.push(*[ms.hang(30.0) for _ in range(10)])
    started = time.monotonic()
    code, out, err = _wf(tmp_path, request_timeout=0.2, stall_timeout=0.7)
    assert "request timeout 0.2s, stall limit 0.7s per agent turn" in err
    # A failed agent is `none` (docs/semantics.md); the run ends, the journal says why, and
    # a run whose every agent failed exits 1 (docs/cli.md).
    assert code == 1, err
    assert out.strip() == "null"
    assert "1 failed" in err and "every agent failed (1 of 1)" in err
    from wflang.runtime.journal import Journal

    with Journal.open(tmp_path) as journal:
        run = journal.list_runs()[0]
        [agent] = journal.get_run(run.id).agents
    assert agent.status == "failed" and "stall limit of 0.7s" in (agent.error or "")
    assert time.monotonic() - started < 0.7 + SLACK
    assert KEY not in out + err


def test_plan_shows_the_default_limits(
    server: MessagesServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    server.push(ms.text("fine"))
    code, out, err = _wf(tmp_path)
    assert code == 0, err
    assert f"request timeout {DEFAULT_REQUEST_TIMEOUT:g}s, stall limit {DEFAULT_STALL_TIMEOUT:g}s" in err


@pytest.mark.parametrize("option", ["request_timeout", "stall_timeout"])
@pytest.mark.parametrize("bad", [0.0, -2.0, math.nan, math.inf])
def test_bad_limit_options_are_refused(tmp_path: Path, option: str, bad: float) -> None:
    code, _, err = _wf(tmp_path, **{option: bad})
    assert code == 2
    assert f"--{option.replace('_', '-')} takes a positive number of seconds" in err
