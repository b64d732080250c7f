"""Runs cases in real Claude Code, inside a network namespace with only loopback.

`python3 -m tests.claude_code.driver CASES.json OUT_DIR [--jobs N]` is started by the
tests as `unshare -n python3 -m tests.claude_code.driver ...` (see `isolated_command`). It
refuses to run when the namespace has any interface or route beyond loopback, brings `lo`
up, and then, for each case, with at most N cases at once: makes a temporary HOME and
project folder, starts a stand-in Messages API server (stand_in.py) in this process, runs

    claude -p PROMPT --output-format stream-json --verbose --allowedTools Workflow

against it, and writes OUT_DIR/<case id>.json: exit status, the stream-json events, the
`<task-notification>` text, every request the stand-in saw, and the workflow's own files
under HOME (agent metadata, the run's log).

A case is a JSON object:
    id            unique name (the report's file name)
    fake          the fake-answer object (docs/fake-answers.md)
    launch        the Workflow tool input: {"scriptPath": "SCRIPT"} / {"script": "SCRIPT"} /
                  {"name": NAME}, plus "args"; the text "SCRIPT" is replaced by the
                  script's path (scriptPath) or text (script)
    script        the compiled workflow script (JS text)
    save_as       optional NAME: also write the script to <project>/.claude/workflows/NAME.js
    repair        optional "repeat" (default) or "text": what a schema agent's later turns get
    overrides     optional {label: [StructuredOutput input for turn 1, 2, ...]} bypassing the fake
    timeout       optional seconds for the claude process (default 240)
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.claude_code.stand_in import Launch, StandIn, records_json
from wflang.runtime.backends.fake import FakeBackend

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Run the workflow."


def claude_binary() -> Path | None:
    """The pinned claude from `npm ci` (package.json), or None when it is not installed.
    The platform package's binary is used when npm left the wrapper's placeholder in place
    (its postinstall copies the binary over it)."""
    for candidate in (ROOT / "node_modules" / ".bin" / "claude",
                      ROOT / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"):
        try:
            if candidate.is_file() and os.access(candidate, os.X_OK) and candidate.stat().st_size > 1_000_000:
                return candidate
        except OSError:
            continue
    return None


def isolation_problem() -> str | None:
    """Why this process's network namespace is not loopback-only, or None when it is."""
    try:
        dev = Path("/proc/self/net/dev").read_text().splitlines()[2:]
        route = Path("/proc/self/net/route").read_text().splitlines()[1:]
        route6 = Path("/proc/self/net/ipv6_route").read_text().splitlines()
    except OSError as exc:
        return f"cannot read the network configuration: {exc}"
    interfaces = sorted(line.split(":")[0].strip() for line in dev if ":" in line)
    if interfaces != ["lo"]:
        return f"network interfaces besides loopback: {', '.join(i for i in interfaces if i != 'lo')}"
    if any(line.split() for line in route):
        return "an IPv4 route exists"
    if any(line.split() and line.split()[-1] != "lo" for line in route6):
        return "an IPv6 route beyond loopback exists"
    return None


def bring_up_loopback() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True, timeout=10)


def _environment(home: Path, url: str, tmp: Path) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    return {
        **keep,
        "HOME": str(home),
        "TMPDIR": str(tmp),  # the task output files go here, and are removed with it
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "sk-ant-stand-in-not-a-key",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "NO_COLOR": "1",
    }


def _launch_input(case: dict[str, Any], script_path: Path) -> dict[str, Any]:
    tool_input = dict(case["launch"])
    if tool_input.get("scriptPath") == "SCRIPT":
        tool_input["scriptPath"] = str(script_path)
    if tool_input.get("script") == "SCRIPT":
        tool_input["script"] = case["script"]
    return tool_input


def _workflow_files(home: Path, project: Path) -> dict[str, str]:
    """The workflow runtime's own files (agent metadata, logs, the run's state), by path
    relative to HOME or the project, cut to 20,000 characters each."""
    out: dict[str, str] = {}
    for base, tag in ((home / ".claude", "home"), (project / ".claude", "project")):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.suffix not in (".json", ".jsonl", ".log", ".md", ".txt"):
                continue
            rel = f"{tag}/{path.relative_to(base)}"
            if "workflow" in rel or path.name.startswith("agent-"):
                try:
                    out[rel] = path.read_text(encoding="utf-8", errors="replace")[:20000]
                except OSError:
                    pass
    return out


