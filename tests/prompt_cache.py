"""A simulated Anthropic prompt cache, for the test servers that stand in for the Messages API
(tests/claude_code/stand_in.py for real Claude Code, tests/runtime/messages_server.py for
`wf run`'s anthropic backend).

It follows the API's documented rules, approximately:

- a request is read as an ordered list of blocks in the cache's order: each tool, then
  the system blocks, then each message's content blocks (a string content is one block);
- a block carrying `cache_control` is a breakpoint; a top-level `cache_control`
  (automatic caching) is a breakpoint on the last block;
- reading: for each breakpoint, the longest prefix ending at that block boundary or at one
  of the 20 boundaries before it that an earlier request wrote is read from the cache
  (the API's lookback window); the request reads the longest such prefix;
- writing: the prefix at every breakpoint is written, unless it is shorter than the
  minimum cacheable length (1,024 tokens by default, Sonnet's and Opus 4's; 4,096 for
  Opus 4.5 and Haiku 4.5), which is neither written nor read; `cache_creation` is what
  lies between the read prefix and the last written breakpoint;
- an entry is readable by any request that arrives after the one that wrote it (the API
  makes it readable once that response begins; the stand-ins answer at once), for the
  lifetime of the server (the 5-minute TTL never runs out in a test).

Tokens are characters / 4 (of a text block's text, of any other block's JSON), the same
estimate wflang's fake backend uses; the prefix digests cover each block's whole canonical
JSON without its `cache_control`. Not modelled: TTLs, the 4-breakpoint limit, and
the changes (tool_choice, images, thinking settings) that invalidate a cache in the API.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

LOOKBACK = 20
MIN_TOKENS = 1024


@dataclass(frozen=True)
class CacheUsage:
    breakpoints: int
    read: int  # cache_read_input_tokens
    write: int  # cache_creation_input_tokens
    uncached: int  # input_tokens


def _bare(block: Any) -> Any:
    return {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block


def blocks(body: dict[str, Any]) -> list[tuple[Any, bool]]:
    """The request as (piece, marked) in the cache's order: tools, system, messages."""
    out: list[tuple[Any, bool]] = []
    for tool in body.get("tools") or []:
        out.append((_bare(tool), isinstance(tool, dict) and "cache_control" in tool))
    system = body.get("system")
    if isinstance(system, str):
        out.append(({"system": system}, False))
    elif isinstance(system, list):
        for block in system:
            out.append(({"system": _bare(block)}, isinstance(block, dict) and "cache_control" in block))
    for message in body.get("messages") or []:
        content = message.get("content")
        role = message.get("role")
        if isinstance(content, str):
            out.append(({"role": role, "text": content}, False))
            continue
        for block in content or []:
            out.append(({"role": role, "block": _bare(block)}, isinstance(block, dict) and "cache_control" in block))
    if out and isinstance(body.get("cache_control"), dict):
        out[-1] = (out[-1][0], True)
    return out


def _size(piece: dict[str, Any], text: str) -> int:
    """A block's characters: a text block's text (a split prompt costs what the whole one
    costs), anything else its JSON."""
    inner = piece.get("block", piece.get("system", piece))
    if isinstance(inner, dict) and inner.get("type") == "text" and isinstance(inner.get("text"), str):
        return len(inner["text"])
    if "text" in piece and isinstance(piece["text"], str):
        return len(piece["text"])
    if isinstance(inner, str):
        return len(inner)
    return len(text)


class PromptCache:
    """Prefix digests written so far, shared by every request to one server."""

    def __init__(self, min_tokens: int = MIN_TOKENS, lookback: int = LOOKBACK) -> None:
        self.min_tokens = min_tokens
        self.lookback = lookback
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def account(self, body: dict[str, Any]) -> CacheUsage:
        pieces = blocks(body)
        digest = hashlib.sha256()
        ends: list[tuple[str, int]] = []  # per block: (digest of the prefix through it, chars)
        marks: list[int] = []
        chars = 0
        for i, (piece, marked) in enumerate(pieces):
            text = json.dumps(piece, sort_keys=True, ensure_ascii=False)
            digest.update(text.encode())
            chars += _size(piece, text)
            ends.append((digest.hexdigest(), chars))
            if marked:
                marks.append(i)
        total = chars // 4
        with self._lock:
            read_chars = 0
            for mark in marks:
                for j in range(mark, max(-1, mark - self.lookback - 1), -1):
                    if ends[j][0] in self._written:
                        read_chars = max(read_chars, ends[j][1])
                        break
            cacheable = [m for m in marks if ends[m][1] // 4 >= self.min_tokens]
            for mark in cacheable:
                self._written.add(ends[mark][0])
        read = read_chars // 4
        write = max(0, ends[cacheable[-1]][1] // 4 - read) if cacheable else 0
        return CacheUsage(len(marks), read, write, max(0, total - read - write))
