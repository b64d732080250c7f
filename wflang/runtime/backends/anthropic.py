"""The anthropic backend: each agent is a tool-using loop over the Messages API.

The SDK (`anthropic.AsyncAnthropic`, anyio-based, so it runs under trio) is imported when
the backend is built, not when this module is imported, so the rest of wflang works
without it. The SDK's own retries are off; `_create` retries with capped exponential
backoff and full jitter, honouring `retry-after`, so the policy is ours and testable.

Responses are read raw and checked here: a body that is not JSON or not shaped like a
message becomes a clear AgentFailure instead of a half-parsed object.
"""

from __future__ import annotations

import datetime
import math
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import trio

from wflang.dsl import jsonread
from wflang.dsl.shared_head import split
from wflang.runtime.backend import AgentFailure, AgentRequest, AgentResult, AuthenticationFailure, Usage
from wflang.runtime.models import ModelConfigError, resolve_model
from wflang.runtime.redact import register_secret
from wflang.runtime.tools import EDIT, SHELL, Toolbox, ToolLimits

if TYPE_CHECKING:
    import anthropic

API_KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"
DEFAULT_MAX_TOKENS = 8192
# One request: a full 8192-token reply at ordinary speeds arrives well within this.
DEFAULT_REQUEST_TIMEOUT = 90.0
# One turn of an agent, every attempt and wait included.
DEFAULT_STALL_TIMEOUT = 240.0
RETURN_TOOL = "return_result"

Sleep = Callable[[float], Awaitable[object]]
# One turn's API call: (params, turn number from 1) -> the parsed reply.
Create = Callable[[dict[str, Any], int], Awaitable["_Reply"]]


class MissingAPIKeyError(RuntimeError):
    """ANTHROPIC_API_KEY is not set; raised when the backend is built, before any agent."""


class AnthropicAgentFailure(AgentFailure):
    """An AgentFailure that also carries the tokens the failed agent spent, so budgets and
    the journal can count them (AgentFailure itself has no room for usage)."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


class AnthropicAuthFailure(AnthropicAgentFailure, AuthenticationFailure):
    """HTTP 401/403: the key is wrong, revoked or lacks access; never retried."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # the first call plus 5 retries
    base_delay: float = 1.0  # seconds; doubled per retry
    max_delay: float = 30.0  # cap of the exponential backoff
    max_retry_after: float = 60.0  # cap on a server's retry-after

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(retry-1))] for retry 1, 2, ..."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))


@dataclass
class _Reply:
    content: list[dict[str, Any]]
    stop_reason: str | None
    usage: Usage
    model: str | None


class _MalformedReply(Exception):
    pass


class _RequestTimeout(Exception):
    """Our hard per-request deadline passed (the SDK's own timeout is per read)."""


def _retryable_status(code: int) -> bool:
    # 408 request timeout, 409 lock conflict, 429 rate limit, 5xx incl. 529 overloaded.
    return code in (408, 409, 429) or code >= 500


def _finite_seconds(value: float) -> float | None:
    """A usable wait from a parsed number: NaN and negatives are not a wait (None: use our
    own backoff); +inf or huge values are a very long wait, which the caller clamps."""
    if math.isnan(value) or value < 0:
        return None
    return min(value, 1e9)


def _retry_after(headers: Mapping[str, str], now: datetime.datetime | None = None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, or `retry-after` as seconds
    or an HTTP date), never NaN, infinite or negative; None when absent or unusable."""
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            seconds = _finite_seconds(float(ms.strip()))
            if seconds is not None:
                return seconds / 1000.0
        if (value := headers.get("retry-after")) is None:
            return None
        value = value.strip()
        try:
            return _finite_seconds(float(value))
        except ValueError:
            pass
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # RFC 850 / asctime forms: HTTP dates are in GMT
            when = when.replace(tzinfo=datetime.UTC)
        delta = (when - (now or datetime.datetime.now(datetime.UTC))).total_seconds()
        return _finite_seconds(max(delta, 0.0))
    except (ValueError, TypeError, OverflowError, IndexError, AttributeError):
        return None


def server_delay(headers: Mapping[str, str], cap: float) -> float | None:
    """The server's requested wait clamped to [0, cap], or None (then we back off)."""
    wait = _retry_after(headers)
    return None if wait is None else min(max(wait, 0.0), cap)