def _task_output(notification: str) -> Any:
    """The workflow's task output file named in the notification (JSON with summary,
    agentCount, logs, result), decoded; None when absent or unreadable."""
    match = re.search(r"<output-file>(.*?)</output-file>", notification, re.S)
    if not match:
        return None
    try:
        return json.loads(Path(html.unescape(match.group(1))).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_case(case: dict[str, Any], binary: Path, out_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    # A fixed-length folder name: the path is in every agent's system prompt, so runs of the
    # same script under different case ids send requests of the same size.
    tag = hashlib.sha256(case["id"].encode()).hexdigest()[:8]
    with tempfile.TemporaryDirectory(prefix=f"wf-claude-{tag}-") as tmp:
        home, project, scratch = Path(tmp) / "home", Path(tmp) / "project", Path(tmp) / "tmp"
        (home / ".claude").mkdir(parents=True)
        project.mkdir()
        scratch.mkdir()
        (home / ".claude" / "settings.json").write_text(json.dumps({"enableWorkflows": True}))
        script_path = project / "workflow.js"
        script_path.write_text(case["script"], encoding="utf-8")
        if case.get("save_as"):
            saved = project / ".claude" / "workflows" / f"{case['save_as']}.js"
            saved.parent.mkdir(parents=True)
            saved.write_text(case["script"], encoding="utf-8")
        fake = FakeBackend(case["fake"], source=f"{case['id']} fake answers")
        server = StandIn(home, fake, Launch(_launch_input(case, script_path)),
                         repair=case.get("repair", "repeat"), overrides=case.get("overrides"),
                         lifetime=float(case.get("timeout", 240)) + 30).start()
        cmd = [str(binary), "-p", case.get("prompt", PROMPT), "--output-format", "stream-json", "--verbose",
               "--allowedTools", "Workflow"]
        timed_out = False
        try:
            proc = subprocess.run(cmd, cwd=project, env=_environment(home, server.url, scratch), capture_output=True,
                                  text=True, timeout=float(case.get("timeout", 240)), stdin=subprocess.DEVNULL)
            rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            timed_out = True
            rc = None
            stdout = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        finally:
            server.stop()
        events = []
        for line in stdout.splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                events.append({"unparsed": line[:2000]})
        notifications = [r.last_user for r in server.records if r.kind == "notification"]
        output = _task_output(notifications[-1] if notifications else "")
        report = {
            "id": case["id"], "rc": rc, "timed_out": timed_out, "seconds": round(time.monotonic() - started, 2),
            "stderr": stderr[-5000:], "events": events, "notification": notifications[-1] if notifications else None,
            "output": output,
            "requests": records_json(server.records), "overrun": server.overrun, "stand_in_errors": server.errors,
            "raw": server.raw, "files": _workflow_files(home, project),
        }
    (out_dir / f"{case['id']}.json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return report


def main(argv: list[str]) -> int:
    jobs = 2
    if "--jobs" in argv:
        i = argv.index("--jobs")
        jobs = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    cases_path, out_dir = Path(argv[0]), Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    problem = isolation_problem()
    if problem is not None:
        (out_dir / "refused.txt").write_text(problem)
        print(f"refusing to run Claude Code: {problem} (run inside `unshare -n`)", file=sys.stderr)
        return 3
    bring_up_loopback()
    binary = claude_binary()
    if binary is None:
        print("claude is not installed (run `npm ci`)", file=sys.stderr)
        return 4
    cases = json.loads(cases_path.read_text(encoding="utf-8"))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(lambda c: run_case(c, binary, out_dir), cases))
    return 0


def isolated_command(cases: Path, out_dir: Path, jobs: int) -> list[str]:
    """The command that runs the driver in a fresh network namespace with only loopback."""
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "-n", sys.executable, "-m", "tests.claude_code.driver", str(cases), str(out_dir),
            "--jobs", str(jobs)]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
