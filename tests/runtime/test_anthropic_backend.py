"""The anthropic backend through the real SDK against a scripted local Messages API."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.runtime import messages_server as ms
from tests.runtime.messages_server import MessagesServer
from wflang.runtime.backend import AgentFailure, AgentRequest, Usage
from wflang.runtime.backends.anthropic import (
    RETURN_TOOL,
    AnthropicAgentFailure,
    AnthropicBackend,
    MissingAPIKeyError,
    RetryPolicy,
)
from wflang.runtime.models import ALIASES, ModelConfigError, resolve_model

FAKE_KEY = "sk-ant-FAKE-KEY-must-never-be-shown-0123456789"

VERDICT = {
    "type": "object",
    "properties": {"verdict": {"enum": ["approve", "reject"]}, "reason": {"type": "string"}},
    "required": ["verdict"],
    "additionalProperties": False,
}


@pytest.fixture
def server() -> Any:
    srv = MessagesServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("the answer is 42\n")
    (tmp_path / "secret.txt").write_text("TOP SECRET\n")
    return ws


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def make_backend(
    server: MessagesServer, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., AnthropicBackend]]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("WF_MODELS", raising=False)
    built: list[AnthropicBackend] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    def make(**kwargs: Any) -> AnthropicBackend:
        kwargs.setdefault("base_url", server.url)
        kwargs.setdefault("request_timeout", 2.0)
        kwargs.setdefault("sleep", record_sleep)
        kwargs.setdefault("rng", random.Random(7))
        backend = AnthropicBackend(**kwargs)
        built.append(backend)
        return backend

    yield make
    for backend in built:
        await backend.aclose()


def req(prompt: str = "Say hello.", **kwargs: Any) -> AgentRequest:
    kwargs.setdefault("schema", None)
    kwargs.setdefault("label", "test")
    return AgentRequest(prompt=prompt, **kwargs)


def tool_names(body: dict[str, Any]) -> list[str]:
    return [tool["name"] for tool in body.get("tools", [])]


def last_tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    message = body["messages"][-1]
    assert message["role"] == "user"
    return [block for block in message["content"] if block["type"] == "tool_result"]


async def expect_failure(backend: AnthropicBackend, request: AgentRequest, workspace: Path) -> AgentFailure:
    with pytest.raises(AgentFailure) as info:
        await backend.run_agent(request, workspace)
    assert FAKE_KEY not in str(info.value)
    return info.value


# --- text, tools, request shape -------------------------------------------------------------


async def test_plain_text_reply(server: MessagesServer, make_backend: Any, workspace: Path) -> None:
    server.push(ms.text("  hello there \n", model="claude-sonnet-test"))
    result = await make_backend().run_agent(req(), workspace)
    assert result.value == "hello there"
    assert result.model_id == "claude-sonnet-test"
    [body] = server.requests
    assert body["model"] == ALIASES["sonnet"]  # the default model
    assert body["max_tokens"] == 8192
    assert body["messages"] == [{"role": "user", "content": "Say hello."}]
    assert "IS your return value" in body["system"]
    assert tool_names(body) == ["read_file", "list_dir", "glob", "grep"]
    assert "tool_choice" not in body  # forced tool use is rejected by current models
    headers = server.headers[0]
    assert FAKE_KEY in headers.get("x-api-key", "") + headers.get("authorization", "")


async def test_model_alias_effort_and_max_tokens(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.text("a"), ms.text("b"))
    backend = make_backend()
    await backend.run_agent(req(model="haiku", effort="low", max_output_tokens=123), workspace)
    await backend.run_agent(req(model="claude-some-future-model-9"), workspace)
    first, second = server.requests
    assert first["model"] == ALIASES["haiku"]
    assert first["max_tokens"] == 123
    assert first["output_config"] == {"effort": "low"}
    assert second["model"] == "claude-some-future-model-9"
    assert "output_config" not in second


async def test_wf_models_env_overrides_alias(
    server: MessagesServer, make_backend: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.push(ms.text("a"))
    backend = make_backend()
    monkeypatch.setenv("WF_MODELS", json.dumps({"sonnet": "claude-pinned-sonnet"}))
    await backend.run_agent(req(), workspace)
    assert server.requests[0]["model"] == "claude-pinned-sonnet"


async def test_unknown_alias_fails_without_calling_the_api(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    failure = await expect_failure(make_backend(), req(model="sonet"), workspace)
    assert "unknown model alias 'sonet'" in str(failure)
    assert server.requests == []


async def test_tool_use_loop(server: MessagesServer, make_backend: Any, workspace: Path) -> None:
    server.push(ms.tool_use(("read_file", {"path": "notes.txt"}), preamble="Let me look."), ms.text("42"))
    result = await make_backend().run_agent(req("What is the answer?"), workspace)
    assert result.value == "42"
    first, second = server.requests
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assistant = second["messages"][1]["content"]
    assert [b["type"] for b in assistant] == ["text", "tool_use"]
    [tool_result] = last_tool_results(second)
    assert tool_result["tool_use_id"] == assistant[1]["id"]
    assert "the answer is 42" in tool_result["content"]
    assert not tool_result.get("is_error")


async def test_tool_escape_is_an_error_result(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(
        ms.tool_use(
            ("read_file", {"path": "../secret.txt"}),
            ("read_file", {"path": str(workspace.parent / "secret.txt")}),
        ),
        ms.text("could not"),
    )
    result = await make_backend().run_agent(req(), workspace)
    assert result.value == "could not"
    results = last_tool_results(server.requests[1])
    assert len(results) == 2
    for tool_result in results:
        assert tool_result["is_error"] is True
        assert "outside the workspace" in tool_result["content"]
        assert "TOP SECRET" not in tool_result["content"]


async def test_ungranted_tool_is_neither_offered_nor_accepted(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(
        ms.tool_use(
            ("write_file", {"path": "out.txt", "content": "x"}), ("run_shell", {"command": "touch y"})
        ),
        ms.text("done"),
    )
    await make_backend().run_agent(req(), workspace)
    assert "write_file" not in tool_names(server.requests[0])
    assert "run_shell" not in tool_names(server.requests[0])
    edit_result, shell_result = last_tool_results(server.requests[1])
    assert edit_result["is_error"] and "'edit' permission" in edit_result["content"]
    assert shell_result["is_error"] and "'shell' permission" in shell_result["content"]
    assert not (workspace / "out.txt").exists()
    assert not (workspace / "y").exists()


async def test_granted_edit_tools_are_offered_and_work(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.tool_use(("write_file", {"path": "out/new.txt", "content": "written"})), ms.text("done"))
    await make_backend().run_agent(req(permissions=frozenset({"edit"})), workspace)
    names = tool_names(server.requests[0])
    assert "write_file" in names and "edit_file" in names and "run_shell" not in names
    assert "create and edit files" in server.requests[0]["system"]
    assert (workspace / "out" / "new.txt").read_text() == "written"
    [tool_result] = last_tool_results(server.requests[1])
    assert not tool_result.get("is_error")


async def test_thinking_blocks_are_sent_back_verbatim(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    thinking = {"type": "thinking", "thinking": "I should read it.", "signature": "sig-abc"}
    call = {"type": "tool_use", "id": "tu_think", "name": "list_dir", "input": {}}
    server.push(ms.message([thinking, call], "tool_use"), ms.text("ok"))
    await make_backend().run_agent(req(), workspace)
    assert server.requests[1]["messages"][1]["content"] == [thinking, call]


async def test_usage_is_summed_across_turns(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(
        ms.tool_use(("list_dir", {}), use=ms.usage(100, 20, cache_read=0, cache_write=70)),
        ms.tool_use(("read_file", {"path": "notes.txt"}), use=ms.usage(30, 10, cache_read=90, cache_write=5)),
        ms.text("42", use=ms.usage(7, 3, cache_read=110, cache_write=0)),
    )
    result = await make_backend().run_agent(req(), workspace)
    assert result.usage == Usage(
        input_tokens=137, output_tokens=33, cache_read_tokens=200, cache_write_tokens=75
    )


# --- structured output ------------------------------------------------------------------------


async def test_structured_output_valid_first_time(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.tool_use((RETURN_TOOL, {"verdict": "approve", "reason": "fine"})))
    result = await make_backend().run_agent(req("Review.", schema=VERDICT), workspace)
    assert result.value == {"verdict": "approve", "reason": "fine"}
    [body] = server.requests
    [tool] = [t for t in body["tools"] if t["name"] == RETURN_TOOL]
    assert tool["input_schema"] == VERDICT
    assert f"calling the {RETURN_TOOL} tool exactly once" in body["system"]


async def test_structured_output_invalid_then_repaired(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(
        ms.tool_use((RETURN_TOOL, {"verdict": "maybe"})), ms.tool_use((RETURN_TOOL, {"verdict": "reject"}))
    )
    result = await make_backend().run_agent(req(schema=VERDICT), workspace)
    assert result.value == {"verdict": "reject"}
    [tool_result] = last_tool_results(server.requests[1])
    assert tool_result["is_error"] is True
    assert "/verdict" in tool_result["content"]
    assert "'maybe' is not one of ['approve', 'reject']" in tool_result["content"]


async def test_structured_output_never_valid(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(*[ms.tool_use((RETURN_TOOL, {"verdict": "maybe", "extra": i})) for i in range(5)])
    failure = await expect_failure(make_backend(), req(schema=VERDICT), workspace)
    # 5 invalid answers in all (the first and 4 repairs), as Claude Code 2.1.332 allows
    assert len(server.requests) == 5
    message = str(failure)
    assert "after 4 repair attempts" in message
    assert "'maybe' is not one of" in message
    assert "Additional properties are not allowed ('extra' was unexpected)" in message
    assert isinstance(failure, AnthropicAgentFailure)
    assert failure.usage.input_tokens == 50  # spent tokens are still accounted


async def test_ending_without_return_result_is_repaired(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.text("approve"), ms.tool_use((RETURN_TOOL, {"verdict": "approve"})))
    result = await make_backend().run_agent(req(schema=VERDICT), workspace)
    assert result.value == {"verdict": "approve"}
    assert RETURN_TOOL in server.requests[1]["messages"][-1]["content"]


async def test_invalid_schema_fails_before_any_call(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    failure = await expect_failure(make_backend(), req(schema={"type": "object", "required": "x"}), workspace)
    assert "not a valid JSON Schema" in str(failure)
    assert server.requests == []


# --- retries ----------------------------------------------------------------------------------


async def test_429_retry_after_is_honoured_and_capped(
    server: MessagesServer, make_backend: Any, workspace: Path, waits: list[float]
) -> None:
    server.push(ms.rate_limited("3"), ms.rate_limited("120"), ms.text("ok"))
    backend = make_backend(retry=RetryPolicy(max_retry_after=10.0))
    result = await backend.run_agent(req(), workspace)
    assert result.value == "ok"
    assert waits == [3.0, 10.0]
    assert len(server.requests) == 3


async def test_529_and_500_are_retried_with_jittered_backoff(
    server: MessagesServer, make_backend: Any, workspace: Path, waits: list[float]
) -> None:
    server.push(ms.overloaded(), ms.status(500), ms.status(503), ms.text("ok"))
    backend = make_backend(retry=RetryPolicy(base_delay=1.0, max_delay=3.0))
    result = await backend.run_agent(req(), workspace)
    assert result.value == "ok"
    assert len(server.requests) == 4
    assert len(waits) == 3
    for wait, ceiling in zip(waits, [1.0, 2.0, 3.0], strict=True):  # doubling, capped at max_delay
        assert 0.0 <= wait <= ceiling


async def test_retries_exhausted(
    server: MessagesServer, make_backend: Any, workspace: Path, waits: list[float]
) -> None:
    server.push(*[ms.overloaded() for _ in range(3)])
    failure = await expect_failure(make_backend(retry=RetryPolicy(max_attempts=3)), req(), workspace)
    assert "after 3 attempts" in str(failure)
    assert "HTTP 529" in str(failure) and "Overloaded" in str(failure)
    assert len(server.requests) == 3
    assert len(waits) == 2


async def test_client_errors_are_not_retried(
    server: MessagesServer, make_backend: Any, workspace: Path, waits: list[float]
) -> None:
    server.push(ms.status(400, "invalid_request_error", "max_tokens: too large"))
    failure = await expect_failure(make_backend(), req(), workspace)
    assert "HTTP 400" in str(failure) and "max_tokens: too large" in str(failure)
    assert len(server.requests) == 1
    assert waits == []


async def test_hung_request_times_out_and_is_retried(
    server: MessagesServer, make_backend: Any, workspace: Path, waits: list[float]
) -> None:
    server.push(ms.hang(5.0), ms.text("ok"))
    result = await make_backend(request_timeout=0.3).run_agent(req(), workspace)
    assert result.value == "ok"
    assert len(server.requests) == 2
    assert len(waits) == 1


async def test_hung_requests_exhaust_retries(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.hang(5.0), ms.hang(5.0))
    backend = make_backend(request_timeout=0.2, retry=RetryPolicy(max_attempts=2))
    failure = await expect_failure(backend, req(), workspace)
    assert "timed out after 0.2s" in str(failure)


async def test_malformed_json_fails_with_a_clear_message(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.malformed(), ms.malformed())
    failure = await expect_failure(make_backend(retry=RetryPolicy(max_attempts=2)), req(), workspace)
    assert "malformed response" in str(failure)
    assert "not valid JSON" in str(failure)
    assert len(server.requests) == 2


async def test_malformed_json_once_is_retried(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.malformed(), ms.text("ok"))
    assert (await make_backend().run_agent(req(), workspace)).value == "ok"


async def test_unexpected_shape_fails_with_a_clear_message(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    server.push(ms.Scripted(body={"id": "msg_1", "type": "message"}), ms.Scripted(body=[1, 2]))
    failure = await expect_failure(make_backend(retry=RetryPolicy(max_attempts=2)), req(), workspace)
    assert "not a JSON object" in str(failure)
    server.push(ms.Scripted(body={"content": [{"type": "tool_use", "name": "read_file"}]}))
    failure = await expect_failure(make_backend(retry=RetryPolicy(max_attempts=1)), req(), workspace)
    assert "tool_use block lacks id/name/input" in str(failure)


# --- the API key ------------------------------------------------------------------------------


async def test_api_key_never_appears_in_errors(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    # A proxy that echoes the credential back in its error body.
    server.push(ms.status(401, "authentication_error", f"invalid x-api-key: {FAKE_KEY}"))
    failure = await expect_failure(make_backend(), req(), workspace)
    assert "HTTP 401" in str(failure) and "[REDACTED]" in str(failure)
    assert "ANTHROPIC_API_KEY" in str(failure)
    assert FAKE_KEY not in str(failure)
    server.push(ms.Scripted(body=f'{{"oops": "{FAKE_KEY}'.encode()))
    failure = await expect_failure(make_backend(retry=RetryPolicy(max_attempts=1)), req(), workspace)
    assert "not valid JSON" in str(failure)
    assert FAKE_KEY not in str(failure) and "[REDACTED]" in str(failure)


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY is not set"):
        AnthropicBackend()


async def test_base_url_from_environment(
    server: MessagesServer, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    server.push(ms.text("via env"))
    backend = AnthropicBackend(request_timeout=2.0)
    try:
        assert (await backend.run_agent(req(), workspace)).value == "via env"
    finally:
        await backend.aclose()


def test_sdk_is_imported_lazily() -> None:
    code = "import sys, wflang.runtime.backends.anthropic; assert 'anthropic' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# --- the model table --------------------------------------------------------------------------


def test_resolve_model() -> None:
    env: dict[str, str] = {}
    assert resolve_model(None, env=env) == ALIASES["sonnet"]
    assert resolve_model("opus", env=env) == ALIASES["opus"]
    assert resolve_model("claude-opus-4-1-20250805", env=env) == "claude-opus-4-1-20250805"
    assert resolve_model("haiku", overrides={"haiku": "my-haiku"}, env=env) == "my-haiku"
    assert resolve_model(None, env=env, default="opus") == ALIASES["opus"]
    env = {"WF_MODELS": json.dumps({"sonnet": "pinned-sonnet", "fast": "claude-fast-1"})}
    assert resolve_model(None, env=env) == "pinned-sonnet"
    assert resolve_model("fast", env=env) == "claude-fast-1"
    assert resolve_model("sonnet", overrides={"sonnet": "arg-wins"}, env=env) == "arg-wins"
    with pytest.raises(ModelConfigError, match="unknown model alias"):
        resolve_model("sonet", env={})
    with pytest.raises(ModelConfigError, match="not valid JSON"):
        resolve_model("opus", env={"WF_MODELS": "{nope"})
    with pytest.raises(ModelConfigError, match="JSON object"):
        resolve_model("opus", env={"WF_MODELS": '["opus"]'})


# --- prompt caching: a fan-out's shared head --------------------------------------------------


async def test_a_shared_head_is_its_own_cached_block(
    server: MessagesServer, make_backend: Any, workspace: Path
) -> None:
    """The head agents of a fan-out share (wflang/dsl/shared_head.py) is sent as the first
    block of the user message, with a cache breakpoint; the text is the prompt, unchanged."""
    head = "Shared context for every file of the fan-out.\n" * 5
    server.push(ms.text("one"), ms.text("two"), ms.text("three"))
    backend = make_backend()
    await backend.run_agent(req(head + "Review a.py", shared_head=head), workspace)
    await backend.run_agent(req(head + "  \n", shared_head=head), workspace)  # a blank rest: no split
    await make_backend(prompt_caching=False).run_agent(req(head + "Review b.py", shared_head=head), workspace)
    split, blank, uncached = server.requests
    assert split["messages"][0]["content"] == [
        {"type": "text", "text": head, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Review a.py"},
    ]
    assert split["cache_control"] == {"type": "ephemeral"}  # the growing prefix, as before
    assert blank["messages"][0]["content"] == head + "  \n"
    assert uncached["messages"][0]["content"] == head + "Review b.py"
    assert "cache_control" not in uncached
