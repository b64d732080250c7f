"""The run journal: a SQLite file at `<workspace>/.wf/journal.sqlite`.

It records every run, every finished agent call (request, result, usage, timing, status)
and every log line. Two properties matter:

* **Durability.** `record_agents` commits (WAL, `synchronous=FULL`) before it returns, and
  the interpreter uses an agent's result only after that, so a run killed at any instant
  has journaled every agent whose result it may have acted on. The scheduler calls it
  from a worker thread with every agent that finished in the same moment (one
  transaction, one fsync: `group_commit.py`).
* **Resume by content.** Finished agents are found again by a content key (what was asked,
  not when it was started), so `wf run --resume` repeats no finished agent however the
  concurrent start order differed between the two processes.

One `Journal` is used by one process; trio tasks may call it directly or through
`trio.to_thread.run_sync`: a single connection serialised by a `threading.Lock`, and each
method is one short transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # what JSONEncoder.encode writes a str with (ensure_ascii off)
from pathlib import Path
from typing import Any

from wflang.dsl import jsonread
from wflang.runtime.backend import AgentRequest, AgentResult, Usage
from wflang.runtime.redact import json_may_hold_secret, redact_text, redact_texts, redact_value

JOURNAL_DIR = ".wf"
JOURNAL_FILE = "journal.sqlite"

# Bumped whenever the tables change incompatibly; a journal with another version is
# refused with a message rather than misread.
SCHEMA_VERSION = 1
# Marks the file as a wflang journal ("wflj"), so a foreign SQLite file is not adopted.
APPLICATION_ID = 0x77666C6A
# Part of the content key: changing how keys are computed must change every key, so an
# old journal misses instead of matching the wrong agent.
KEY_VERSION = 1

RUN_STATUSES = frozenset({"running", "done", "failed", "interrupted"})
AGENT_STATUSES = frozenset({"done", "failed"})

_SCHEMA = """
CREATE TABLE runs (
    id                 TEXT PRIMARY KEY,
    workflow           TEXT NOT NULL,
    source_path        TEXT NOT NULL,
    source_sha256      TEXT NOT NULL,
    args_json          TEXT NOT NULL,
    bound_json         TEXT,
    status             TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
    started            REAL NOT NULL,
    finished           REAL,
    result_json        TEXT,
    error              TEXT,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    pid                INTEGER,
    host               TEXT,
    resumes            INTEGER NOT NULL DEFAULT 0,
    options_json       TEXT
);
CREATE TABLE agents (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id             TEXT NOT NULL REFERENCES runs(id),
    key                TEXT NOT NULL,
    sample_index       INTEGER NOT NULL,
    label              TEXT NOT NULL,
    phase              TEXT,
    model              TEXT,
    model_id           TEXT,
    effort             TEXT,
    agent_type         TEXT,
    isolation          TEXT,
    prompt             TEXT NOT NULL,
    schema_json        TEXT,
    status             TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    result_json        TEXT,
    error              TEXT,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    started            REAL NOT NULL,
    finished           REAL NOT NULL,
    duration           REAL NOT NULL
);
CREATE INDEX agents_by_key ON agents(run_id, key, status);
CREATE TABLE logs (
    run_id  TEXT NOT NULL REFERENCES runs(id),
    seq     INTEGER NOT NULL,
    time    REAL NOT NULL,
    phase   TEXT,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


_BATCHES = """
CREATE TABLE IF NOT EXISTS batches (
    run_id    TEXT NOT NULL REFERENCES runs(id),
    batch_id  TEXT NOT NULL,
    custom_id TEXT NOT NULL,
    submitted REAL NOT NULL,
    PRIMARY KEY (run_id, batch_id, custom_id)
)"""
_BATCHES_INDEX = "CREATE INDEX IF NOT EXISTS batches_by_custom_id ON batches(run_id, custom_id)"


class JournalError(Exception):
    """A journal problem the user can act on; the message names the file and a fix."""


# ---------------------------------------------------------------------------- records


@dataclass
class RunRecord:
    id: str
    workflow: str
    source_path: str
    source_sha256: str
    args: Any
    bound: Any
    # As stored, except that a "running" run whose process is gone (killed before it
    # could write its status) is reported as "interrupted".
    status: str
    started: float
    finished: float | None
    result: Any
    error: str | None
    usage: Usage
    pid: int | None
    host: str | None
    resumes: int
    # The run's options, so a resume carries them over: {"concurrency", "fake", "granted"}.
    options: Any = None


@dataclass
class RunSummary:
    id: str
    workflow: str
    status: str
    started: float
    finished: float | None
    agents_done: int
    agents_failed: int
    usage: Usage
    source_path: str | None = None

    @property
    def resumable(self) -> bool:
        """`wf run FILE --resume ID` continues it as it is (a finished run only after an edit)."""
        return self.status in ("failed", "interrupted")


@dataclass
class AgentRecord:
    id: int
    run_id: str
    key: str
    sample_index: int
    label: str
    phase: str | None
    model: str | None
    model_id: str | None
    effort: str | None
    agent_type: str | None
    isolation: str | None
    prompt: str
    schema: dict[str, Any] | None
    status: str
    result: Any
    error: str | None
    usage: Usage
    started: float
    finished: float
    duration: float


@dataclass
class LogRecord:
    seq: int
    time: float
    phase: str | None
    message: str


@dataclass
class PhaseSummary:
    phase: str | None
    agents_done: int = 0
    agents_failed: int = 0
    usage: Usage = field(default_factory=Usage)
    agent_seconds: float = 0.0  # summed agent durations, not wall time


@dataclass
class RunDetail:
    run: RunRecord
    agents: list[AgentRecord]
    logs: list[LogRecord]
    phases: list[PhaseSummary]  # in order of each phase's first agent
    usage: Usage  # summed over the journaled agents


@dataclass
class CachedAgent:
    key: str
    value: Any
    usage: Usage
    model_id: str | None
    label: str
    phase: str | None

    def as_result(self) -> AgentResult:
        return AgentResult(value=self.value, usage=self.usage, model_id=self.model_id)


@dataclass(frozen=True)
class AgentRow:
    """One finished agent, encoded for the agents table (see `agent_row`)."""

    params: tuple[Any, ...]  # the INSERT's parameters, run id first
    tokens: tuple[int, int, int, int]


_KEEP: Any = object()  # resume_run: leave the stored value as it is


# ---------------------------------------------------------------------------- helpers


def content_key(request: AgentRequest) -> str:
    """The cache key of an agent call: sha256 of a canonical JSON of what it asks.

    In the key: prompt, schema, model, effort, agent type, isolation, sample index and
    `tools=none` (only when set), everything that can change the answer, including which copy of a repeated request
    this is (the k-th voter must not reuse the first voter's vote).

    Not in the key: `label` and `phase`, which only name the call for display; a renamed
    label must not cost a re-run. Neither is start order: under concurrency the order in
    which agents start differs between a run and its resume, so order-based keys lose
    cache hits mid-fan-out. Run-level knobs (`max_output_tokens`, `permissions`) stay out
    too, following the design's key.
    """
    # The canonical JSON of {"v", "prompt", "schema", ...} with sorted keys, written out
    # in key order: the same bytes as json.dumps(fields, sort_keys=True, ...), which
    # tests/runtime/test_journal.py checks. The fields before the prompt are the same for
    # every agent of a site: their part is made once per combination (`_key_head`).
    head = _key_heads.get((request.agent_type, request.effort, request.isolation, request.model))
    if head is None:
        head = _key_head(request.agent_type, request.effort, request.isolation, request.model)
    prompt, sample = request.prompt, request.sample_index
    canonical = "".join((
        head,
        encode_basestring(prompt) if type(prompt) is str else _KEY_JSON.encode(prompt),
        ',"sample_index":', str(sample) if type(sample) is int else _KEY_JSON.encode(sample),
        ',"schema":', _key_schema(request.schema),
        # Only when set, so the keys of agents with tools stay what they were.
        ',"tools":"none"' if request.toolless else "",
        _KEY_TAIL,
    ))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# nested keys sorted too: two equal schemas give one key whatever their key order
_KEY_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_KEY_TAIL = f',"v":{_KEY_JSON.encode(KEY_VERSION)}}}'
_key_schemas: dict[int, tuple[Any, str]] = {}
_key_heads: dict[tuple[Any, ...], str] = {}


def _key_head(agent_type: Any, effort: Any, isolation: Any, model: Any) -> str:
    """The content key's canonical JSON up to the prompt's value, once per combination."""
    enc = _KEY_JSON.encode
    head = "".join(('{"agent_type":', enc(agent_type), ',"effort":', enc(effort), ',"isolation":', enc(isolation),
                    ',"model":', enc(model), ',"prompt":'))
    if len(_key_heads) >= 256:
        _key_heads.clear()
    _key_heads[agent_type, effort, isolation, model] = head
    return head


def _key_schema(schema: Any) -> str:
    """A schema's part of the content key, once per schema object (as `_schema_json`)."""
    if schema is None:
        return "null"
    hit = _key_schemas.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    text = _KEY_JSON.encode(schema)
    with _schema_lock:
        if len(_key_schemas) >= 256:
            _key_schemas.clear()
        _key_schemas[id(schema)] = (schema, text)
    return text


def agent_row(
    run_id: str,
    key: str,
    request: AgentRequest,
    status: str,
    result: AgentResult | None,
    error: str | None,
    usage: Usage | None,
    started: float,
    finished: float,
) -> AgentRow:
    """Encode one finished agent call for `Journal.record_agents`; raises JournalError for
    a result that is not plain JSON, before anything is written.

    `result` is the backend's answer for a done agent (None for a failed one); `usage`
    is what the call spent, also when it failed (None: the result's usage, or zero).
    `started`/`finished` are wall-clock seconds (time.time())."""
    if status not in AGENT_STATUSES:
        raise ValueError(f"an agent is journaled as done or failed, not {status!r}")
    if status == "done" and result is None:
        raise ValueError("a done agent needs its result")
    spent = usage if usage is not None else (result.usage if result is not None else Usage())
    result_json = _dump(result.value, f"the result of agent {request.label!r}") if status == "done" else None
    schema_json = None if request.schema is None else _schema_json(request.schema)
    tokens = (spent.input_tokens, spent.output_tokens, spent.cache_read_tokens, spent.cache_write_tokens)
    params = (
        run_id,
        key,
        request.sample_index,
        # Every string is scrubbed (a label or option can interpolate an argument holding a
        # key); display only: the key was computed from the originals. One test for the
        # eight texts (redact_texts); each is redacted only when one may hold a secret.
        *redact_texts((
            request.label,
            request.phase,
            request.model,
            result.model_id if result is not None else None,
            request.effort,
            request.agent_type,
            request.isolation,
            request.prompt,
        )),
        schema_json,
        status,
        result_json,
        None if error is None else scrub(error),
        *tokens,
        started,
        finished,
        max(0.0, finished - started),
    )
    return AgentRow(params, tokens)


def scrub(text: str | None) -> str | None:
    """Remove the API key the backend holds and anything shaped like an Anthropic key
    (defense in depth: backends must never put one in an error, but a journal is easy to
    share, and a model can echo a key it read)."""
    return None if text is None else redact_text(text)


def scrub_value(value: Any) -> Any:
    """A JSON value with every string scrubbed: what the journal stores of results and
    arguments. A resumed run reads the scrubbed value back, never the key."""
    return redact_value(value)


def source_sha256(source_text: str) -> str:
    return hashlib.sha256(source_text.encode("utf-8")).hexdigest()


def journal_path(workspace: Path) -> Path:
    return Path(workspace) / JOURNAL_DIR / JOURNAL_FILE


def _new_run_id(now: float) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"r-{stamp}-{secrets.token_hex(2)}"


def _dump(value: Any, what: str) -> str:
    """The JSON the journal stores of `value`, scrubbed: `json.dumps(scrub_value(value))`.
    A value is encoded once; only when its text may hold a secret (json_may_hold_secret,
    rare) is the scrubbed copy made and encoded instead, so the bytes are the same."""
    try:
        text = _STORED_JSON(value)
        if json_may_hold_secret(text):
            text = _STORED_JSON(scrub_value(value))
        return text
    except (TypeError, ValueError) as exc:
        raise JournalError(f"cannot journal {what}: it is not plain JSON ({exc})") from None


def _reusable(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """`encoder.encode`, without the set-up `JSONEncoder.iterencode` repeats at every call
    (it makes a new C encoder each time: two thirds of the cost of an agent's small
    answer). The C encoder is the one `encode` itself uses, so the text is the same; made
    without circular-reference markers it keeps no state between calls (threads may share
    it; a cycle is a RecursionError, as `scrub_value` made it before). Where the C encoder
    is missing or differs (another Python), `encode` as it is."""
    try:
        from json.encoder import c_make_encoder

        if c_make_encoder is None or encoder.check_circular or encoder.indent is not None or encoder.ensure_ascii:
            return encoder.encode
        once = c_make_encoder(None, encoder.default, encode_basestring, None, encoder.key_separator,
                              encoder.item_separator, encoder.sort_keys, encoder.skipkeys, encoder.allow_nan)
        probe = {"a": [1, 2.5, -0.0, True, None, "ü\n\"\ud800"], "": {"7": 1e300}}
        if "".join(once(probe, 0)) != encoder.encode(probe):
            raise ValueError("another C encoder")
    except Exception:
        return encoder.encode
    return lambda value: "".join(once(value, 0))


# json.dumps(v, ensure_ascii=False, allow_nan=False), made once
_STORED_JSON = _reusable(json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False))


_schema_cache: dict[int, tuple[Any, str]] = {}
_schema_lock = threading.Lock()


def _schema_json(schema: Any) -> str:
    """`_dump` of an agent's schema, once per schema object: every agent of a site shares
    its schema (keyed by identity; the entry keeps the object alive, so no id is reused)."""
    hit = _schema_cache.get(id(schema))  # one dict read is atomic: the lock guards the writes
    if hit is not None and hit[0] is schema:
        return hit[1]
    text = _dump(schema, "the agent schema")
    with _schema_lock:
        if len(_schema_cache) >= 256:
            _schema_cache.clear()
        _schema_cache[id(schema)] = (schema, text)
    return text


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return jsonread.loads(text)
    except ValueError as exc:  # a row edited or damaged outside wflang (or nested 100,000 deep)
        raise _CorruptValue(str(exc)) from None


class _CorruptValue(Exception):
    """A stored JSON column does not decode; Journal methods name the file in a JournalError."""


def _usage_of(row: sqlite3.Row) -> Usage:
    return Usage(
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
    )


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    # A killed child that its parent has not reaped yet is a zombie: dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass  # no /proc (macOS): fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _orphaned(status: str, pid: int | None, host: str | None) -> bool:
    """A run marked running whose process on this host is gone was killed."""
    return (
        status == "running" and pid is not None and host == socket.gethostname() and not _process_alive(pid)
    )


# ---------------------------------------------------------------------------- journal


class Journal:
    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ open / close

    @classmethod
    def open(cls, workspace: Path) -> Journal:
        path = journal_path(workspace)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"cannot create the journal directory {path.parent}: {exc.strerror}. "
                "Hint: run from a writable workspace."
            ) from None
        _refuse_damaged(path)
        if not path.exists():
            _create_fresh(path)  # whole or not at all: a reader never finds a 0-byte journal
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per method.
            conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            _prepare(conn, path)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise _corrupt(path, exc) from None
        except JournalError:
            if conn is not None:
                conn.close()
            raise
        return cls(path, conn)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock; sqlite errors and undecodable stored JSON become
        JournalErrors."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise JournalError(f"the journal {self.path} is closed")
            try:
                # IMMEDIATE takes the write lock up front, so a concurrent writer in another
                # process waits (busy timeout) instead of failing mid-transaction.
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _sqlite_failure(self.path, exc) from None
            except _BadRow as exc:
                raise JournalError(
                    f"the journal {self.path} holds a finished agent {exc.label!r} of run {exc.run_id} whose "
                    f"stored result is not what that agent returns ({exc.problem}); the file was damaged or "
                    "edited outside wflang, and resuming would act on a wrong value. Hint: start a new run "
                    f"(without --resume), or move the journal aside (mv {self.path} {self.path}.bad)."
                ) from None
            except _CorruptValue as exc:
                raise JournalError(
                    f"the journal {self.path} holds a value that is not valid JSON ({exc}); it was damaged "
                    f"or edited outside wflang. Hint: move it aside (mv {self.path} {self.path}.bad) to "
                    "start a fresh journal."
                ) from None

    # ------------------------------------------------------------------ runs

    def start_run(
        self, workflow: str, source_path: str | Path, source_text: str, args: Any, bound: Any = None,
        options: Any = None,
    ) -> str:
        """A new run; `options` (plain JSON, never a secret) are what a resume carries over."""
        now = time.time()
        args_json, bound_json = _dump(args, "the arguments"), _dump(bound, "the bound")
        options_json = None if options is None else _dump(options, "the run options")
        with self._tx(write=True) as conn:
            while True:
                run_id = _new_run_id(now)
                if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                    break
            conn.execute(
                "INSERT INTO runs (id, workflow, source_path, source_sha256, args_json, bound_json,"
                " status, started, pid, host, options_json) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                (
                    run_id,
                    workflow,
                    str(source_path),
                    source_sha256(source_text),
                    args_json,
                    bound_json,
                    now,
                    os.getpid(),
                    socket.gethostname(),
                    options_json,
                ),
            )
        return run_id

    def resume_run(
        self,
        run_id: str,
        source_text: str,
        *,
        workflow: str | None = None,
        source_path: str | Path | None = None,
        args: Any = _KEEP,
        bound: Any = _KEEP,
        options: Any = _KEEP,
    ) -> RunRecord:
        """Reopen a run in this process: same id, so its finished agents are cache hits.

        The workflow may have been edited and the arguments changed since: agents are
        found by content, so the unchanged ones are still served and only the rest run;
        the run then records the new source, arguments, bound and options. Refuses an
        unknown run, one still running in a live process, a run of another workflow
        (`workflow`, by name), and a finished run when nothing changed."""
        new_args = None if args is _KEEP else _dump(args, "the arguments")
        new_bound = None if bound is _KEEP else _dump(bound, "the bound")
        new_options = None if options is _KEEP or options is None else _dump(options, "the run options")
        with self._tx(write=True) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise JournalError(f"no run {run_id} in {self.path}. Hint: `wf runs` lists the runs here.")
            record = _run_record(row)
            if workflow is not None and workflow != record.workflow:
                raise JournalError(
                    f"cannot resume {run_id} with {source_path or 'this file'}: {run_id} is a run of "
                    f"workflow `{record.workflow}` ({record.source_path}), and this file is workflow "
                    f"`{workflow}`. Hint: resume it with {record.source_path}, or drop --resume to start a "
                    "new run."
                )
            if record.status == "running" and row["pid"] != os.getpid() and _process_alive_here(row):
                raise JournalError(
                    f"run {run_id} is still running (process {row['pid']}). Hint: stop it before resuming."
                )
            current = source_sha256(source_text)
            same_args = new_args is None or _load(new_args) == record.args
            if record.status == "done" and current == record.source_sha256 and same_args:
                raise JournalError(
                    f"run {run_id} already finished, and neither the workflow nor its arguments changed "
                    f"since; nothing to resume. Hint: `wf show {run_id}` shows its result; edit the "
                    "workflow or pass other --args to run again only what changed."
                )
            conn.execute(
                "UPDATE runs SET status = 'running', finished = NULL, error = NULL, result_json = NULL,"
                " pid = ?, host = ?, resumes = resumes + 1, source_sha256 = ?,"
                " source_path = COALESCE(?, source_path), args_json = COALESCE(?, args_json),"
                " bound_json = COALESCE(?, bound_json), options_json = COALESCE(?, options_json)"
                " WHERE id = ?",
                (
                    os.getpid(),
                    socket.gethostname(),
                    current,
                    None if source_path is None else str(source_path),
                    new_args,
                    new_bound,
                    new_options,
                    run_id,
                ),
            )
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_record(row)

    def finish_run(self, run_id: str, status: str, result: Any = None, error: str | None = None) -> None:
        if status not in RUN_STATUSES - {"running"}:
            raise ValueError(f"a run finishes as done, failed or interrupted, not {status!r}")
        result_json = _dump(result, "the run result") if status == "done" else None
        with self._tx(write=True) as conn:
            cur = conn.execute(
                "UPDATE runs SET status = ?, finished = ?, result_json = ?, error = ? WHERE id = ?",
                (status, time.time(), result_json, scrub(error), run_id),
            )
            if cur.rowcount == 0:
                raise JournalError(f"no run {run_id} in {self.path}")

    # ------------------------------------------------------------------ agents

    def cached(self, run_id: str, key: str, occurrence: int = 0) -> CachedAgent | None:
        """A finished (done) agent of this run with this content key, or None.

        Failed agents are never returned: a resume retries them. A run resumed keeps its
        id, so this covers the agents of every earlier attempt of the run. `occurrence`
        picks the n-th finished copy, for a workflow that makes the very same call more
        than once and wants one cached answer per call; copies are interchangeable, so
        their order does not matter."""
        with self._tx(write=False) as conn:
            row = conn.execute(
                "SELECT key, result_json, schema_json, model_id, label, phase, input_tokens, output_tokens,"
                " cache_read_tokens, cache_write_tokens FROM agents"
                " WHERE run_id = ? AND key = ? AND status = 'done' ORDER BY id LIMIT 1 OFFSET ?",
                (run_id, key, occurrence),
            ).fetchone()
            if row is None:
                return None
            value = _load(row["result_json"])
            _check_done_row(run_id, row, value, _load(row["schema_json"]))
            return CachedAgent(
                key=row["key"],
                value=value,
                usage=_usage_of(row),
                model_id=row["model_id"],
                label=row["label"],
                phase=row["phase"],
            )

    def record_agent(
        self,
        run_id: str,
        key: str,
        request: AgentRequest,
        status: str,
        result: AgentResult | None,
        error: str | None,
        usage: Usage | None,
        started: float,
        finished: float,
    ) -> None:
        """Journal one finished agent call; committed (fsynced) when this returns.
        See `agent_row` for the arguments."""
        self.record_agents(run_id, [agent_row(run_id, key, request, status, result, error, usage, started,
                                              finished)])

    def record_agents(self, run_id: str, rows: list[AgentRow],
                      logs: list[tuple[float, str | None, str]] | None = None) -> None:
        """Journal finished agent calls, and log lines `(time, phase, message)`, in one
        transaction: one fsync for all of them, committed when this returns. Safe to call
        from a worker thread."""
        if not rows:
            if logs:
                self.add_logs(run_id, logs)
            return
        tokens = tuple(sum(r.tokens[i] for r in rows) for i in range(4))
        with self._tx(write=True) as conn:
            cur = conn.execute(
                "UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,"
                " cache_read_tokens = cache_read_tokens + ?, cache_write_tokens = cache_write_tokens + ?"
                " WHERE id = ?",
                (*tokens, run_id),
            )
            if cur.rowcount == 0:
                raise JournalError(f"no run {run_id} in {self.path}")
            conn.executemany(
                "INSERT INTO agents (run_id, key, sample_index, label, phase, model, model_id, effort,"
                " agent_type, isolation, prompt, schema_json, status, result_json, error, input_tokens,"
                " output_tokens, cache_read_tokens, cache_write_tokens, started, finished, duration)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r.params for r in rows],
            )
            if logs:
                self._insert_logs(conn, run_id, logs)

    # ------------------------------------------------------------------ logs

    def add_log(self, run_id: str, phase: str | None, message: str) -> None:
        self.add_logs(run_id, [(time.time(), phase, message)])

    def add_logs(self, run_id: str, logs: list[tuple[float, str | None, str]]) -> None:
        """Log lines `(time, phase, message)`, in order, in one transaction."""
        with self._tx(write=True) as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise JournalError(f"no run {run_id} in {self.path}")
            self._insert_logs(conn, run_id, logs)

    @staticmethod
    def _insert_logs(conn: sqlite3.Connection, run_id: str, logs: list[tuple[float, str | None, str]]) -> None:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM logs WHERE run_id = ?", (run_id,)).fetchone()[0]
        conn.executemany(
            "INSERT INTO logs (run_id, seq, time, phase, message) VALUES (?, ?, ?, ?, ?)",
            [(run_id, seq + i, t, phase, scrub(message)) for i, (t, phase, message) in enumerate(logs, 1)],
        )

    # ------------------------------------------------------------------ message batches

    def record_batch(self, run_id: str, batch_id: str, custom_ids: list[str]) -> None:
        """Journal a submitted message batch and the custom_ids in it; committed (fsynced)
        when this returns, before the run waits on the batch, so a killed run collects it
        again instead of submitting its requests a second time."""
        now = time.time()
        with self._tx(write=True) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO batches (run_id, batch_id, custom_id, submitted) VALUES (?, ?, ?, ?)",
                [(run_id, batch_id, cid, now) for cid in custom_ids],
            )

    def batch_of(self, run_id: str, custom_id: str) -> str | None:
        """The batch this run last submitted `custom_id` in, or None."""
        with self._tx(write=False) as conn:
            row = conn.execute(
                "SELECT batch_id FROM batches WHERE run_id = ? AND custom_id = ?"
                " ORDER BY submitted DESC, rowid DESC LIMIT 1",
                (run_id, custom_id),
            ).fetchone()
        return None if row is None else row["batch_id"]

    def batches(self, run_id: str) -> list[tuple[str, int]]:
        """The run's batches in submission order, with their number of requests."""
        with self._tx(write=False) as conn:
            rows = conn.execute(
                "SELECT batch_id, COUNT(*) AS n, MIN(rowid) AS first FROM batches WHERE run_id = ?"
                " GROUP BY batch_id ORDER BY first",
                (run_id,),
            ).fetchall()
        return [(r["batch_id"], r["n"]) for r in rows]

    # ------------------------------------------------------------------ reading

    def list_runs(self, limit: int = 20) -> list[RunSummary]:
        """The most recent runs first."""
        with self._tx(write=False) as conn:
            rows = conn.execute(
                "SELECT r.id, r.workflow, r.source_path, r.status, r.started, r.finished, r.pid, r.host,"
                " r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,"
                " (SELECT COUNT(*) FROM agents a WHERE a.run_id = r.id AND a.status = 'done') AS done,"
                " (SELECT COUNT(*) FROM agents a WHERE a.run_id = r.id AND a.status = 'failed') AS failed"
                " FROM runs r ORDER BY r.started DESC, r.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            RunSummary(
                id=row["id"],
                workflow=row["workflow"],
                status="interrupted" if _orphaned(row["status"], row["pid"], row["host"]) else row["status"],
                started=row["started"],
                finished=row["finished"],
                agents_done=row["done"],
                agents_failed=row["failed"],
                usage=_usage_of(row),
                source_path=row["source_path"],
            )
            for row in rows
        ]

    def get_run(self, run_id: str) -> RunDetail:
        with self._tx(write=False) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise JournalError(f"no run {run_id} in {self.path}. Hint: `wf runs` lists the runs here.")
            agent_rows = conn.execute(
                "SELECT * FROM agents WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
            log_rows = conn.execute("SELECT * FROM logs WHERE run_id = ? ORDER BY seq", (run_id,)).fetchall()
            run = _run_record(row)
            agents = [_agent_record(r) for r in agent_rows]
        logs = [
            LogRecord(seq=r["seq"], time=r["time"], phase=r["phase"], message=r["message"]) for r in log_rows
        ]
        total = Usage()
        for agent in agents:
            total.add(agent.usage)
        return RunDetail(run=run, agents=agents, logs=logs, phases=_phases(agents), usage=total)


# ---------------------------------------------------------------------------- internals


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Set the durability pragmas and create or check the tables."""
    # WAL: readers (`wf show`) never block the running writer. FULL: each commit is
    # fsynced, so a finished agent survives a SIGKILL and even a power cut.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN IMMEDIATE")  # two processes opening a fresh journal create it once
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        has_tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0
        if app_id == 0 and version == 0 and not has_tables:
            # executescript() would COMMIT our transaction first, so run the statements one by one.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif app_id != APPLICATION_ID:
            raise JournalError(
                f"{path} is an SQLite file but not a wflang journal. "
                f"Hint: move it aside (mv {path} {path}.bak); wflang will start a fresh journal."
            )
        elif version != SCHEMA_VERSION:
            raise JournalError(
                f"{path} was written by another version of wflang (journal format {version}; "
                f"this wflang reads format {SCHEMA_VERSION}). Hint: inspect or resume its runs with "
                f"the wflang that wrote it, or move it aside (mv {path} {path}.bak) to start a fresh journal."
            )
        # A compatible addition to format 1: journals written before it lack the column.
        columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)").fetchall()}
        if "options_json" not in columns:
            conn.execute("ALTER TABLE runs ADD COLUMN options_json TEXT")
        # Another compatible addition: the message batches a run submitted (wf run --batch).
        conn.execute(_BATCHES)
        conn.execute(_BATCHES_INDEX)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _create_fresh(path: Path) -> None:
    """Create the journal beside its place and link it in, so the file at `path` is never a
    half-made (0-byte) one, even for a reader racing the first `wf run`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(tmp, path)  # never replaces: a journal another process made first wins
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: rename (last writer wins)
            if not path.exists():
                os.replace(tmp, path)
    except (OSError, sqlite3.Error) as exc:
        raise JournalError(
            f"cannot create the journal {path}: {exc}. Hint: run from a writable workspace."
        ) from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass


def _refuse_damaged(path: Path) -> None:
    """A journal file that exists but is empty (0 bytes, nothing in its WAL) or is not a
    regular file is not silently replaced by a fresh one: its runs may have been lost."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return  # a new journal
    except OSError as exc:
        raise JournalError(f"cannot read the journal {path}: {exc.strerror}") from None
    import stat

    if not stat.S_ISREG(st.st_mode):
        raise JournalError(
            f"the journal {path} is not a regular file (a directory, link or device). "
            f"Hint: move it aside (mv {path} {path}.bad); wflang then starts a fresh journal."
        )
    if st.st_size == 0:
        wal = path.with_name(path.name + "-wal")
        if not (wal.exists() and wal.stat().st_size > 0):
            raise JournalError(
                f"the journal {path} is empty (0 bytes): it was truncated or its creation was cut "
                "short, and wflang will not silently replace it with a fresh one. Hint: if it held "
                f"nothing you need, delete it (rm {path}) and run again; otherwise restore it from a "
                "backup."
            )


class _BadRow(Exception):
    """A finished agent's stored row cannot be what it returned; Journal methods name the file."""

    def __init__(self, run_id: str, label: str, problem: str) -> None:
        super().__init__(problem)
        self.run_id, self.label, self.problem = run_id, label, problem


def _check_done_row(run_id: str, row: sqlite3.Row, value: Any, schema: Any) -> None:
    """Validate what a resume would reuse: the result against its schema, the token counts."""
    problem = _result_problem(value, schema) or _usage_problem(row)
    if problem is not None:
        raise _BadRow(run_id, row["label"], problem)


def _result_problem(value: Any, schema: Any) -> str | None:
    """Why a stored result cannot be what its agent returned, or None when it can."""
    if schema is None:
        return None  # a text agent: the interpreter takes any value as its text
    if not isinstance(schema, dict):
        return "its stored schema is not a JSON object"
    import jsonschema  # here: only a resume reads results back, and the import costs ~40 ms

    try:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    except jsonschema.exceptions.SchemaError as exc:
        return f"its stored schema is not a valid JSON Schema: {exc.message}"
    if error is None:
        return None
    where = "/" + "/".join(map(str, error.absolute_path)) if error.absolute_path else "the root"
    return f"at {where}: {error.message[:200]}"


def _usage_problem(row: sqlite3.Row) -> str | None:
    for column in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        v = row[column]
        if not isinstance(v, int) or v < 0:
            return f"{column} is {v!r}, not a token count"
    return None


def _sqlite_failure(path: Path, exc: sqlite3.Error) -> JournalError:
    """Name the likely cause: a busy file, a broken invariant (our bug), or a bad file."""
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return JournalError(
            f"the journal {path} stayed locked by another process for too long ({exc}). "
            "Hint: another `wf` command may be writing it; retry when it is done."
        )
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return JournalError(
            f"the journal {path} refused a write ({exc}); this is a wflang bug, please report it."
        )
    return _corrupt(path, exc)


def _corrupt(path: Path, exc: sqlite3.Error) -> JournalError:
    return JournalError(
        f"cannot use the journal {path}: {exc}. It may be corrupt or locked by another program. "
        f"Hint: if no wf process is using it, move it aside (mv {path} {path}.bad) to start a "
        "fresh journal; runs recorded in it can then no longer be resumed."
    )


def _process_alive_here(row: sqlite3.Row) -> bool:
    return row["pid"] is not None and row["host"] == socket.gethostname() and _process_alive(row["pid"])


def _run_record(row: sqlite3.Row) -> RunRecord:
    orphaned = _orphaned(row["status"], row["pid"], row["host"])
    return RunRecord(
        id=row["id"],
        workflow=row["workflow"],
        source_path=row["source_path"],
        source_sha256=row["source_sha256"],
        args=_load(row["args_json"]),
        bound=_load(row["bound_json"]),
        status="interrupted" if orphaned else row["status"],
        started=row["started"],
        finished=row["finished"],
        result=_load(row["result_json"]),
        error=row["error"],
        usage=_usage_of(row),
        pid=row["pid"],
        host=row["host"],
        resumes=row["resumes"],
        options=_load(row["options_json"]),
    )


def _agent_record(row: sqlite3.Row) -> AgentRecord:
    result, schema = _load(row["result_json"]), _load(row["schema_json"])
    if row["status"] == "done":
        _check_done_row(row["run_id"], row, result, schema)
    return AgentRecord(
        id=row["id"],
        run_id=row["run_id"],
        key=row["key"],
        sample_index=row["sample_index"],
        label=row["label"],
        phase=row["phase"],
        model=row["model"],
        model_id=row["model_id"],
        effort=row["effort"],
        agent_type=row["agent_type"],
        isolation=row["isolation"],
        prompt=row["prompt"],
        schema=schema,
        status=row["status"],
        result=result,
        error=row["error"],
        usage=_usage_of(row),
        started=row["started"],
        finished=row["finished"],
        duration=row["duration"],
    )


def _phases(agents: list[AgentRecord]) -> list[PhaseSummary]:
    by_phase: dict[str | None, PhaseSummary] = {}
    for agent in agents:
        summary = by_phase.setdefault(agent.phase, PhaseSummary(phase=agent.phase))
        if agent.status == "done":
            summary.agents_done += 1
        else:
            summary.agents_failed += 1
        summary.usage.add(agent.usage)
        summary.agent_seconds += agent.duration
    return list(by_phase.values())
