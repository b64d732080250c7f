"""`wf run` through the anthropic SDK with a fan-out whose agents share a long head: the
head goes as its own `cache_control` block, so with a cache that matches prefixes as the
API does (tests/prompt_cache.py) every agent after the first reads it back; without the
split each agent's prompt is written whole. The result is the fake run's either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.replay import run_anthropic
from wflang.runtime import interpreter

HEAD = "You review one module of a payments service. House rules that hold everywhere:\n" + (
    "- every handler validates its input, logs with the request id, and returns typed errors\n" * 40)

SOURCE = f'''workflow shared:
    description: "six reviewers share one long head"

input files: list[str] max 6

phase "Review":
    notes = fanout f in files:
        agent """
            {HEAD.replace(chr(10), chr(10) + "            ")}
            Now review {{f}} and list at most two problems.
            """ -> list[str] max 2
return notes
'''

FILES = {"files": ["a.py", "b.py", "c.py", "d.py", "e.py", "f.py"]}


@pytest.fixture
def wf(tmp_path: Path) -> Path:
    path = tmp_path / "shared.wf"
    path.write_text(SOURCE, encoding="utf-8")
    return path


def test_the_shared_head_is_read_from_the_cache(wf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {"rules": [], "default": "schema"}
    value, with_head = run_anthropic(wf, FILES, fake, tmp_path / "with")
    monkeypatch.setattr(interpreter, "shared_heads", lambda program: {})
    same, without = run_anthropic(wf, FILES, fake, tmp_path / "without")
    assert value == same and len(value) == 6
    assert (with_head.split, without.split) == (6, 0)
    head_tokens = len(HEAD) // 4
    read_with = sum(u["read"] for u in with_head.usage)
    read_without = sum(u["read"] for u in without.usage)
    # the five agents after the first read the system prompt, tools and head back ...
    assert read_with >= read_without + 5 * head_tokens
    # ... and write only their own rest
    assert sum(u["write"] for u in with_head.usage) < sum(u["write"] for u in without.usage) - 4 * head_tokens
