"""How a finished run ended, and `wf run --json`'s one machine-readable record.

A run whose program returned is still *failed* when nothing useful could have happened:
every agent it started failed (a bad key, the network gave up), or the cap or the budget
refused agents the program asked for. Both exit non-zero (docs/cli.md); the journal keeps
the status, so `wf runs` shows it and `--resume` retries the failed agents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from wflang.runtime.backend import Usage


class _Agent(Protocol):  # scheduler.AgentStat, as read here
    label: str
    phase: str | None
    model: str | None
    status: str
    usage: Usage
    cached: bool
    error: str | None


def run_status(agents: Sequence[_Agent]) -> tuple[str, str | None]:
    """("done", None), or ("failed", why) for a run that returned but did not work."""
    refused = [a for a in agents if a.status == "refused"]
    if refused:
        return "failed", (f"{refused[0].error or 'a limit was reached'}: {len(refused)} agent"
                          f"{'s' if len(refused) != 1 else ''} the workflow asked for did not run")
    done = sum(1 for a in agents if a.status == "done")
    if agents and done == 0:
        first = next((a.error for a in agents if a.error), None) or "no value"
        n = len(agents)
        return "failed", (f"every agent failed ({n} of {n}); the first error: {first}")
    return "done", None


def run_record(*, run_id: str, workflow: str, status: str, error: str | None, result: Any,
               agents: Sequence[_Agent], usage: Usage, bound: int | None, journal: str,
               price: Callable[[str | None], tuple[float, float]], logs: Sequence[tuple[str | None, str]] = (),
               sample: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record `wf run --json` prints: plain JSON types only. `price(model)` gives the
    list price (input, output) in USD per million tokens, for the cost estimate."""
    phases: dict[str | None, dict[str, Any]] = {}
    cost = 0.0
    for a in agents:
        p = phases.setdefault(a.phase, {"phase": a.phase, "done": 0, "failed": 0, "output_tokens": 0})
        p["done" if a.status == "done" else "failed"] += 1
        p["output_tokens"] += a.usage.output_tokens
        if not a.cached:  # answers served from the journal cost nothing again
            pin, pout = price(a.model)
            cost += (a.usage.input_tokens * pin + a.usage.output_tokens * pout) / 1e6
    record: dict[str, Any] = {
        "run_id": run_id,
        "workflow": workflow,
        "status": status,
        "error": error,
        "result": result,
        "agents": {
            "done": sum(1 for a in agents if a.status == "done"),
            "failed": sum(1 for a in agents if a.status == "failed"),
            "refused": sum(1 for a in agents if a.status == "refused"),
            "from_journal": sum(1 for a in agents if a.cached),
            "bound": bound,
        },
        "phases": list(phases.values()),
        "tokens": usage.as_dict(),
        "cost_estimate_usd": round(cost, 6),
        "journal": journal,
        "log": [{"phase": phase, "message": message} for phase, message in logs],
    }
    if sample is not None:
        record["sample"] = sample
    return record


def short_result(value: Any, width: int = 60) -> str:
    """One line for a terminal: a record's fields with lists as counts and long text cut,
    so a run ends on its summary, not on pages of JSON (`--json` or `--out` give it all)."""
    def one(v: Any) -> str:
        if isinstance(v, list):
            return f"{len(v)} item{'s' if len(v) != 1 else ''}"
        if isinstance(v, dict):
            return f"{{{len(v)} field{'s' if len(v) != 1 else ''}}}"
        if isinstance(v, str):
            return repr(v if len(v) <= width else v[: width - 1] + "…")
        if v is None:
            return "none"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    if isinstance(value, dict):
        return ", ".join(f"{k}: {one(v)}" for k, v in value.items()) or "{}"
    return one(value)
