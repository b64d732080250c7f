"""A stand-in for the Messages API that real Claude Code talks to, on 127.0.0.1 only.

It plays the model for one `claude -p` process running one workflow:

- the top-level conversation (its tools include `Workflow`): the first turn answers with a
  `tool_use` of `Workflow` (the launch input the test chose: `{scriptPath, args}`,
  `{name, args}` or `{script, args}`); a later user turn carrying `<task-notification>`
  (the workflow's end, as `-p` reports it) gets a short text, so `claude` exits;
- a workflow subagent (header `x-claude-code-agent-id`, first user message framed by
  `[Workflow harness — computed task]`): its label is read from `agent-<id>.meta.json`
  under the run's HOME, and its answer comes from wflang's own fake backend
  (`FakeBackend.decide`), so the run can be compared with `wf run --fake`. A schema agent
  is answered with one `tool_use` of `StructuredOutput`, a text agent with text; a failing
  fake answer is a non-retryable 400, which fails the agent at once;
- anything else (a side request Claude Code makes on its own) gets a short text.

Every request is recorded (kind, agent id, label, prompt, tools offered, cache_control
breakpoints, simulated cache usage). The server is bounded: at most `max_requests` requests
and `lifetime` seconds, after which it answers 500 and `overrun` says why.

Prompt caching is simulated from the `cache_control` breakpoints the client sends, by
prefix matching with the API's lookback window and minimum length (tests/prompt_cache.py);
tokens are characters / 4, the same estimate wflang's fake backend uses.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import astuple, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.prompt_cache import PromptCache
from wflang.runtime.backend import AgentRequest
from wflang.runtime.backends.fake import FakeAnswer, FakeBackend, js_json

FRAME = "[Workflow harness — computed task]"
NOTIFICATION = "<task-notification>"
# A launch whose args are this text takes them from the `/NAME text` command's arguments.
COMMAND_ARGS = "<command-args>"


def _text_of(content: Any) -> str:
    """The text of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, dict):
            if block.get("type") == "text":
                parts.append(block.get("text", ""))
            elif block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content")))
    return "\n".join(parts)


def _unframe(block_text: str) -> str | None:
    """The task text of one framed block: the lines after the frame's first line, each
    indented by two spaces (an empty line too, so an indented text never ends in a
    newline: a final newline is the block's separator). None without a frame."""
    start = block_text.find(FRAME)
    if start < 0:
        return None
    newline = block_text.find("\n", start)
    if newline < 0:
        return ""
    body = block_text[newline + 1:]
    if body.endswith("\n"):
        body = body[:-1]
    return "\n".join(line[2:] if line.startswith("  ") else line for line in body.split("\n"))


def task_of(messages: list[dict[str, Any]]) -> str | None:
    """The prompt a workflow script passed to agent(), from the subagent's first user
    message: every framed text block, in order (with `sharedHeadLength` Claude Code frames
    the shared head and the rest as two blocks), unframed and joined. None when unframed."""
    first = next((m for m in messages if m.get("role") == "user"), None)
    if first is None:
        return None
    content = first.get("content")
    blocks = [content] if isinstance(content, str) else [
        b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]
    parts = [part for part in map(_unframe, blocks) if part is not None]
    return "".join(parts) if parts else None


def head_of(messages: list[dict[str, Any]]) -> str | None:
    """The shared head Claude Code sent as its own cached block (`sharedHeadLength`): the
    unframed text of the first framed block when the task came as several framed blocks and
    that one carries `cache_control`; None when the task came whole."""
    first = next((m for m in messages if m.get("role") == "user"), None)
    content = first.get("content") if first else None
    if not isinstance(content, list):
        return None
    framed = [b for b in content if isinstance(b, dict) and b.get("type") == "text" and FRAME in b.get("text", "")]
    if len(framed) < 2 or "cache_control" not in framed[0]:
        return None
    return _unframe(framed[0]["text"])


DEFERRED = "The following deferred tools are now available via ToolSearch."


