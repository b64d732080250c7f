"""Prompt-cache reads with and without shared prompt heads, in both targets, per example.

Claude Code: every compiled example (its own fake answers, `scriptPath` launch) runs in the
pinned Claude Code, offline, through the real-runtime harness (tests/claude_code: stand-in
server inside `unshare -n`, so run it as root), twice: the script as compiled, and the same
script with every `sharedHeadLength` option removed. A synthetic fan-out (8 agents sharing a
~3,000-token head) shows the mechanism's size on its own.

`wf run`: every example runs through the anthropic SDK and `AnthropicBackend` against the
local Messages stand-in (tests/runtime/replay.py: answers replayed from the example's fake
run), twice: as it runs, and with no shared heads (the interpreter's `shared_heads`
replaced by one that finds none), so the user message goes as one block.

Both stand-ins simulate the cache from the `cache_control` breakpoints the client sends,
by prefix matching with the API's 20-block lookback and 1,024-token minimum
(tests/prompt_cache.py; tokens = characters / 4). `cost` weighs the agents' input tokens as
the API prices them, in base-input-token units: uncached 1, cache write 1.25, cache read
0.1. Prints one table per target; no pass/fail.

    python bench/bench_claude_cache.py [--jobs 3] [--min-head N] [--skip-claude]

`--min-head N` compiles and runs with `shared_head.MIN_HEAD_CHARS` = N instead of 200 (to
weigh the threshold).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.claude_code.cases import EXAMPLES  # noqa: E402
from tests.claude_code.driver import claude_binary, isolated_command  # noqa: E402
from tests.runtime.replay import run_anthropic  # noqa: E402
from wflang.dsl import shared_head  # noqa: E402
from wflang.dsl.loader import load  # noqa: E402
from wflang.runtime import interpreter  # noqa: E402
from wflang.transpiler.emit import compile_js  # noqa: E402

OPTION = re.compile(r",\s*sharedHeadLength:\s*[^,}\n]+")

SYNTHETIC = """export const meta = { name: 'shared-head', description: 'eight agents, one long shared head',
  phases: [{ title: 'Fan' }] }
phase('Fan')
const head = 'You review one file of a large service. The conventions that hold everywhere:\\n' +
  'Every handler validates its input, logs with the request id, and returns typed errors.\\n'.repeat(140)
const files = ['a.py', 'b.py', 'c.py', 'd.py', 'e.py', 'f.py', 'g.py', 'h.py']
return await parallel(files.map((f) => () => agent(head + 'Review ' + f + '.',
  { label: 'review ' + f, phase: 'Fan', sharedHeadLength: head.length })))
