"""What the real-runtime suite runs, and what it expects.

For each example: `wf compile` gives the script, `wf check --args --json` the bound and the
declared permissions, and wflang's own Python runtime on the same fake answers (the engine
of `wf run --fake`) gives the expected result and the expected multiset of (label, prompt)
calls. Each example runs with three answer sets (its own fake file, schema-shaped worst-case
answers, and its own file with every third agent failing), each in a different launch mode
(`scriptPath`, inline `script`, a saved `.claude/workflows/NAME.js` called by name, and the
`/NAME text` command), so every example is seen in three modes and every mode runs every
answer set.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from tests.claude_code.stand_in import COMMAND_ARGS
from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.loader import load
from wflang.runtime.backend import AgentRequest, AgentResult
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, Scheduler
from wflang.transpiler.emit import compile_script

ROOT = Path(__file__).resolve().parents[2]
# Examples ported from public Claude Code workflow scripts (issue 10), each run once, with its
# own answers, in one launch mode (a port whose args.json is a string runs as `/NAME text`, the
# text itself), so each adds one claude process to the suite rather than three.
PORTS: dict[str, str] = {
    "range-review": "command",
    "grounded-research": "command",
    "support-triage": "saved",
    "security-audit": "path",
    "dimension-review": "inline",
    "proven-bug-hunt": "saved",
    "research-to-pr": "path",
    "category-audit": "inline",
}
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir()
                  if p.is_dir() and any(p.glob("*.wf")) and p.name not in PORTS)
PORT_EXAMPLES = sorted(ROOT / "examples" / name for name in PORTS)
EXTRA = sorted(p for p in (Path(__file__).resolve().parent / "workflows").iterdir() if p.is_dir())
MODES = ("path", "inline", "saved", "command")
ANSWERS = ("own", "schema-shaped", "every-third-fails")
# Tools that change files or run commands; a read-only workflow's agents get none of them.
WRITE_TOOLS = frozenset({"Bash", "Edit", "Write", "NotebookEdit"})


@dataclass
class Expected:
    bound: int
    value: Any
    calls: Counter[tuple[str, str]]
    permissions: list[str]
    failed: int = 0  # calls the fake answers fail
    # (label, prompt) -> the capabilities the Python runtime granted that call (`capabilities`)
    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # (label, prompt) -> the shared heads the Python runtime marked for that call (None: none)
    heads: dict[tuple[str, str], set[str | None]] = field(default_factory=dict)
    # label -> why the Python runtime failed that agent before it started (an unknown agent
    # type, a worktree outside git): Claude Code counts those in agentCount but sends nothing
    unstarted: dict[str, str] = field(default_factory=dict)


@dataclass
class Case:
    id: str
    example: str
    mode: str
    answers: str
    payload: dict[str, Any]  # what driver.py reads
    expected: Expected | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def compiled(example: Path, out_dir: Path) -> tuple[str, dict[str, Any]]:
    """(the compiled script, the bound for the example's arguments and the declared
    permissions), computed in this process as `wf compile` and `wf check --args` compute
    them (a subprocess per example cost the suite a minute under load;
    tests/test_cli.py covers the commands themselves)."""
    source = next(example.glob("*.wf"))
    loaded = load(str(source))
    assert loaded.ok and loaded.result is not None, [d.message for d in loaded.diagnostics]
    script, _ = compile_script(loaded.program, bound=loaded.result.bound, source_name=source.name)
    (out_dir / f"{example.name}.js").write_text(script, encoding="utf-8")
    values, problems = validate_args(loaded.program, json.loads((example / "args.json").read_text(encoding="utf-8")))
    assert not problems, [d.message for d in problems]
    bound = loaded.result.bound.evaluate(sizes(loaded.program, values))
    return script, {"args": {"bound": {"total": bound}}, "permissions": list(loaded.program.header.permissions)}


def fake_answers(example: Path, answers: str) -> dict[str, Any]:
    own = json.loads((example / "fake.json").read_text(encoding="utf-8"))
    if answers == "own":
        return own
    if answers == "schema-shaped":
        return {"rules": [], "default": "schema"}
    return {**own, "fail_one_in": 3}


def python_run(example: Path, args: Any, fake: dict[str, Any],
               work: Path) -> tuple[Any, list[dict[str, Any]], dict[str, str]]:
    """The Python runtime on fake answers, as `wf run --fake` runs it: (result, calls, and
    the error of each agent that failed before it started, by label)."""
    loaded = load(str(next(example.glob("*.wf"))))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    values, problems = validate_args(loaded.program, args)
    assert not problems, [d.message for d in problems]
    bound = loaded.result.bound.evaluate(sizes(loaded.program, values))
    backend = _CapabilityRecorder(fake)
    work.mkdir(parents=True, exist_ok=True)
    granted = frozenset(loaded.program.header.permissions)  # as `wf run --allow` grants them
    scheduler = Scheduler(backend, str(work), Limits(bound=bound), permissions=granted)
    outcome = trio.run(run_program, loaded.program, values, scheduler)
    for call, request in zip(backend.calls, backend.requests, strict=True):
        call["capabilities"] = capabilities(request)
    asked = Counter(c["label"] for c in backend.calls)
    unstarted = {a.label: a.error or "" for a in scheduler.agents
                 if a.status == "failed" and not asked[a.label]}
    return outcome.value, backend.calls, unstarted


def heads_of(calls: list[dict[str, Any]]) -> dict[tuple[str, str], set[str | None]]:
    out: dict[tuple[str, str], set[str | None]] = {}
    for call in calls:
        out.setdefault((call["label"], call["prompt"]), set()).add(call["shared_head"])
    return out


def grants_of(calls: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for call in calls:
        out.setdefault((call["label"], call["prompt"]), set()).add(call["capabilities"])
    return out


def capabilities(request: AgentRequest) -> str:
    """What the Python runtime lets this agent do: "none" (tools=none), or the granted
    capabilities beyond reading, "read" when there are none."""
    if request.toolless:
        return "none"
    return ",".join(sorted(p for p in request.permissions if p in ("edit", "shell"))) or "read"


class _CapabilityRecorder(FakeBackend):
    """The fake backend, also keeping each request (for the capabilities it was granted)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec)
        self.requests: list[AgentRequest] = []

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        self.requests.append(request)  # no await before the backend records the call: same order
        return await super().run_agent(request, workspace)