def _int_field(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _MalformedReply(f"usage.{key} is not a non-negative integer: {value!r}")
    return value


# What a part of a reply nested deeper than jsonread.DEPTH_LIMIT reads as (no workflow
# value is that deep, and Python's walkers of values recurse); random, so no answer spells it.
TOO_DEEP = f"\u0000wflang: nested too deeply {os.urandom(8).hex()}"


def _parse_reply(body: str) -> _Reply:
    try:
        data = jsonread.loads_capped(body, TOO_DEEP)
    except ValueError as exc:
        raise _MalformedReply(f"the response body is not valid JSON ({exc}): {body[:120]!r}") from None
    if not isinstance(data, dict):
        raise _MalformedReply(f"the response body is not a JSON object: {body[:120]!r}")
    content = data.get("content")
    if not isinstance(content, list):
        raise _MalformedReply(f"the response has no 'content' list: {body[:120]!r}")
    for block in content:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise _MalformedReply(f"a content block has no type: {block!r:.120}")
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            raise _MalformedReply("a text block has no 'text' string")
        if block["type"] == "tool_use" and not (
            isinstance(block.get("id"), str)
            and isinstance(block.get("name"), str)
            and isinstance(block.get("input"), dict)
        ):
            raise _MalformedReply(f"a tool_use block lacks id/name/input: {block!r:.120}")
    stop_reason = data.get("stop_reason")
    if stop_reason is not None and not isinstance(stop_reason, str):
        raise _MalformedReply(f"stop_reason is not a string: {stop_reason!r}")
    raw_usage = data.get("usage") or {}
    if not isinstance(raw_usage, dict):
        raise _MalformedReply(f"usage is not an object: {raw_usage!r}")
    usage = Usage(
        input_tokens=_int_field(raw_usage, "input_tokens"),
        output_tokens=_int_field(raw_usage, "output_tokens"),
        cache_read_tokens=_int_field(raw_usage, "cache_read_input_tokens"),
        cache_write_tokens=_int_field(raw_usage, "cache_creation_input_tokens"),
    )
    model = data.get("model")
    return _Reply(content, stop_reason, usage, model if isinstance(model, str) else None)


def _echo(block: dict[str, Any]) -> dict[str, Any]:
    """A response block as it must be sent back in the next request. Thinking blocks are
    kept verbatim (with their signature): current models reject a conversation without them."""
    kind = block["type"]
    if kind == "text":
        out = {"type": "text", "text": block["text"]}
        if block.get("citations"):
            out["citations"] = block["citations"]
        return out
    if kind == "tool_use":
        return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": block["input"]}
    if kind == "thinking":
        return {
            "type": "thinking",
            "thinking": block.get("thinking", ""),
            "signature": block.get("signature", ""),
        }
    if kind == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.get("data", "")}
    return block


def _tool_result(tool_use_id: str, content: str, is_error: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        result["is_error"] = True
    return result


def _too_deep(value: Any) -> str | None:
    """Where a tool input nests arrays and objects too deeply to be read, or None."""
    path = jsonread.find_marker(value, TOO_DEEP)
    if path is None:
        return None
    return (f"at {jsonread.describe_path(path)}: arrays and objects nest too deeply (the reply more than "
            f"{jsonread.DEPTH_LIMIT} levels; no value of a workflow is that deep)")


def _schema_problems(validator: jsonschema.Draft202012Validator, value: Any, limit: int = 5) -> str | None:
    """What is wrong with `value`, for the model to fix, or None when it is valid."""
    deep = _too_deep(value)
    if deep is not None:  # the marker would only confuse the schema's messages
        return deep
    errors = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return None
    parts = [
        f"at {'/' + '/'.join(map(str, e.absolute_path)) if e.absolute_path else 'the root'}: {e.message}"
        for e in errors[:limit]
    ]
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)


