"""The journal trusts nothing it reads back and stores no key: a finished row that does not
match its agent's schema is a clear error (never a silent wrong result on resume), a
damaged or 0-byte file is refused, not replaced, and the API key (and anything shaped like
an Anthropic key) is scrubbed from every column, result_json included."""

from __future__ import annotations

import io
import json
import sqlite3
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from wflang.runtime import redact
from wflang.runtime.backend import AgentRequest, AgentResult, Usage
from wflang.runtime.journal import Journal, JournalError, content_key, journal_path
from wflang.runtime.run_cli import run_command

SOURCE = 'workflow w:\n    description: "d"\nx = agent "hello"\nreturn x\n'
SCORE = {
    "type": "object",
    "properties": {"score": {"type": "integer"}},
    "required": ["score"],
    "additionalProperties": False,
}
SHAPED_KEY = "sk-ant-api03-EchoedByTheModel_0123456789"
HELD_KEY = "held-key-without-the-usual-shape-42"


def _record(j: Journal, run_id: str, req: AgentRequest, value: object) -> str:
    key = content_key(req)
    j.record_agent(run_id, key, req, "done", AgentResult(value, Usage(1, 2), "m"), None, None, 1.0, 2.0)
    return key


def _tamper(ws: Path, sql: str, *params: object) -> None:
    with closing(sqlite3.connect(journal_path(ws))) as conn:
        conn.execute(sql, params)
        conn.commit()


@pytest.mark.parametrize(
    "stored",
    ['{"score": "three"}', '{"score": 3, "extra": true}', '[3]', '"3"', "null", '{}'],
)
def test_a_stored_result_not_matching_its_schema_is_a_clear_error(tmp_path: Path, stored: str) -> None:
    with Journal.open(tmp_path) as j:
        run_id = j.start_run("w", "w.wf", SOURCE, {})
        req = AgentRequest(prompt="score it", schema=SCORE, label="scorer")
        key = _record(j, run_id, req, {"score": 3})
        assert j.cached(run_id, key).value == {"score": 3}
    _tamper(tmp_path, "UPDATE agents SET result_json = ?", stored)
    with Journal.open(tmp_path) as j, pytest.raises(JournalError) as info:
        j.cached(run_id, key)
    message = str(info.value)
    assert "'scorer'" in message and "not what that agent returns" in message
    assert "Hint:" in message


def test_negative_token_counts_are_refused(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as j:
        run_id = j.start_run("w", "w.wf", SOURCE, {})
        key = _record(j, run_id, AgentRequest(prompt="p", schema=None, label="t"), "text")
    _tamper(tmp_path, "UPDATE agents SET output_tokens = -5")
    with Journal.open(tmp_path) as j, pytest.raises(JournalError, match="output_tokens is -5"):
        j.cached(run_id, key)


def _cli(ws: Path, *extra: str, **kw: object) -> tuple[int, str, str]:
    wf = ws / "w.wf"
    if not wf.exists():
        wf.write_text(textwrap.dedent("""\
            workflow w:
                description: "d"
            type S:
                score: int
            phase "A":
                a = agent "first" -> S
            phase "B":
                b = agent "second" -> S
            return a.score + b.score
        """))
        (ws / "fake.json").write_text(json.dumps({"default": {"reply": {"score": 2}}}))
    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(wf), fake=str(ws / "fake.json"), workspace=str(ws), stdout=out, stderr=err,
                       **kw)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_resume_over_a_tampered_row_fails_instead_of_a_wrong_result(tmp_path: Path) -> None:
    code, out, err = _cli(tmp_path)
    assert code == 0 and out.strip() == "4", err
    with Journal.open(tmp_path) as j:
        run_id = j.list_runs()[0].id
    # Reopen the run as if it had been killed, and damage a finished agent's row.
    _tamper(tmp_path, "UPDATE runs SET status = 'failed'")
    _tamper(tmp_path, "UPDATE agents SET result_json = '{\"score\": \"2\"}' WHERE label = 'a'")
    code, out, err = _cli(tmp_path, resume=run_id)
    assert code != 0 and out == ""
    assert "not what that agent returns" in err and "Traceback" not in err


def test_a_zero_byte_journal_is_refused_not_replaced(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"")
    with pytest.raises(JournalError, match=r"empty \(0 bytes\).*Hint: .*rm "):
        Journal.open(tmp_path)
    assert path.read_bytes() == b""  # untouched
    code, _, err = _cli(tmp_path)
    assert code == 2 and "empty (0 bytes)" in err
    assert path.read_bytes() == b""


@pytest.mark.parametrize(
    "content",
    [b"not a database at all\n" * 50, b"SQLite format 3\x00" + b"\xff" * 4000],
)
def test_a_damaged_journal_is_refused_not_replaced(tmp_path: Path, content: bytes) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(content)
    code, _, err = _cli(tmp_path)
    assert code == 2 and "Hint:" in err and "Traceback" not in err
    assert path.read_bytes() == content


def test_a_journal_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    journal_path(tmp_path).mkdir(parents=True)
    with pytest.raises(JournalError, match="not a regular file"):
        Journal.open(tmp_path)


def test_a_fresh_journal_is_never_seen_half_made(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as j:
        assert journal_path(tmp_path).stat().st_size > 0
        assert j.list_runs() == []
    assert [p.name for p in journal_path(tmp_path).parent.iterdir() if p.name.endswith(".new")] == []


def test_keys_are_scrubbed_from_everything_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_secrets", set())
    redact.register_secret(HELD_KEY)
    with Journal.open(tmp_path) as j:
        run_id = j.start_run("w", "w.wf", SOURCE, {"note": f"args {SHAPED_KEY}"})
        req = AgentRequest(prompt=f"use {HELD_KEY}", schema=None, label="echo")
        _record(j, run_id, req, f"the key is {HELD_KEY} and {SHAPED_KEY}")
        nested = AgentRequest(prompt="n", schema=None, label=f"nested {SHAPED_KEY}", phase=f"P {HELD_KEY}",
                              model=f"m-{HELD_KEY}")
        _record(j, run_id, nested, {"deep": [{SHAPED_KEY: HELD_KEY}]})
        j.add_log(run_id, None, f"log {HELD_KEY}")
        j.finish_run(run_id, "failed", error=f"boom {SHAPED_KEY}")
        j.finish_run(run_id, "done", result={"r": [HELD_KEY]})
    raw = journal_path(tmp_path).read_bytes()
    for wal in journal_path(tmp_path).parent.glob("*-wal"):
        raw += wal.read_bytes()
    assert HELD_KEY.encode() not in raw
    assert b"sk-ant-" not in raw
    with closing(sqlite3.connect(journal_path(tmp_path))) as conn:
        dump = "\n".join(conn.iterdump())
    assert HELD_KEY not in dump and "sk-ant-" not in dump
    assert "[redacted API key]" in dump


def test_the_backend_registers_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from wflang.runtime.backends.anthropic import AnthropicBackend

    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setenv("ANTHROPIC_API_KEY", HELD_KEY)
    AnthropicBackend()
    assert redact.redact_text(f"x{HELD_KEY}y") == "x[redacted API key]y"