def longest_first(cases: list[Case]) -> list[Case]:
    """The cases in the order the driver should start them: the ones with the most agents
    first (a claude process costs about 45 ms of CPU per agent on top of its start-up), so
    that the longest run does not start last and set the suite's wall time alone."""
    return sorted(cases, key=lambda c: -sum(c.expected.calls.values()) if c.expected else 0)


def planned() -> list[tuple[Path, str, str]]:
    """(example folder, answer set, launch mode) of every example run: the examples
    rotated over the modes, the ports once each in their mode (PORTS), then the harness's own
    workflows (tests/claude_code/workflows, permission combinations no example has) with their
    own answers by `scriptPath`."""
    runs = [(example, answers, MODES[(i + j) % len(MODES)])
            for i, example in enumerate(EXAMPLES) for j, answers in enumerate(ANSWERS)]
    ports = [(port, "own", PORTS[port.name]) for port in PORT_EXAMPLES]
    return runs + ports + [(extra, "own", "path") for extra in EXTRA]


def case_id(example: Path, answers: str, mode: str) -> str:
    return f"{example.name}--{answers}--{mode}"


def example_cases(work: Path, only: set[str] | None = None) -> list[Case]:
    """Every planned example run, or only the ones whose case id is in `only`."""
    cases = []
    built: dict[Path, tuple[str, dict[str, Any]]] = {}
    for example, answers, mode in planned():
        if only is not None and case_id(example, answers, mode) not in only:
            continue
        if example not in built:
            built[example] = compiled(example, work)
        script, check = built[example]
        args = json.loads((example / "args.json").read_text(encoding="utf-8"))
        name = re.search(r"name: '([^']+)'", script)
        assert name, "the compiled script has no meta.name"
        fake = fake_answers(example, answers)
        value, calls, unstarted = python_run(example, args, fake, work / f"py-{example.name}-{answers}")
        launch: dict[str, Any] = {"path": {"scriptPath": "SCRIPT", "args": args},
                                  "inline": {"script": "SCRIPT", "args": args},
                                  "saved": {"name": name.group(1), "args": args},
                                  "command": {"name": name.group(1), "args": COMMAND_ARGS}}[mode]
        payload = {"id": case_id(example, answers, mode), "fake": fake, "script": script,
                   "launch": launch, "timeout": 240}
        if mode in ("saved", "command"):
            payload["save_as"] = name.group(1)
        if mode == "command":  # `/NAME text`: the text is the JSON of the arguments, or a string's text
            payload["prompt"] = f"/{name.group(1)} {args if isinstance(args, str) else json.dumps(args)}"
        expected = Expected(bound=check["args"]["bound"]["total"], value=value,
                            calls=Counter((c["label"], c["prompt"]) for c in calls),
                            permissions=list(check.get("permissions") or []),
                            failed=sum(1 for c in calls if c["failed"]), grants=grants_of(calls),
                            heads=heads_of(calls), unstarted=unstarted)
        cases.append(Case(payload["id"], example.name, mode, answers, payload, expected))
    return cases