def system_prompt(request: AgentRequest, workspace: Path) -> str:
    """The agent's standing instructions: where it works, what it may do, how it returns."""
    can = ["read files (read_file, list_dir, glob, grep)"]
    if EDIT in request.permissions:
        can.append("create and edit files (write_file, edit_file)")
    if SHELL in request.permissions:
        can.append("run shell commands in the workspace (run_shell)")
    cannot = "" if EDIT in request.permissions else " You cannot modify files."
    where = (f"You work in the workspace {workspace}; tools only reach files inside it and take paths relative "
             f"to it. You can {', '.join(can)}.{cannot}")
    if request.toolless:
        where = ("You have no tools and no access to files or commands: everything you need is in the "
                 "user message. Answer from it alone.")
    lines = [
        "You are a subagent started by a wflang workflow. Do the task in the user message on your own: "
        "nobody will answer questions, so decide and proceed.",
        where,
    ]
    if request.schema is None:
        lines.append(
            "Your final text IS your return value: the workflow receives it verbatim as the result of this "
            "step. When you are done, reply with the answer only: no preamble, no account of what you did."
        )
    else:
        lines.append(
            f"You return your result by calling the {RETURN_TOOL} tool exactly once, with input matching its "
            f"schema: that call IS your return value and ends your work; your text is not seen by anyone. "
            f"If the call is rejected, fix what the error names and call {RETURN_TOOL} again."
        )
    return "\n\n".join(lines)


def user_content(request: AgentRequest, caching: bool) -> str | list[dict[str, Any]]:
    """The first user message: the prompt, or, when the agents of a fan-out share its head
    (wflang/dsl/shared_head.py) and caching is on, the head as its own block with a cache
    breakpoint and the rest after it, so later agents read the head from the cache, as
    Claude Code does with `sharedHeadLength`. The text is the prompt either way."""
    parts = split(request.prompt, request.shared_head) if caching else None
    if parts is None:
        return request.prompt
    head, rest = parts
    return [{"type": "text", "text": head, "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": rest}]


def _final_text(content: list[dict[str, Any]]) -> str:
    return "".join(block["text"] for block in content if block["type"] == "text").strip()


_NO_VALUE = object()


