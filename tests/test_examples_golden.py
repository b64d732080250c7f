"""Every example run by `wf run` (real process, fake answers, SQLite journal) gives what
81d1a1c gave, the tree before this session's fast paths: the exit code, the result, the
agent counts, the plan printed before the first agent, and the journal's agent rows
(content key, label, prompt, schema, status, result, error, tokens; less ids and times),
each row by its sha256 next to its label; then again from the program cache. The golden (examples_golden.json) was recorded
from a checkout of 81d1a1c and reviewed. Rows are compared as sorted lists: agents that
run at once are journaled in any order, on 81d1a1c too.

When a change of behaviour is meant (an example edited, a prompt reworded), record again
from this tree and review the diff: WF_RECORD_GOLDEN=1 python3 -m pytest tests/test_examples_golden.py
(WF_GOLDEN_TREE=DIR records from the tree at DIR instead)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / f"{p.name}.wf").is_file())
GOLDEN = Path(__file__).with_name("examples_golden.json")
RECORD = bool(os.environ.get("WF_RECORD_GOLDEN"))
TREE = Path(os.environ.get("WF_GOLDEN_TREE") or ROOT)
COLUMNS = ("key", "sample_index", "label", "phase", "model", "model_id", "effort", "agent_type", "isolation",
           "prompt", "schema_json", "status", "result_json", "error", "input_tokens", "output_tokens",
           "cache_read_tokens", "cache_write_tokens")


def story(name: str, ws: Path, cache: Path) -> dict:
    d = EXAMPLES_DIR / name
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(PYTHONPATH=str(TREE), XDG_CACHE_HOME=str(cache))
    ws.mkdir()
    proc = subprocess.run([sys.executable, "-m", "wflang", "run", str(d / f"{name}.wf"), "--args",
                           str(d / "args.json"), "--fake", str(d / "fake.json"), "--allow", "edit,shell", "--yes",
                           "--json", "--workspace", str(ws)], cwd=ws, env=env, capture_output=True, text=True,
                          timeout=120)
    record = json.loads(proc.stdout)
    plan = proc.stderr.split("\nrun r-", 1)[0].replace(str(EXAMPLES_DIR), "EXAMPLES").splitlines()
    with sqlite3.connect(ws / ".wf" / "journal.sqlite") as db:
        rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM agents").fetchall()
    hashed = sorted([r[2], hashlib.sha256(json.dumps(r).encode()).hexdigest()[:16]] for r in rows)
    return {"code": proc.returncode, "status": record["status"], "result": record["result"],
            "agents": record["agents"], "plan": plan, "rows": hashed}


def test_the_golden_covers_every_example() -> None:
    if RECORD:
        pytest.skip("recording")
    assert sorted(json.loads(GOLDEN.read_text(encoding="utf-8"))) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_runs_as_it_did_before_the_fast_paths(name: str, tmp_path: Path) -> None:
    got = story(name, tmp_path / "ws", tmp_path / "cache")
    if RECORD:
        golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        golden[name] = got
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    assert got["code"] == want["code"] == 0
    assert (got["status"], got["agents"], got["plan"]) == (want["status"], want["agents"], want["plan"])
    assert got["result"] == want["result"]
    assert got["rows"] == want["rows"]  # a label whose hash differs: its prompt, schema, key or answer changed
    assert re.fullmatch(r"[0-9a-f]{16}", want["rows"][0][1])
    # The same from the checked-program cache the first run left (a second process).
    assert story(name, tmp_path / "ws2", tmp_path / "cache") == got
