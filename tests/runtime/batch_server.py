"""A stand-in for the Messages API and the Message Batches API on 127.0.0.1, answering from
a fake-answer file, for tests through the real anthropic SDK (and real `wf run`
subprocesses pointed at it with ANTHROPIC_BASE_URL).

Endpoints: POST /v1/messages (one live turn), POST /v1/messages/batches (create),
GET /v1/messages/batches/{id} (retrieve), GET /v1/messages/batches/{id}/results (JSON lines),
POST /v1/messages/batches/{id}/cancel. Every HTTP call is counted in `calls`; every batch
creation in `submissions`.

An answer is what the fake backend (docs/fake-answers.md) gives for the request's prompt (the
first user message) and schema (the `return_result` tool's input schema); the label is not
on the wire, so the test's rules match prompts. A schema answer comes back as a
`return_result` tool call, a text answer as text. `fate(custom_id, prompt, submission)` may
turn a batch request into "expired" or "errored:<type>"; `live_fate(prompt, call)` may turn a
live call into an HTTP status. A batch stays `in_progress` while `hold` is set, or for
`polls_in_progress` retrieves.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wflang.runtime.backend import AgentRequest
from wflang.runtime.backends.fake import FakeBackend

RETURN_TOOL = "return_result"
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_STAMP = "2026-12-01T10:00:00Z"


@dataclass
class Batch:
    id: str
    requests: list[dict[str, Any]]
    submission: int  # 1 for the first batch this server created
    status: str = "in_progress"
    polls: int = 0
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom_id -> result, once ended
    canceled: bool = False


class BatchServer:
    def __init__(self, fake: dict[str, Any], *, polls_in_progress: int = 0, max_requests: int = 100_000) -> None:
        self.fake = FakeBackend(fake)
        self.polls_in_progress = polls_in_progress
        self.max_requests = max_requests
        self.hold = threading.Event()  # set: every batch stays in progress
        self.fate: Callable[[str, str, int], str | None] = lambda cid, prompt, n: None
        self.live_fate: Callable[[str, int], int | None] = lambda prompt, n: None
        self.results_text: Callable[[str], str] = lambda text: text  # edits the JSON-lines results
        self.calls: list[tuple[str, str]] = []
        self.batches: dict[str, Batch] = {}
        self.live_requests: list[dict[str, Any]] = []
        self._lock = threading.RLock()  # _end answers under it, and message() takes it too
        self._ids = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="batch-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def submissions(self) -> list[Batch]:
        return sorted(self.batches.values(), key=lambda b: b.submission)

    def start(self) -> BatchServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ answers

    def answer(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str, dict[str, int]]:
        """(content, stop_reason, usage) for one request, from the fake answers."""
        first = params["messages"][0]["content"]
        prompt = first if isinstance(first, str) else "".join(b.get("text", "") for b in first)
        schema = next((t["input_schema"] for t in params.get("tools", []) if t["name"] == RETURN_TOOL), None)
        decided = self.fake.decide(AgentRequest(prompt=prompt, schema=schema, label=""))
        if decided.error is not None:
            raise _Refusal(decided.error)
        u = decided.usage
        use = {"input_tokens": u.input_tokens if u else 10, "output_tokens": u.output_tokens if u else 5}
        if schema is not None:
            self._ids += 1
            return [{"type": "tool_use", "id": f"tu_{self._ids}", "name": RETURN_TOOL, "input": decided.value}], \
                "tool_use", use
        return [{"type": "text", "text": decided.value}], "end_turn", use

    def message(self, params: dict[str, Any]) -> dict[str, Any]:
        content, stop, use = self.answer(params)
        with self._lock:
            self._ids += 1
            mid = f"msg_{self._ids}"
        return {"id": mid, "type": "message", "role": "assistant", "model": params.get("model", "m"),
                "content": content, "stop_reason": stop, "stop_sequence": None, "usage": use}

    def _end(self, batch: Batch) -> None:
        for r in batch.requests:
            cid, params = r["custom_id"], r["params"]
            prompt = params["messages"][0]["content"]
            fate = self.fate(cid, prompt if isinstance(prompt, str) else "", batch.submission)
            if batch.canceled:
                batch.outcomes[cid] = {"type": "canceled"}
            elif fate == "expired":
                batch.outcomes[cid] = {"type": "expired"}
            elif fate is not None and fate.startswith("errored:"):
                batch.outcomes[cid] = {"type": "errored", "error": {"type": "error", "error": {
                    "type": fate.split(":", 1)[1], "message": "scripted batch failure"}}}
            else:
                try:
                    batch.outcomes[cid] = {"type": "succeeded", "message": self.message(params)}
                except _Refusal as exc:
                    batch.outcomes[cid] = {"type": "errored", "error": {"type": "error", "error": {
                        "type": "invalid_request_error", "message": str(exc)}}}
        batch.status = "ended"

    def view(self, batch: Batch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.status == "ended":
            for o in batch.outcomes.values():
                counts[o["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        return {"id": batch.id, "type": "message_batch", "processing_status": batch.status,
                "request_counts": counts, "created_at": _STAMP, "expires_at": "2026-12-02T10:00:00Z",
                "ended_at": _STAMP if batch.status == "ended" else None, "archived_at": None,
                "cancel_initiated_at": _STAMP if batch.canceled else None,
                "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results"
                if batch.status == "ended" else None}

    # ------------------------------------------------------------ HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> Any:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                return json.loads(raw) if raw else None

            def _json(self, status: int, body: Any) -> None:
                self._bytes(status, json.dumps(body).encode(), "application/json")

            def _error(self, status: int, kind: str, message: str) -> None:
                self._json(status, {"type": "error", "error": {"type": kind, "message": message}})

            def _bytes(self, status: int, payload: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                path = self.path.split("?")[0]
                with server._lock:
                    server.calls.append(("POST", path))
                body = self._body()
                if path == "/v1/messages":
                    server.live_requests.append(body)
                    prompt = body["messages"][0]["content"]
                    status = server.live_fate(prompt if isinstance(prompt, str) else "", len(server.live_requests))
                    if status is not None:
                        self._error(status, "api_error" if status >= 500 else "invalid_request_error", "scripted")
                        return
                    try:
                        self._json(200, server.message(body))
                    except _Refusal as exc:
                        self._error(400, "invalid_request_error", str(exc))
                    return
                if path == "/v1/messages/batches":
                    requests = body.get("requests") if isinstance(body, dict) else None
                    if not isinstance(requests, list) or not 1 <= len(requests) <= server.max_requests:
                        self._error(400, "invalid_request_error", "requests: 1 to max_requests items")
                        return
                    ids = [r.get("custom_id") for r in requests]
                    if not all(isinstance(c, str) and _CUSTOM_ID.match(c) for c in ids) or len(set(ids)) != len(ids):
                        self._error(400, "invalid_request_error", "custom_id: unique, ^[a-zA-Z0-9_-]{1,64}$")
                        return
                    with server._lock:
                        server._ids += 1
                        batch = Batch(f"msgbatch_{server._ids:04d}", requests, len(server.batches) + 1)
                        server.batches[batch.id] = batch
                    self._json(200, server.view(batch))
                    return
                m = re.fullmatch(r"/v1/messages/batches/([\w-]+)/cancel", path)
                if m and m.group(1) in server.batches:
                    batch = server.batches[m.group(1)]
                    with server._lock:
                        if batch.status != "ended":
                            batch.canceled = True
                            server._end(batch)
                    self._json(200, server.view(batch))
                    return
                self._error(404, "not_found_error", f"no route {path}")

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with server._lock:
                    server.calls.append(("GET", path))
                m = re.fullmatch(r"/v1/messages/batches/([\w-]+)(/results)?", path)
                batch = server.batches.get(m.group(1)) if m else None
                if batch is None:
                    self._error(404, "not_found_error", f"no batch at {path}")
                    return
                if m.group(2):
                    if batch.status != "ended":
                        self._error(400, "invalid_request_error", "the batch has not ended")
                        return
                    lines = [json.dumps({"custom_id": cid, "result": o}) for cid, o in batch.outcomes.items()]
                    text = server.results_text("\n".join(lines) + "\n")
                    self._bytes(200, text.encode(), "application/binary")
                    return
                with server._lock:
                    batch.polls += 1
                    if batch.status != "ended" and not server.hold.is_set() \
                            and batch.polls > server.polls_in_progress:
                        server._end(batch)
                self._json(200, server.view(batch))

        return Handler


class _Refusal(Exception):
    """The fake answers fail this request."""
