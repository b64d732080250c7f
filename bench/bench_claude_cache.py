"""Prompt-cache reads in real Claude Code, with and without `sharedHeadLength`.

Runs every compiled example (its own fake answers, `scriptPath` launch) in the pinned
Claude Code, offline, through the real-runtime harness (tests/claude_code: stand-in server
inside `unshare -n`, so run it as root), twice: the script as compiled, and the same script
with every `sharedHeadLength` option removed. A synthetic fan-out (8 agents sharing a
~3,000-token head) shows the mechanism's size on its own. The stand-in simulates the cache
from the `cache_control` breakpoints Claude Code sends (a prefix seen before is read, tokens
= characters / 4), so the figures are the tokens a real cache would read for these requests.
Prints, per example, the subagents' cache-read and cache-write tokens both ways and the
ratio; no pass/fail.

    python bench/bench_claude_cache.py [--jobs 3]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.claude_code.cases import EXAMPLES, compiled  # noqa: E402
from tests.claude_code.driver import claude_binary, isolated_command  # noqa: E402

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


def totals(report: dict) -> dict:
    agent = [r for r in report["requests"] if r["kind"] == "agent"]
    return {"agents": len({r["agent_id"] for r in agent}), "requests": len(agent),
            "read": sum(r["cache_read"] for r in agent), "write": sum(r["cache_write"] for r in agent),
            "split": sum(1 for r in agent if r["turn"] == 1 and r["breakpoints"] >= 4),
            "ok": report["rc"] == 0 and report.get("output") is not None, "seconds": report["seconds"]}


def main() -> None:
    jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 3
    if claude_binary() is None:
        sys.exit("Claude Code is not installed: run `npm ci`")
    with tempfile.TemporaryDirectory(prefix="bench-claude-cache-") as tmp:
        work = Path(tmp)
        cases, emitted = [], {}
        for example in EXAMPLES:
            script, _ = compiled(example, work)
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
            sys.exit(proc.stderr[-2000:])
        wall = time.monotonic() - started
        reports = {c["id"]: json.loads((work / "out" / f"{c['id']}.json").read_text(encoding="utf-8"))
                   for c in cases}
    print(f"{'example':24} {'sHL':>4} {'agents':>6} {'split':>5} {'read with':>10} {'read w/o':>10} "
          f"{'ratio':>6} {'write with':>10} {'write w/o':>10}")
    sums = {"with": 0, "without": 0}
    for name, count in emitted.items():
        w, wo = totals(reports[f"{name}--with"]), totals(reports[f"{name}--without"])
        if not (w["ok"] and wo["ok"]):
            print(f"{name:24} run failed (with: {w['ok']}, without: {wo['ok']})")
            continue
        if name != "(synthetic fan-out)":
            sums["with"] += w["read"]
            sums["without"] += wo["read"]
        ratio = w["read"] / wo["read"] if wo["read"] else float("nan")
        print(f"{name:24} {count:>4} {w['agents']:>6} {w['split']:>5} {w['read']:>10} {wo['read']:>10} "
              f"{ratio:>6.2f} {w['write']:>10} {wo['write']:>10}")
    ratio = sums["with"] / sums["without"] if sums["without"] else float("nan")
    print(f"{'all examples':24} {'':>4} {'':>6} {'':>5} {sums['with']:>10} {sums['without']:>10} {ratio:>6.2f}")
    print(f"sHL: sharedHeadLength options in the compiled script; split: agents whose first request "
          f"carried the head as its own cached block. {len(cases)} claude runs, {wall:.0f} s wall, "
          f"{jobs} at a time.")


if __name__ == "__main__":
    main()
