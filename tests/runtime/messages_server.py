"""A scripted stand-in for the Messages API on 127.0.0.1, for tests through the real SDK.

Each test queues the behaviours it wants (`text`, `tool_use`, `status`, `hang`,
`malformed`...); every POST /v1/messages takes the next one. Request bodies and headers are
recorded so tests can assert what the client sent. An exhausted queue answers 500 with a
message saying so, which makes a test that calls more often than scripted fail loudly.
A `responder` (body, headers) -> Scripted answers instead when the queue is empty, for a
whole run whose answers depend on what is asked (bench/bench_claude_cache.py).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scripted:
    """One canned answer: a status, a JSON (or raw bytes) body, headers, an optional delay."""

    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> sent verbatim
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (a hung request)
    trickle: float = 0.0  # seconds between body bytes (a server that never quite stops)


def usage(
    input_tokens: int = 10, output_tokens: int = 5, cache_read: int = 0, cache_write: int = 0
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_write,
    }


_ids = iter(range(1, 1_000_000))


def message(
    content: list[dict[str, Any]],
    stop_reason: str,
    use: dict[str, Any] | None = None,
    model: str = "claude-test-1",
) -> Scripted:
    return Scripted(
        body={
            "id": f"msg_{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": use or usage(),
        }
    )


def text(reply: str, use: dict[str, Any] | None = None, model: str = "claude-test-1") -> Scripted:
    return message([{"type": "text", "text": reply}], "end_turn", use, model)


def tool_use(
    *calls: tuple[str, dict[str, Any]], preamble: str | None = None, use: dict[str, Any] | None = None
) -> Scripted:
    """A reply asking for tools: each call is (name, input); ids are tu_1, tu_2..."""
    content: list[dict[str, Any]] = [{"type": "text", "text": preamble}] if preamble else []
    for name, tool_input in calls:
        content.append({"type": "tool_use", "id": f"tu_{next(_ids)}", "name": name, "input": tool_input})
    return message(content, "tool_use", use)


def status(
    code: int,
    error_type: str = "api_error",
    message_text: str = "scripted failure",
    headers: dict[str, str] | None = None,
) -> Scripted:
    return Scripted(
        status=code,
        body={"type": "error", "error": {"type": error_type, "message": message_text}},
        headers=headers or {},
    )


def rate_limited(retry_after: str | None = None) -> Scripted:
    return status(429, "rate_limit_error", "slow down", {"retry-after": retry_after} if retry_after else None)


def overloaded() -> Scripted:
    return status(529, "overloaded_error", "Overloaded")


def hang(seconds: float = 5.0) -> Scripted:
    """Stall past the client's timeout (released early when the server stops)."""
    return Scripted(
        delay=seconds,
        body={"type": "error", "error": {"type": "api_error", "message": "too late"}},
        status=500,
    )


def trickle(interval: float = 0.2, reply: str = "too slow") -> Scripted:
    """A normal reply whose body arrives one byte per `interval` seconds: every read is
    quick, so only a total deadline (not a per-read timeout) ends it."""
    answer = text(reply)
    answer.trickle = interval
    return answer


def malformed() -> Scripted:
    return Scripted(body=b'{"id": "msg_x", "content": [ this is not json')


class MessagesServer:
    def __init__(self, responder: Callable[[dict[str, Any], dict[str, str]], Scripted] | None = None) -> None:
        self.queue: deque[Scripted] = deque()
        self.responder = responder
        self.requests: list[dict[str, Any]] = []  # decoded JSON bodies, in arrival order
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="messages-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *replies: Scripted) -> None:
        with self._lock:
            self.queue.extend(replies)

    def start(self) -> MessagesServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wake any hung handler
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Scripted:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self.queue:
                return self.queue.popleft()
        if self.responder is not None:
            return self.responder(body, headers)
        return status(500, message_text="messages_server: no scripted response left")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if self.path.split("?")[0] != "/v1/messages":
                    self._send(status(404, "not_found_error", f"no route {self.path}"))
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                reply = server._next(body, {k.lower(): v for k, v in self.headers.items()})
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                self._send(reply)

            def _send(self, reply: Scripted) -> None:
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.send_header("request-id", "req_test")
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if reply.trickle:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i : i + 1])
                            self.wfile.flush()
                            if server._stopping.wait(reply.trickle):
                                return
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

        return Handler