def deferred_tools(messages: list[dict[str, Any]]) -> list[str] | None:
    """The tool names Claude Code announces as loadable through ToolSearch (one per line
    after the announcement, up to the first blank line), or None without an announcement."""
    for message in messages:
        text = _text_of(message.get("content"))
        at = text.find(DEFERRED)
        if at < 0:
            continue
        names = []
        for line in text[at:].split("\n")[1:]:
            if not line.strip():
                break
            names.append(line.strip())
        return names
    return None


def tokens(text: str) -> int:
    return len(text) // 4


@dataclass
class Record:
    kind: str  # "top" | "notification" | "agent" | "other" | "refused"
    agent_id: str | None
    label: str | None
    prompt: str | None
    tools: list[str]
    turn: int  # 1 for an agent's first request, 2... for its later turns
    stream: bool
    model: str | None
    breakpoints: int
    cache_read: int = 0
    cache_write: int = 0
    input_tokens: int = 0
    answer: str = ""  # "structured", "text", "fail: ...", "workflow", ...
    schema: Any = None
    last_user: str = ""  # the last user turn's text (for repair turns), cut to 2,000 chars
    deferred: list[str] | None = None  # tool names announced for ToolSearch, when announced
    head: str | None = None  # the shared head sent as its own cached block (head_of), if any
    label_wait: float = 0.0  # seconds spent finding the agent's meta file
    at: float = 0.0  # seconds since the stand-in started


@dataclass
class Launch:
    """How the top-level turn starts the workflow: the Workflow tool's input."""

    tool_input: dict[str, Any]
    final_text: str = "The workflow finished."


@dataclass
class AgentState:
    label: str
    prompt: str
    schema: Any
    answer: FakeAnswer
    turns: int = 0