"""


def strip_option(script: str) -> str:
    return OPTION.sub("", script)


def cost(read: int, write: int, uncached: int) -> float:
    return uncached + 1.25 * write + 0.1 * read


def compiled(example: Path) -> str:
    loaded = load(str(next(example.glob("*.wf"))))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return compile_js(loaded.program, bound=loaded.result.bound, source_name=example.name)


def claude_totals(report: dict[str, Any]) -> dict[str, Any]:
    agent = [r for r in report["requests"] if r["kind"] == "agent"]
    read, write = sum(r["cache_read"] for r in agent), sum(r["cache_write"] for r in agent)
    uncached = sum(r["input_tokens"] for r in agent)
    return {"agents": len({r["agent_id"] for r in agent}), "read": read, "write": write,
            "cost": cost(read, write, uncached),
            "split": sum(1 for r in agent if r["turn"] == 1 and r["breakpoints"] >= 4),
            "ok": report["rc"] == 0 and report.get("output") is not None}


def row(name: str, count: int, agents: int, split: int, w: dict[str, Any], wo: dict[str, Any]) -> str:
    ratio = w["read"] / wo["read"] if wo["read"] else float("nan")
    return (f"{name:24} {count:>4} {agents:>6} {split:>5} {w['read']:>10} {wo['read']:>10} {ratio:>6.2f} "
            f"{w['write']:>10} {wo['write']:>10} {w['cost']:>10.0f} {wo['cost']:>10.0f}")


HEADER = (f"{'example':24} {'sHL':>4} {'agents':>6} {'split':>5} {'read with':>10} {'read w/o':>10} "
          f"{'ratio':>6} {'write with':>10} {'write w/o':>10} {'cost with':>10} {'cost w/o':>10}")


def claude_code(jobs: int, work: Path) -> None:
    if claude_binary() is None:
        print("Claude Code is not installed (`npm ci`): its table is skipped")
        return
    cases, emitted = [], {}
    for example in EXAMPLES:
        script = compiled(example)
        emitted[example.name] = script.count("sharedHeadLength")
        fake = json.loads((example / "fake.json").read_text(encoding="utf-8"))
        args = json.loads((example / "args.json").read_text(encoding="utf-8"))
        for variant, text in (("with", script), ("without", strip_option(script))):
            cases.append({"id": f"{example.name}--{variant}", "fake": fake, "script": text,
                          "launch": {"scriptPath": "SCRIPT", "args": args}, "timeout": 300})
    emitted["(synthetic fan-out)"] = 1
    for variant, text in (("with", SYNTHETIC), ("without", strip_option(SYNTHETIC))):
        cases.append({"id": f"(synthetic fan-out)--{variant}", "fake": {}, "script": text,
                      "launch": {"scriptPath": "SCRIPT", "args": {}}, "timeout": 300})
    (work / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    started = time.monotonic()
    proc = subprocess.run(isolated_command(work / "cases.json", work / "out", jobs), capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1800)
    if proc.returncode != 0:
        print(f"the Claude Code runs failed: {proc.stderr[-2000:]}")
        return
    wall = time.monotonic() - started
    reports = {c["id"]: json.loads((work / "out" / f"{c['id']}.json").read_text(encoding="utf-8")) for c in cases}
    print("Claude Code 2.1.332 (subagent requests only)")
    print(HEADER)
    sums = {"with": [0, 0.0], "without": [0, 0.0]}
    for name, count in emitted.items():
        w, wo = claude_totals(reports[f"{name}--with"]), claude_totals(reports[f"{name}--without"])
        if not (w["ok"] and wo["ok"]):
            print(f"{name:24} run failed (with: {w['ok']}, without: {wo['ok']})")
            continue
        if name != "(synthetic fan-out)":
            for key, t in (("with", w), ("without", wo)):
                sums[key][0] += t["read"]
                sums[key][1] += t["cost"]
        print(row(name, count, w["agents"], w["split"], w, wo))
    ratio = sums["with"][0] / sums["without"][0] if sums["without"][0] else float("nan")
    print(f"{'all examples':24} {'':>4} {'':>6} {'':>5} {sums['with'][0]:>10} {sums['without'][0]:>10} "
          f"{ratio:>6.2f} {'':>10} {'':>10} {sums['with'][1]:>10.0f} {sums['without'][1]:>10.0f}")
    print(f"sHL: sharedHeadLength options in the compiled script; split: agents whose first request carried "
          f"the head as its own cached block. {len(cases)} claude runs, {wall:.0f} s wall, {jobs} at a time.")


def replay_totals(replay: Any) -> dict[str, Any]:
    read = sum(u["read"] for u in replay.usage)
    write = sum(u["write"] for u in replay.usage)
    uncached = sum(u["input"] for u in replay.usage)
    return {"read": read, "write": write, "cost": cost(read, write, uncached), "requests": len(replay.usage)}


def wf_run(work: Path) -> None:
    print("wf run, anthropic backend against the local Messages stand-in")
    print(HEADER)
    found = interpreter.shared_heads
    sums = {"with": [0, 0.0], "without": [0, 0.0]}
    started = time.monotonic()
    for example in EXAMPLES:
        wf = next(example.glob("*.wf"))
        fake = json.loads((example / "fake.json").read_text(encoding="utf-8"))
        args = json.loads((example / "args.json").read_text(encoding="utf-8"))
        loaded = load(str(wf))
        count = len(shared_head.shared_heads(loaded.program))
        try:
            interpreter.shared_heads = found
            _, with_head = run_anthropic(wf, args, fake, work / f"{example.name}-a")
            interpreter.shared_heads = lambda program: {}
            _, without = run_anthropic(wf, args, fake, work / f"{example.name}-b")
        finally:
            interpreter.shared_heads = found
        w, wo = replay_totals(with_head), replay_totals(without)
        for key, t in (("with", w), ("without", wo)):
            sums[key][0] += t["read"]
            sums[key][1] += t["cost"]
        print(row(example.name, count, w["requests"], with_head.split, w, wo))
    ratio = sums["with"][0] / sums["without"][0] if sums["without"][0] else float("nan")
    print(f"{'all examples':24} {'':>4} {'':>6} {'':>5} {sums['with'][0]:>10} {sums['without'][0]:>10} "
          f"{ratio:>6.2f} {'':>10} {'':>10} {sums['with'][1]:>10.0f} {sums['without'][1]:>10.0f}")
    print(f"sHL: agent sites with a shared head; agents: requests; split: requests sent as head block + rest. "
          f"{time.monotonic() - started:.0f} s.")


def main() -> None:
    jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 3
    if "--min-head" in sys.argv:
        shared_head.MIN_HEAD_CHARS = int(sys.argv[sys.argv.index("--min-head") + 1])
    print(f"shared head: at least {shared_head.MIN_HEAD_CHARS} static characters")
    with tempfile.TemporaryDirectory(prefix="bench-claude-cache-") as tmp:
        wf_run(Path(tmp) / "py")
        print()
        if "--skip-claude" not in sys.argv:
            (Path(tmp) / "cc").mkdir()
            claude_code(jobs, Path(tmp) / "cc")


if __name__ == "__main__":
    main()
