"""`sharedHeadLength` in the compiled script (wflang/dsl/shared_head.py): emitted where a
fan-out's agents share a long static head, counted in UTF-16 code units as Claude Code's
`prompt.slice(0, n)` counts, and split at the same text as the Python runtime splits."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.test_differential import run_both
from wflang.dsl.loader import load
from wflang.transpiler.emit import compile_js

HEAD = "Shared context \U0001F9EA for every file: the handlers validate input and log the request id. " * 3

SOURCE = f'''workflow heads:
    description: "a fan-out whose agents share a long head"

input files: list[str] max 5

phase "Review":
    found = fanout f in files:
        agent "{HEAD}Now review {{f}}." -> list[str] max 2
    summary = agent "{HEAD}Summarise {{found}}."
return summary
'''


def compiled(tmp_path: Path) -> tuple[Path, str]:
    wf = tmp_path / "heads.wf"
    wf.write_text(SOURCE, encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return wf, compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name)


def test_the_fan_out_gets_a_shared_head_and_the_single_agent_none(tmp_path: Path) -> None:
    _, script = compiled(tmp_path)
    lengths = re.findall(r"sharedHeadLength: (\d+)", script)
    head = HEAD + "Now review "
    assert lengths == [str(len(head) + 3)]  # one 🧪 per copy: two UTF-16 code units each


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed; the JS target cannot be run here")
def test_both_targets_split_at_the_same_text(tmp_path: Path) -> None:
    wf, _ = compiled(tmp_path)
    both = run_both(wf, {"files": ["a.py", "b.py", "c.py"]}, {"rules": [], "default": "schema"}, tmp_path)
    js = sorted((c["label"], c["shared_head"]) for c in both["js"]["calls"])
    py = sorted((c["label"], c["shared_head"]) for c in both["py_calls"])
    assert js == py
    assert [h for _, h in js].count(HEAD + "Now review ") == 3 and [h for _, h in js].count(None) == 1