CONTROL_META = "export const meta = { name: 'control', description: 'a control', phases: [{ title: 'P' }] }\n"


def control_cases(work: Path) -> list[Case]:
    """Scripts whose outcome in Claude Code is known, so the harness is shown to see
    failures, plus a tampered example the comparison must catch and a probe of how Claude
    Code treats a StructuredOutput list longer than maxItems."""
    long_schema = ("{ type: 'object', required: ['items'], properties: { items: { type: 'array', "
                   "items: { type: 'string' }, maxItems: 2 } } }")
    scripts = {
        "bad-meta": "export const meta = { description: 'no name' }\nreturn await agent('x', { label: 'x' })\n",
        "parse-error": CONTROL_META + "phase('P')\nconst x = await agent('x', { label: 'x' }\nreturn x\n",
        "date-now": CONTROL_META + "phase('P')\nconst t = Date.now()\nreturn await agent('at ' + t, { label: 'x' })\n",
        "array-schema": CONTROL_META + "phase('P')\nreturn await agent('x', { label: 'x', schema: "
                        "{ type: 'array', items: { type: 'string' } } })\n",
        "over-long-list": CONTROL_META + "phase('P')\nconst S = " + long_schema + "\nconst out = {}\n"
                          "for (const k of ['repeats', 'corrects']) {\n"
                          "  out[k] = await agent('list ' + k, { label: k, schema: S })"
                          ".catch((e) => 'error: ' + e.message)\n}\nreturn out\n",
    }
    cases = []
    for name, script in scripts.items():
        payload: dict[str, Any] = {"id": f"control--{name}", "fake": {}, "script": script,
                                   "launch": {"scriptPath": "SCRIPT", "args": {}}, "timeout": 120}
        if name == "over-long-list":
            four = {"items": ["a", "b", "c", "d"]}
            payload["overrides"] = {"repeats": [four], "corrects": [four, {"items": ["a", "b"]}]}
        cases.append(Case(payload["id"], "control", "path", name, payload))
    # The shared-head workflow without its sharedHeadLength: what its cache reads are compared with.
    extra = next(e for e in EXTRA if e.name == "shared-head")
    script, check = compiled(extra, work)
    stripped = re.sub(r",\s*sharedHeadLength:\s*\d+", "", script)
    assert stripped != script, "the shared-head workflow compiles to no sharedHeadLength"
    args = json.loads((extra / "args.json").read_text(encoding="utf-8"))
    fake = fake_answers(extra, "own")
    value, calls, _ = python_run(extra, args, fake, work / "py-stripped")
    payload = {"id": "control--shared-head-stripped", "fake": fake, "script": stripped,
               "launch": {"scriptPath": "SCRIPT", "args": args}, "timeout": 120}
    cases.append(Case(payload["id"], "shared-head", "path", "stripped", payload,
                      Expected(check["args"]["bound"]["total"], value,
                               Counter((c["label"], c["prompt"]) for c in calls), [])))
    # The comparison itself must see a difference: one prompt of the example changed.
    example = ROOT / "examples" / "majority-vote"
    script, check = compiled(example, work)
    tampered = script.replace("Write the announcement", "Write an announcement", 1)
    assert tampered != script, "the tampering control needs the announcement prompt in majority-vote"
    args = json.loads((example / "args.json").read_text(encoding="utf-8"))
    fake = fake_answers(example, "own")
    value, calls, _ = python_run(example, args, fake, work / "py-tampered")
    payload = {"id": "control--tampered-prompt", "fake": fake, "script": tampered,
               "launch": {"scriptPath": "SCRIPT", "args": args}, "timeout": 120}
    cases.append(Case(payload["id"], "majority-vote", "path", "tampered", payload,
                      Expected(check["args"]["bound"]["total"], value,
                               Counter((c["label"], c["prompt"]) for c in calls), [])))
    return cases
