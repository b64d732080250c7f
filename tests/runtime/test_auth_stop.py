"""A bad API key ends `wf run` at the first authentication error (HTTP 401/403), through
the real SDK against the local stand-in Messages API: one clear message that names
ANTHROPIC_API_KEY (never the key), the documented exit code, the run journaled as failed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.runtime import messages_server as ms
from tests.runtime.messages_server import MessagesServer
from wflang import exits
from wflang.runtime.journal import Journal
from wflang.runtime.run_cli import run_command

BOGUS_KEY = "sk-ant-BOGUS-never-printed-0123456789abcdef"

FANOUT = """workflow keys:
    description: "many agents, one key"
input xs: list[int] max 40
r = fanout x in xs:
    agent "go {x}"
return r
"""


@pytest.fixture
def server() -> Any:
    srv = MessagesServer().start()
    yield srv
    srv.stop()


def _run(tmp_path: Path, server: MessagesServer, monkeypatch: pytest.MonkeyPatch, n: int,
         concurrency: int) -> tuple[int, str, str]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", BOGUS_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.delenv("WF_MODELS", raising=False)
    wf = tmp_path / "keys.wf"
    wf.write_text(FANOUT)
    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(wf), args_json=json.dumps({"xs": list(range(n))}), concurrency=concurrency,
                       workspace=str(tmp_path), yes=True, request_timeout=5, stall_timeout=10,
                       stdout=out, stderr=err, stdin=io.StringIO())
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("status", "kind"), [(401, "authentication_error"), (403, "permission_error")])
def test_the_first_authentication_error_ends_the_run(tmp_path: Path, server: MessagesServer,
                                                     monkeypatch: pytest.MonkeyPatch, status: int,
                                                     kind: str) -> None:
    # The stand-in echoes the key back, as a careless proxy might.
    server.push(*[ms.status(status, kind, f"invalid x-api-key: {BOGUS_KEY}") for _ in range(40)])
    code, out, err = _run(tmp_path, server, monkeypatch, n=30, concurrency=1)
    assert code == exits.ERRORS, err  # a failed run (docs/cli.md)
    assert len(server.requests) == 1  # no retry, and no second agent
    assert "ANTHROPIC_API_KEY" in err and f"HTTP {status}" in err
    assert "the run stopped at the first authentication error" in err
    assert BOGUS_KEY not in err + out
    assert "resume after a fix with: wf run" in err and "Traceback" not in err
    with Journal.open(tmp_path) as journal:
        detail = journal.get_run(journal.list_runs()[0].id)
    assert detail.run.status == "failed" and "authentication error" in (detail.run.error or "")
    assert [a.status for a in detail.agents] == ["failed"]  # journaled before the run ended
    assert BOGUS_KEY not in json.dumps([a.error for a in detail.agents])


def test_agents_in_flight_when_the_key_is_refused_do_not_go_on(tmp_path: Path, server: MessagesServer,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    server.push(*[ms.status(401, "authentication_error", "invalid x-api-key") for _ in range(40)])
    code, _, err = _run(tmp_path, server, monkeypatch, n=40, concurrency=16)
    assert code == exits.ERRORS, err
    # At most the first wave reached the server; the 24 waiting agents never started.
    assert 1 <= len(server.requests) <= 16
    assert err.count("the run stopped at the first authentication error") == 1