class AnthropicBackend:
    """`Backend` over the Messages API. Build one per run and share it across agents."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        models: Mapping[str, str] | None = None,
        default_model: str | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_turns: int = 50,
        max_repairs: int = 4,  # 5 invalid answers in all fail the agent, as Claude Code's retry cap (5)
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        tool_limits: ToolLimits | None = None,
        prompt_caching: bool = True,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        for name, value in (("request_timeout", request_timeout), ("stall_timeout", stall_timeout)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        api_key = os.environ.get(API_KEY_ENV, "").strip()
        if not api_key:
            raise MissingAPIKeyError(
                f"{API_KEY_ENV} is not set: export your Anthropic API key to run real agents "
                "(or use --fake FILE for a dry run)"
            )
        import anthropic  # lazily: only a real run needs the SDK

        self._anthropic = anthropic
        self._api_key = api_key  # kept only to scrub it from messages
        register_secret(api_key)  # ... and from whatever the journal stores
        self._client: anthropic.AsyncAnthropic = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url or os.environ.get(BASE_URL_ENV) or None,
            max_retries=0,  # retries are ours (see _create)
            timeout=request_timeout,
        )
        self._models = dict(models or {})
        self._default_model = default_model
        self._timeout = float(request_timeout)
        self._stall = float(stall_timeout)
        self._retry = retry or RetryPolicy()
        self._max_turns = max_turns
        self._max_repairs = max_repairs
        self._default_max_tokens = default_max_tokens
        self._tool_limits = tool_limits
        self._prompt_caching = prompt_caching
        self._sleep: Sleep = sleep or trio.sleep
        self._rng = rng or random.Random()

    async def aclose(self) -> None:
        await self._client.close()

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[REDACTED]") if self._api_key else text

    def _fail(self, message: str, usage: Usage | None = None) -> AnthropicAgentFailure:
        return AnthropicAgentFailure(self._redact(message), usage)

    # --- one API call, with our retry policy ---------------------------------------------

    def _describe_status(self, exc: anthropic.APIStatusError) -> str:
        detail = exc.api_message or (exc.body if isinstance(exc.body, str) else None) or exc.message
        kind = f" {exc.type}" if exc.type else ""
        hint = f" (check {API_KEY_ENV})" if exc.status_code in (401, 403) else ""
        return f"Messages API returned HTTP {exc.status_code}{kind}: {str(detail)[:300]}{hint}"

    async def _create(self, params: dict[str, Any], turn: int = 1) -> _Reply:
        """One reply, retried; the whole of it (attempts and waits) within the stall limit."""
        outcome: list[_Reply] = []
        progress: list[str] = ["no attempt finished"]
        with trio.move_on_after(self._stall):
            outcome.append(await self._attempts(params, progress))
        if outcome:
            return outcome[0]
        raise self._fail(
            f"no usable answer from the Messages API within the stall limit of {self._stall:g}s "
            f"(last: {progress[0]}). Hint: raise --stall-timeout, or check the API's status"
        )

    async def _attempt(self, params: dict[str, Any]) -> _Reply:
        """One request with a hard total timeout (the SDK's is per read)."""
        with trio.move_on_after(self._timeout):
            raw = await self._client.messages.with_raw_response.create(**params, timeout=self._timeout)
            return _parse_reply(await raw.text())
        raise _RequestTimeout

    async def _attempts(self, params: dict[str, Any], progress: list[str]) -> _Reply:
        anthropic = self._anthropic
        attempts = self._retry.max_attempts
        last = "no attempt made"
        for attempt in range(1, attempts + 1):
            wait: float | None = None
            try:
                return await self._attempt(params)
            except anthropic.APIStatusError as exc:
                last = self._describe_status(exc)
                if exc.status_code in (401, 403):
                    raise AnthropicAuthFailure(self._redact(
                        f"the Messages API refused the key in {API_KEY_ENV}: {last}. Hint: export a valid "
                        f"key in {API_KEY_ENV} (with access to the model), then resume the run")) from None
                if not _retryable_status(exc.status_code):
                    raise self._fail(last) from None
                wait = server_delay(exc.response.headers, self._retry.max_retry_after)
            except (anthropic.APITimeoutError, _RequestTimeout):
                last = f"the request timed out after {self._timeout:g}s"
            except anthropic.APIConnectionError as exc:
                cause = exc.__cause__ or exc.__context__
                last = f"connection error: {cause or exc}"
            except _MalformedReply as exc:
                last = f"malformed response: {exc}"
            except anthropic.AnthropicError as exc:  # anything else the SDK raises is not transient
                raise self._fail(f"Messages API call failed: {exc}") from None
            progress[0] = f"attempt {attempt}: {last}"
            if attempt == attempts:
                break
            delay = wait if wait is not None else self._retry.backoff(attempt, self._rng)
            await self._sleep(delay)
        raise self._fail(f"Messages API call failed after {attempts} attempts: {last}")

    # --- the agent loop ------------------------------------------------------------------

    async def run_agent(self, request: AgentRequest, workspace: Path, create: Create | None = None) -> AgentResult:
        """One agent. `create` replaces the Messages API call of each turn (the batch backend
        sends a tool-less agent's turns as batch requests); the loop stays the same."""
        usage = Usage()
        try:
            return await self._run(request, Path(workspace), usage, create or self._create)
        except AnthropicAgentFailure as exc:
            exc.usage = usage
            raise
        except AgentFailure as exc:
            raise self._fail(str(exc), usage) from None
        except Exception as exc:  # a bug or an unexpected SDK error: still redacted, usage kept
            raise self._fail(f"{type(exc).__name__}: {exc}", usage) from None

    async def _run(self, request: AgentRequest, workspace: Path, usage: Usage, create: Create) -> AgentResult:
        try:
            model_id = resolve_model(request.model, self._models, default=self._default_model)
        except ModelConfigError as exc:
            raise self._fail(str(exc)) from None
        if request.toolless:  # a tool-less agent is offered no workspace tool at all
            return await self._loop(request, None, usage, model_id, create, workspace)
        try:
            toolbox = Toolbox(workspace, request.permissions, self._tool_limits)
        except OSError as exc:
            raise self._fail(f"unusable workspace {workspace}: {exc}") from None
        try:
            return await self._loop(request, toolbox, usage, model_id, create, toolbox.root)
        finally:
            toolbox.close()

    async def _loop(self, request: AgentRequest, toolbox: Toolbox | None, usage: Usage, model_id: str,
                    create: Create, root: Path) -> AgentResult:
        tools = toolbox.definitions() if toolbox is not None else []
        validator: jsonschema.Draft202012Validator | None = None
        if request.schema is not None:
            try:
                jsonschema.Draft202012Validator.check_schema(request.schema)
            except jsonschema.SchemaError as exc:
                raise self._fail(
                    f"the agent's output schema is not a valid JSON Schema: {exc.message}"
                ) from None
            validator = jsonschema.Draft202012Validator(request.schema)
            # tool_choice stays "auto": current models reject forced tool use, and the
            # system prompt plus the repair loop make the model call it.
            tools.append(
                {
                    "name": RETURN_TOOL,
                    "description": "Return your final result. Call exactly once, when done; the input is your "
                    "return value and must match this schema.",
                    "input_schema": request.schema,
                }
            )
        max_tokens = request.max_output_tokens or self._default_max_tokens
        params: dict[str, Any] = {
            "model": model_id,
            "max_tokens": max_tokens,
            "system": system_prompt(request, root),
        }
        if tools:
            params["tools"] = tools
        if request.effort:
            params["output_config"] = {"effort": request.effort}
        if self._prompt_caching:
            # Caches the growing prefix (system, tools, earlier turns) across the loop.
            params["cache_control"] = {"type": "ephemeral"}

        messages: list[dict[str, Any]] = [{"role": "user", "content": user_content(request, self._prompt_caching)}]
        answered_by = model_id
        invalid = 0
        last_problem = ""
        for turn in range(self._max_turns):
            reply = await create({**params, "messages": messages}, turn + 1)
            usage.add(reply.usage)
            answered_by = reply.model or answered_by
            messages.append({"role": "assistant", "content": [_echo(b) for b in reply.content]})
            if reply.stop_reason == "refusal":
                raise self._fail("the model refused the request")
            if reply.stop_reason == "max_tokens":
                raise self._fail(f"the reply hit max_tokens ({max_tokens}) before the agent finished")
            if reply.stop_reason == "pause_turn":
                continue  # the API paused a long turn; sending it back resumes it

            calls = [b for b in reply.content if b["type"] == "tool_use"]
            if not calls:
                if validator is None:
                    text = _final_text(reply.content)
                    if not text:
                        raise self._fail("the agent ended without any final text")
                    return AgentResult(value=text, usage=usage, model_id=answered_by)
                invalid += 1
                last_problem = f"the agent ended its turn without calling {RETURN_TOOL}"
                if invalid > self._max_repairs:
                    break
                messages.append(
                    {"role": "user", "content": f"You must return your result by calling {RETURN_TOOL} now."}
                )
                continue

            results: list[dict[str, Any]] = []
            value: Any = _NO_VALUE
            for call in calls:
                if call["name"] == RETURN_TOOL and validator is not None:
                    if value is not _NO_VALUE:
                        results.append(
                            _tool_result(call["id"], "ignored: a result was already returned", True)
                        )
                        continue
                    problem = _schema_problems(validator, call["input"])
                    if problem is None:
                        value = call["input"]
                        results.append(_tool_result(call["id"], "result accepted"))
                    else:
                        invalid += 1
                        last_problem = problem
                        results.append(
                            _tool_result(
                                call["id"],
                                f"rejected: the input does not match the schema ({problem}). "
                                f"Fix it and call {RETURN_TOOL} again.",
                                True,
                            )
                        )
                elif toolbox is None:
                    results.append(_tool_result(call["id"], f"no tool {call['name']!r}: this agent has no tools",
                                                True))
                elif (deep := _too_deep(call["input"])) is not None:
                    results.append(_tool_result(call["id"], f"rejected: the input {deep}", True))
                else:
                    outcome = await toolbox.call(call["name"], call["input"])
                    results.append(_tool_result(call["id"], outcome.content, outcome.is_error))
            if value is not _NO_VALUE:
                return AgentResult(value=value, usage=usage, model_id=answered_by)
            if invalid > self._max_repairs:
                break
            messages.append({"role": "user", "content": results})
        else:
            raise self._fail(f"the agent gave no result within {self._max_turns} turns")
        raise self._fail(
            f"structured output still invalid after {self._max_repairs} repair attempts: {last_problem}"
        )