class StandIn:
    def __init__(self, home: Path, fake: FakeBackend, launch: Launch, *, max_requests: int = 3000,
                 lifetime: float = 600.0, repair: str = "repeat",
                 overrides: dict[str, list[Any]] | None = None) -> None:
        self.home = home
        self.fake = fake
        self.launch = launch
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.repair = repair  # a schema agent's later turns: "repeat" the answer, or "text"
        # label -> the StructuredOutput input for turn 1, 2, ... (the last repeats), bypassing
        # the fake backend: answers it would refuse, such as a list longer than maxItems
        self.overrides = overrides or {}
        self.records: list[Record] = []
        self.agents: dict[str, AgentState] = {}
        self.raw: list[dict[str, Any]] = []  # first request of each kind, for debugging
        self.overrun: str | None = None
        self.errors: list[str] = []
        self.cache = PromptCache()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stopping = threading.Event()
        self._meta_dirs: set[Path] = set()
        self._ids = iter(range(1, 10_000_000))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="claude-stand-in", daemon=True)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ answers

    def _label_of(self, agent_id: str) -> str | None:
        """The agent's label: `description` in agent-<id>.meta.json under HOME. Claude Code
        writes it as it spawns the agent, so wait briefly for it."""
        name = f"agent-{agent_id}.meta.json"
        deadline = time.monotonic() + 5.0
        while True:
            for folder in list(self._meta_dirs):
                if (folder / name).is_file():
                    return self._read_label(folder / name)
            try:
                found = next(self.home.rglob(name), None)
            except OSError:  # Claude Code renamed or removed a folder while we walked it
                found = None
            if found is not None:
                self._meta_dirs.add(found.parent)
                return self._read_label(found)
            if time.monotonic() > deadline or self._stopping.is_set():
                return None
            time.sleep(0.05)

    @staticmethod
    def _read_label(path: Path) -> str | None:
        for _ in range(20):  # the file may be half written
            try:
                return json.loads(path.read_text(encoding="utf-8")).get("description")
            except (OSError, json.JSONDecodeError):
                time.sleep(0.05)
        return None

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):08d}"

    def answer(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """(status, message or error body) for one request."""
        with self._lock:
            if len(self.records) >= self.max_requests:
                self.overrun = self.overrun or f"more than {self.max_requests} requests"
            elif time.monotonic() - self._started > self.lifetime:
                self.overrun = self.overrun or f"running longer than {self.lifetime:.0f} s"
        tools = [t.get("name", "?") for t in body.get("tools") or [] if isinstance(t, dict)]
        messages = body.get("messages") or []
        last_user = next((_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        agent_id = headers.get("x-claude-code-agent-id")
        breakpoints, read, write, uncached = astuple(self.cache.account(body))
        record = Record(kind="other", agent_id=agent_id, label=None, prompt=None, tools=tools, turn=1,
                        stream=bool(body.get("stream")), model=body.get("model"), breakpoints=breakpoints,
                        cache_read=read, cache_write=write, input_tokens=uncached,
                        last_user=last_user[-2000:], deferred=deferred_tools(messages))
        usage = {"input_tokens": uncached, "output_tokens": 1, "cache_read_input_tokens": read,
                 "cache_creation_input_tokens": write}
        if self.overrun:
            record.kind, record.answer = "refused", self.overrun
            self._keep(record, body)
            return 500, {"type": "error", "error": {"type": "api_error", "message": f"stand-in: {self.overrun}"}}

        task = task_of(messages) if agent_id else None
        if agent_id and task is not None:
            status, reply = self._agent(agent_id, task, body, tools, record, usage)
        elif "Workflow" in tools and NOTIFICATION in last_user:
            record.kind, record.answer, record.last_user = "notification", "text", last_user[-200_000:]
            status, reply = 200, self._message([self._text(self.launch.final_text)], "end_turn", usage, body)
        elif "Workflow" in tools and not any(m.get("role") == "assistant" for m in messages):
            record.kind, record.answer = "top", "workflow"
            tool_input = dict(self.launch.tool_input)
            if tool_input.get("args") == COMMAND_ARGS:  # `/NAME text`: do as Claude Code says, args = text
                found = re.search(r"<command-args>(.*?)</command-args>", last_user, re.S)
                tool_input["args"] = html.unescape(found.group(1)) if found else ""
            call = {"type": "tool_use", "id": self._next_id("toolu"), "name": "Workflow", "input": tool_input}
            status, reply = 200, self._message([call], "tool_use", usage, body)
        elif "Workflow" in tools:
            # the tool's immediate result ("async_launched"): wait for the notification
            record.kind, record.answer = "top", "text"
            status, reply = 200, self._message([self._text("Started; waiting for it to finish.")], "end_turn",
                                               usage, body)
        else:
            record.answer = "text"
            status, reply = 200, self._message([self._text("OK")], "end_turn", usage, body)
        self._keep(record, body)
        return status, reply

    def _agent(self, agent_id: str, task: str, body: dict[str, Any], tools: list[str], record: Record,
               usage: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        structured = next((t for t in body.get("tools") or [] if t.get("name") == "StructuredOutput"), None)
        schema = structured.get("input_schema") if structured else None
        with self._lock:
            state = self.agents.get(agent_id)
        if state is None:
            waited = time.monotonic()
            label = self._label_of(agent_id)
            record.label_wait = round(time.monotonic() - waited, 3)
            if label is None:
                self.errors.append(f"agent {agent_id}: no agent-{agent_id}.meta.json under HOME")
                label = "?"
            request = AgentRequest(prompt=task, schema=schema, label=label)
            with self._lock:
                state = self.agents.get(agent_id)
                if state is None:  # decide once per agent: `replies` count agents, not turns
                    state = AgentState(label, task, schema, self.fake.decide(request))
                    self.agents[agent_id] = state
        with self._lock:
            state.turns += 1
            turn = state.turns
        record.kind, record.label, record.prompt, record.turn, record.schema = (
            "agent", state.label, state.prompt, turn, schema)
        record.head = head_of(body.get("messages") or [])
        answer = state.answer
        if schema is not None and state.label in self.overrides:
            turns = self.overrides[state.label]
            given = turns[min(turn, len(turns)) - 1]
            record.answer = "override"
            if isinstance(given, dict) and list(given) == ["__text__"]:  # plain text, no tool call
                return 200, self._message([self._text(str(given["__text__"]))], "end_turn", usage, body)
            call = {"type": "tool_use", "id": self._next_id("toolu"), "name": "StructuredOutput",
                    "input": given}
            return 200, self._message([call], "tool_use", usage, body)
        if answer.error is not None:
            record.answer = f"fail: {answer.error}"
            return 400, {"type": "error", "error": {"type": "invalid_request_error",
                                                    "message": f"stand-in: {answer.error}"}}
        if schema is not None and (turn == 1 or self.repair == "repeat"):
            record.answer = "structured"
            call = {"type": "tool_use", "id": self._next_id("toolu"), "name": "StructuredOutput",
                    "input": answer.value}
            return 200, self._message([call], "tool_use", usage, body)
        value = answer.value
        record.answer = "text"
        reply = value if isinstance(value, str) else js_json(value)
        return 200, self._message([self._text(reply)], "end_turn", usage, body)

    @staticmethod
    def _text(text: str) -> dict[str, Any]:
        return {"type": "text", "text": text}

    def _message(self, content: list[dict[str, Any]], stop: str, usage: dict[str, Any],
                 body: dict[str, Any]) -> dict[str, Any]:
        out = sum(tokens(json.dumps(c)) for c in content) + 1
        return {"id": self._next_id("msg"), "type": "message", "role": "assistant",
                "model": body.get("model") or "claude-stand-in", "content": content, "stop_reason": stop,
                "stop_sequence": None, "usage": {**usage, "output_tokens": out}}

    def _keep(self, record: Record, body: dict[str, Any]) -> None:
        record.at = round(time.monotonic() - self._started, 3)
        with self._lock:
            self.records.append(record)
            kinds = {r.get("_kind") for r in self.raw}
            key = f"{record.kind}:{record.turn}"
            if key not in kinds and len(self.raw) < 12:
                self.raw.append({"_kind": key, **body})

    # ------------------------------------------------------------------ HTTP

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                            "message": f"stand-in: no route {self.path}"}})

            def do_HEAD(self) -> None:
                self._json(200, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?")[0]
                if path == "/v1/messages/count_tokens":
                    try:
                        body = json.loads(raw)
                    except json.JSONDecodeError:
                        body = {}
                    self._json(200, {"input_tokens": tokens(json.dumps(body))})
                    return
                if path != "/v1/messages":
                    self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                                "message": f"stand-in: no route {self.path}"}})
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    self._json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                "message": "stand-in: body is not JSON"}})
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    status, reply = server.answer(body, headers)
                except Exception as exc:  # a bug in the stand-in: say so in the run, never hang
                    server.errors.append(f"stand-in crashed on a request: {exc!r}")
                    status, reply = 500, {"type": "error", "error": {"type": "api_error",
                                                                     "message": f"stand-in crashed: {exc!r}"}}
                if status == 200 and body.get("stream"):
                    self._stream(reply)
                else:
                    self._json(status, reply)

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.send_header("request-id", "req_stand_in")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, message: dict[str, Any]) -> None:
                events: list[tuple[str, dict[str, Any]]] = []
                start = {**message, "content": [], "stop_reason": None,
                         "usage": {**message["usage"], "output_tokens": 1}}
                events.append(("message_start", {"type": "message_start", "message": start}))
                for i, block in enumerate(message["content"]):
                    if block["type"] == "text":
                        events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                               "content_block": {"type": "text", "text": ""}}))
                        events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                               "delta": {"type": "text_delta",
                                                                         "text": block["text"]}}))
                    else:
                        events.append(("content_block_start", {
                            "type": "content_block_start", "index": i,
                            "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"],
                                              "input": {}}}))
                        events.append(("content_block_delta", {
                            "type": "content_block_delta", "index": i,
                            "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}}))
                    events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
                events.append(("message_delta", {"type": "message_delta",
                                                 "delta": {"stop_reason": message["stop_reason"],
                                                           "stop_sequence": None},
                                                 "usage": {"output_tokens": message["usage"]["output_tokens"]}}))
                events.append(("message_stop", {"type": "message_stop"}))
                data = b"".join(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
                                for name, payload in events)
                try:
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("cache-control", "no-cache")
                    self.send_header("content-length", str(len(data)))
                    self.send_header("request-id", "req_stand_in")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


def records_json(records: list[Record]) -> list[dict[str, Any]]:
    return [r.__dict__ for r in records]


__all__ = ["FRAME", "Launch", "Record", "StandIn", "head_of", "records_json", "task_of"]
