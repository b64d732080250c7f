"""What `wf runs` and `wf show RUN_ID` print: pure functions from journal records to a
rich `Console` (so tests capture them with `Console(record=True)`), and `--json` forms
as plain dicts.

Journal text (labels, prompts, errors, log lines) is user data: it is rendered as `Text`,
never parsed as rich markup, so a `[bold]` in a prompt prints as typed.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.json import JSON
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from wflang.runtime.backend import Usage
from wflang.runtime.journal import AgentRecord, LogRecord, PhaseSummary, RunDetail, RunRecord, RunSummary

_STATUS_STYLE = {
    "running": "yellow",
    "done": "green",
    "failed": "red",
    "interrupted": "magenta",
}
NO_PHASE = "(no phase)"


# ---------------------------------------------------------------------------- formatting


def format_time(epoch: float | None, seconds: bool = True) -> str:
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.localtime(epoch))


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_tokens(n: int) -> str:
    return f"{n:,}"


def _status(status: str) -> Text:
    return Text(status, style=_STATUS_STYLE.get(status, ""))


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


# ---------------------------------------------------------------------------- wf runs


def render_runs(console: Console, runs: list[RunSummary]) -> None:
    if not runs:
        console.print("No runs in this workspace yet.", markup=False)
        return
    # Sized to fit 80 columns: every column but the workflow name keeps its width, the
    # name folds; the id already carries the start second, so "started" shows minutes.
    table = Table(
        title="runs",
        title_justify="left",
        box=None,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold underline",
    )
    table.add_column("id", no_wrap=True)
    table.add_column("workflow", overflow="fold", min_width=8)
    table.add_column("status", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("agents\nok/fail", justify="right", no_wrap=True)
    table.add_column("output\ntokens", justify="right", no_wrap=True)
    for run in runs:
        table.add_row(
            Text(run.id),
            Text(run.workflow),
            _status(run.status),
            format_time(run.started, seconds=False),
            f"{run.agents_done}/{run.agents_failed}",
            format_tokens(run.usage.output_tokens),
        )
    console.print(table)
    # Which runs `wf run FILE --resume ID` takes as they are; a done one only after an edit.
    resumable = [r for r in runs if r.resumable]
    if resumable:
        console.print(Text("can be resumed: " + ", ".join(f"{r.id} ({r.status})" for r in resumable)))
        first = resumable[0]
        console.print(Text(f"  with: wf run {first.source_path or 'FILE'} --resume {first.id}"))
    if any(r.status == "done" for r in runs):
        console.print(Text("a done run can be resumed after an edit of its workflow or arguments: only the "
                           "agents whose request changed run again"))


def runs_json(runs: list[RunSummary]) -> list[dict[str, Any]]:
    return [
        {
            "id": run.id,
            "workflow": run.workflow,
            "status": run.status,
            "started": _iso(run.started),
            "finished": _iso(run.finished),
            "agents_done": run.agents_done,
            "agents_failed": run.agents_failed,
            "usage": run.usage.as_dict(),
            "source_path": run.source_path,
            "resumable": run.resumable,
        }
        for run in runs
    ]


# ---------------------------------------------------------------------------- wf show


def render_run(console: Console, detail: RunDetail, full: bool = False) -> None:
    """The run's story: header, arguments, phases, then every agent with the beginning of
    its prompt and answer (`full`: all of them), the log and the result."""
    run = detail.run
    console.print(_header(run, detail.usage))
    console.print(Text("args", style="bold"))
    console.print(JSON.from_data(run.args, indent=2))
    console.print(_phase_table(detail.phases))
    for phase in detail.phases:
        console.print(Text(f"agents: {phase.phase or NO_PHASE}", style="bold"))
        for agent in (a for a in detail.agents if a.phase == phase.phase):
            console.print(_agent_story(agent, full, max(20, console.width - 15)))
    if detail.logs:
        console.print(Text("log", style="bold"))
        for line in detail.logs:
            console.print(_log_line(line))
    if run.error:
        console.print(Panel(Text(run.error), title="error", border_style="red", title_align="left"))
    if run.status == "done":
        console.print(Text("result", style="bold"))
        console.print(JSON.from_data(run.result, indent=2))


def _header(run: RunRecord, usage: Usage) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    title = Text.assemble((run.id, "bold"), "  ", run.workflow, "  ", _status(run.status))
    grid.add_row("run", title)
    grid.add_row("source", Text(f"{run.source_path}  (sha256 {run.source_sha256[:12]})"))
    elapsed = None if run.finished is None else run.finished - run.started
    grid.add_row(
        "started",
        f"{format_time(run.started)}   finished {format_time(run.finished)}"
        f"   elapsed {format_duration(elapsed)}",
    )
    if run.resumes:
        grid.add_row("resumed", f"{run.resumes} time(s)")
    if run.bound is not None:
        grid.add_row("bound", Text(json.dumps(run.bound, ensure_ascii=False)))
    grid.add_row(
        "tokens",
        f"input {format_tokens(usage.input_tokens)}   output {format_tokens(usage.output_tokens)}"
        f"   cache read {format_tokens(usage.cache_read_tokens)}"
        f"   cache write {format_tokens(usage.cache_write_tokens)}",
    )
    return grid


def _phase_table(phases: list[PhaseSummary]) -> Table:
    table = Table(title="phases", title_justify="left")
    for name, justify in [
        ("phase", "left"),
        ("done", "right"),
        ("failed", "right"),
        ("input tokens", "right"),
        ("output tokens", "right"),
        ("agent time", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in phases:
        table.add_row(
            Text(p.phase or NO_PHASE),
            str(p.agents_done),
            str(p.agents_failed),
            format_tokens(p.usage.input_tokens),
            format_tokens(p.usage.output_tokens),
            format_duration(p.agent_seconds),
        )
    if not phases:
        table.add_row("no agents", "", "", "", "", "")
    return table




def check_failed(agent: AgentRecord) -> bool:
    """A `check` (schema {passed, details}) that answered, and did not pass."""
    props = (agent.schema or {}).get("properties") or {}
    return (agent.status == "done" and set(props) == {"passed", "details"} and isinstance(agent.result, dict)
            and not agent.result.get("passed"))


def answer_text(agent: AgentRecord) -> str:
    if agent.status != "done":
        return agent.error or "no value"
    if isinstance(agent.result, str):
        return agent.result
    return json.dumps(agent.result, ensure_ascii=False)


def _preview(text: str, full: bool, width: int) -> str:
    """All of it (`--full`), else its beginning on one line of the terminal."""
    if full:
        return text
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _agent_story(agent: AgentRecord, full: bool, width: int) -> Text:
    if check_failed(agent):
        status = Text("check failed", style="bold red")
    else:
        status = _status(agent.status)
    head = Text.assemble(("  ", ""), (agent.label, "bold"), "  ", status,
                         f"  in {format_tokens(agent.usage.input_tokens)} / out "
                         f"{format_tokens(agent.usage.output_tokens)} tokens  {format_duration(agent.duration)}")
    indent = "\n" + " " * 14
    prompt = _preview(agent.prompt, full, width).replace("\n", indent)
    answer = _preview(answer_text(agent), full, width).replace("\n", indent)
    style = "red" if agent.status != "done" or check_failed(agent) else ""
    return Text.assemble(head, ("\n    prompt:   ", "dim"), prompt,
                         ("\n    " + ("error:    " if agent.status != "done" else "answer:   "), "dim"),
                         (answer, style))


def _log_line(line: LogRecord) -> Text:
    prefix = f"{format_time(line.time)} "
    phase = f"[{line.phase}] " if line.phase else ""
    return Text.assemble((prefix, "dim"), (phase, "cyan"), line.message)


def run_json(detail: RunDetail) -> dict[str, Any]:
    run = detail.run
    return {
        "id": run.id,
        "workflow": run.workflow,
        "status": run.status,
        "source_path": run.source_path,
        "source_sha256": run.source_sha256,
        "args": run.args,
        "bound": run.bound,
        "started": _iso(run.started),
        "finished": _iso(run.finished),
        "resumes": run.resumes,
        "usage": detail.usage.as_dict(),
        "phases": [
            {
                "phase": p.phase,
                "agents_done": p.agents_done,
                "agents_failed": p.agents_failed,
                "usage": p.usage.as_dict(),
                "agent_seconds": p.agent_seconds,
            }
            for p in detail.phases
        ],
        "agents": [_agent_json(a) for a in detail.agents],
        "logs": [
            {"seq": line.seq, "time": _iso(line.time), "phase": line.phase, "message": line.message}
            for line in detail.logs
        ],
        "error": run.error,
        "result": run.result,
    }


def _agent_json(agent: AgentRecord) -> dict[str, Any]:
    return {
        "key": agent.key,
        "label": agent.label,
        "phase": agent.phase,
        "sample_index": agent.sample_index,
        "model": agent.model,
        "model_id": agent.model_id,
        "effort": agent.effort,
        "agent_type": agent.agent_type,
        "isolation": agent.isolation,
        "status": agent.status,
        "prompt": agent.prompt,
        "schema": agent.schema,
        "result": agent.result,
        "error": agent.error,
        "usage": agent.usage.as_dict(),
        "started": _iso(agent.started),
        "finished": _iso(agent.finished),
        "duration": agent.duration,
    }
