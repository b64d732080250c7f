"""`wf fake init FILE.wf [--args A]`: a skeleton fake-answer file for a workflow.

The labels an agent gets depend on the arguments, the loop indices and the label code
of the runtime, so they are not computed here: the workflow is run, on schema-shaped
answers under a simulated clock and in a scratch workspace, and every call the runtime
makes is listed with its exact label, schema and a reply to edit. Schema-shaped answers
are the worst case (checks fail, `refuted` is false), so every loop runs to its cap.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any, TextIO

from wflang import exits

SCHEMA_ANSWERS: dict[str, Any] = {"rules": [], "default": "schema"}
PROMPT_PREVIEW = 100


def fake_init_command(file: str, args_file: str | None, args_json: str | None, out: str | None,
                      stdout: TextIO, stderr: TextIO) -> int:
    from wflang.cli import read_json_file
    from wflang.color import paint
    from wflang.dsl.arguments import validate_args
    from wflang.dsl.loader import load
    from wflang.dsl.report import human

    if args_file is not None and args_json is not None:
        print("error: give the arguments once: --args FILE or --args-json JSON", file=stderr)
        return exits.USAGE
    if out is not None:
        problem = _out_problem(out)
        if problem:
            print(f"error: -o {out}: {problem}", file=stderr)
            return exits.USAGE
    loaded = load(file)
    if not loaded.ok:
        print(paint(human(loaded), stderr), file=stderr)
        return exits.USAGE if any(d.code == "WF001" for d in loaded.diagnostics) else exits.ERRORS
    raw: Any = None
    if args_file is not None:
        raw, problem = read_json_file(args_file)
        if problem:
            print(f"error: {problem}", file=stderr)
            return exits.USAGE
    elif args_json is not None:
        try:
            from wflang.dsl import jsonread

            raw = jsonread.loads(args_json)
        except json.JSONDecodeError as exc:
            print(f"error: --args-json: not valid JSON (column {exc.colno}): {exc.msg}", file=stderr)
            return exits.USAGE
    values, diags = validate_args(loaded.program, raw)
    if not diags:
        from wflang.runtime import requirements

        diags = requirements.diagnostics(loaded.program, values)
    if diags:
        for d in diags:
            print(f"argument error: {d.message}" + (f" ({d.hint})" if d.hint else ""), file=stderr)
        print("hint: the labels depend on the arguments; pass them with --args FILE", file=stderr)
        return exits.ERRORS
    try:
        calls = dry_run(loaded, values)
    except Exception as exc:  # a run error (too many items, a child that does not load)
        from wflang.runtime.scheduler import RunError

        if not isinstance(exc, RunError):
            raise
        print(f"error: the workflow cannot run on these arguments: {exc}", file=stderr)
        return exits.ERRORS
    text = json.dumps(skeleton(calls, file), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        stdout.write(text)
        return exits.OK
    try:
        with open(out, "x", encoding="utf-8") as f:  # "x": never overwrite an answer file
            f.write(text)
    except OSError as exc:
        print(f"error: -o {out}: cannot write it: {exc.strerror}", file=stderr)
        return exits.USAGE
    print(f"wrote {out}: {len(calls)} agent calls, {len(json.loads(text)['rules'])} rules", file=stderr)
    return exits.OK


def _out_problem(out: str) -> str | None:
    path = Path(out)
    if path.is_dir() or out == "":
        return "is a directory; give a file name, e.g. -o answers.json"
    if path.exists():
        return "exists; it is not overwritten (give a new name, or remove it)"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return f"the directory {parent} does not exist"
    return None


def dry_run(loaded: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every agent call of a run on schema-shaped answers, in start order (host record shape)."""
    import trio
    import trio.testing

    from wflang.dsl.arguments import sizes
    from wflang.runtime.backends.fake import FakeBackend
    from wflang.runtime.interpreter import collapse, run_program
    from wflang.runtime.scheduler import Limits, Scheduler

    bound = loaded.result.bound
    backend = FakeBackend(SCHEMA_ANSWERS, source="<schema-shaped answers>")
    with tempfile.TemporaryDirectory(prefix="wf-fake-init-") as scratch:
        limits = Limits(budget_agents=bound.agent_budget, budget_output_tokens=bound.token_budget,
                        bound=bound.evaluate(sizes(loaded.program, values)))
        sched = Scheduler(backend, Path(scratch), limits)
        try:
            trio.run(run_program, loaded.program, values, sched, clock=trio.testing.MockClock(autojump_threshold=0))
        except BaseExceptionGroup as group:
            raise collapse(group) from None
    return list(backend.calls)


def _reply(call: dict[str, Any]) -> Any:
    """The call's schema-shaped answer, unwrapped ({"items": [...]} -> [...]) to read and
    edit more easily; the fake backend wraps it again."""
    value = call.get("result")
    schema = call.get("schema") or {}
    props = schema.get("properties") or {}
    if isinstance(value, dict) and len(props) == 1 and next(iter(props)) in ("items", "value") \
            and set(value) == set(props):
        inner = value[next(iter(props))]
        if not isinstance(inner, dict):
            return inner
    return value


def _natural(label: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", label)]


def skeleton(calls: list[dict[str, Any]], file: str) -> dict[str, Any]:
    """One rule per label, in first-call order: several calls with one label (an explicit
    label in a loop) get `replies`, in call order."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    phase_order: dict[Any, int] = {}
    for call in calls:
        by_label.setdefault(call["label"], []).append(call)
        phase_order.setdefault(call.get("phase"), len(phase_order))
    # Concurrent calls start in any order: sort (phase as first met, then the label with
    # its numbers compared as numbers) so the same workflow always gives the same file.
    order = sorted(by_label, key=lambda lb: (phase_order[by_label[lb][0].get("phase")], _natural(lb)))
    rules = []
    for label in order:
        group = by_label[label]
        first = group[0]
        prompt = " ".join(str(first["prompt"]).split())
        if len(prompt) > PROMPT_PREVIEW:
            prompt = prompt[: PROMPT_PREVIEW - 1] + "…"
        schema = first.get("schema")
        comment = (f"phase {first.get('phase') or '(none)'}; "
                   + (f"schema {json.dumps(schema, ensure_ascii=False, separators=(',', ':'))}" if schema
                      else "a text agent")
                   + f"; prompt: {prompt}")
        rule: dict[str, Any] = {"label": label, "comment": comment}
        replies = [_reply(c) for c in group]
        if len(replies) == 1:
            rule["reply"] = replies[0]
        else:
            rule["replies"] = replies
        rules.append(rule)
    return {
        "comment": (f"Skeleton fake answers for {file} (wf fake init): one rule per agent label of a run "
                    "on schema-shaped answers, where every loop runs to its cap. Edit the replies; "
                    "see docs/fake-answers.md."),
        "rules": rules,
        "default": "schema",
    }
