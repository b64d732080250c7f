"""`wf run`, `wf runs` and `wf show`: what the CLI calls, with plain arguments and streams.

`run_command` loads and checks the workflow, validates the arguments, shows the plan
(proven bound for these arguments, models, permissions), settles permissions (granted by
the workflow header AND confirmed by `--allow` or a prompt on a terminal), then runs it
under the scheduler with the journal and the live view, and prints the result. Every
problem a user can cause ends in a clear message and a non-zero exit code, never a
traceback.

Exit codes (the table is wflang/exits.py, the same as docs/cli.md): 0 done; 1 the
workflow does not check, the arguments do not fit its inputs (or the bound for them), or
the run failed; 2 usage (a file or output path, the fake file, a missing key, refused
permissions); 3 internal error; 130 interrupted (the run can be resumed).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wflang.dsl import ast
from wflang.runtime.lines import Literal, console_for
from wflang.runtime.models import BATCH_PRICE_FACTOR

if TYPE_CHECKING:
    from wflang.dsl.bounds import Bound
    from wflang.runtime.backend import Backend
    from wflang.runtime.scheduler import Scheduler

from wflang import exits

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = exits.OK, exits.ERRORS, exits.USAGE
EXIT_INTERNAL, EXIT_INTERRUPTED = exits.INTERNAL, exits.INTERRUPTED
MAX_CONCURRENCY = 16  # Claude Code's limit of agents at once
CAPABILITIES = ("edit", "shell")

# Approximate list prices, USD per million tokens (input, output), by model family; an
# estimate for `--sample`, overridable with WF_PRICES='{"sonnet": [3, 15], ...}'.
PRICES: dict[str, tuple[float, float]] = {"opus": (5.0, 25.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}
PRICES_ENV = "WF_PRICES"


class _Refused(Exception):
    """Stop before any agent, with this message and exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Plan:
    program: ast.Program
    source: str
    bound: Bound
    values: dict[str, Any]
    sizes: dict[str, int]
    agents_bound: int
    granted: frozenset[str]
    full_sizes: dict[str, int]  # before --sample cut the lists (the same without --sample)
    batchable: int | None = None  # with --batch: the tool-less agents of the bound, sent as batches


# ---------------------------------------------------------------- wf run


def run_command(
    file: str,
    args_file: str | None = None,
    args_json: str | None = None,
    fake: str | None = None,
    resume: str | None = None,
    concurrency: int | None = None,
    allow: str | None = None,
    sample: int | None = None,
    json_out: bool = False,
    out_file: str | None = None,
    workspace: str | None = None,
    yes: bool = False,
    *,
    request_timeout: float | None = None,
    stall_timeout: float | None = None,
    batch: bool | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    stdin = stdin or sys.stdin
    try:
        _API_LIMITS.clear()  # this call's limits only (tests run several in one process)
        _API_LIMITS.update(_api_limits(request_timeout, stall_timeout))
        _BATCH["requested"] = batch
        return _run(file, args_file, args_json, fake, resume, concurrency, allow, sample, json_out, out_file,
                    workspace, yes, stdout, stderr, stdin)
    except _Refused as exc:
        from wflang.color import paint

        print(paint(f"error: {exc}", stderr), file=stderr)
        return exc.code
    except KeyboardInterrupt:
        print("cancelled before the run started", file=stderr)
        return EXIT_INTERRUPTED


def _run(file: str, args_file: str | None, args_json: str | None, fake: str | None, resume: str | None,
         concurrency: int | None, allow: str | None, sample: int | None, json_out: bool, out_file: str | None,
         workspace: str | None, yes: bool, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    from wflang.dsl.loader import load_cached
    from wflang.runtime.journal import JournalError

    ws = Path(workspace or ".").resolve()
    if not ws.is_dir():
        raise _Refused(f"the workspace {workspace} is not a directory")
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise _Refused(f"--concurrency takes 1 to {MAX_CONCURRENCY} agents at once, not {concurrency}")
    if sample is not None and sample < 1:
        raise _Refused(f"--sample takes 1 or more items, not {sample}")
    if sample is not None and resume is not None:
        raise _Refused("--sample starts a new run; it cannot be combined with --resume")
    if args_file is not None and args_json is not None:
        raise _Refused("give the arguments once: --args FILE or --args-json JSON")
    requested = _parse_allow(allow)
    if out_file is not None:
        _check_out(out_file)

    loaded = load_cached(file)  # the checked tree of an unchanged workflow, if cached
    if not loaded.ok:
        from wflang.color import paint
        from wflang.dsl.report import human  # only to report errors

        print(paint(human(loaded), stderr), file=stderr)
        # a FILE that cannot be read is a usage error, as in `wf check`
        return EXIT_USAGE if any(d.code == "WF001" for d in loaded.diagnostics) else EXIT_ERRORS
    program, source = loaded.program, loaded.source or ""
    assert loaded.result is not None and loaded.result.bound is not None
    bound = loaded.result.bound

    # A new run opens the journal (and creates .wf/) only once it is sure to start.
    journal = _open_journal(ws) if resume is not None else None
    try:
        raw = _raw_args(args_file, args_json)
        before = None
        carried = False  # permissions granted when the run started, not by --allow now
        if resume is not None:
            # The original run's options carry over unless given again.
            before = _resume_record(journal, resume, program, file)
            kept = before.options if isinstance(before.options, dict) else {}
            if raw is None:
                raw = before.args
            if concurrency is None and isinstance(kept.get("concurrency"), int):
                concurrency = kept["concurrency"]
            if fake is None and isinstance(kept.get("fake"), str):
                fake = _kept_fake(kept["fake"], resume)
            if _BATCH["requested"] is None and kept.get("batch") is True:
                _BATCH["requested"] = True  # its batches are collected, not submitted again
            if allow is None and isinstance(kept.get("granted"), list):
                requested = _parse_allow(",".join(str(g) for g in kept["granted"]))
                carried = bool(requested)
        plan = _make_plan(program, source, bound, raw, sample)
        if before is not None:
            _check_something_to_resume(before, source, plan.values)
        err = console_for(stderr, highlight=False, soft_wrap=True)
        batch = _batch_mode(err, plan, fake)
        backend = _backend(fake, batch=True) if batch else _backend(fake)
        interactive = _is_tty(stdin) and _is_tty(stderr)
        plan.granted = _permissions(program, requested, fake, yes, interactive, stdin, err, plan,
                                    file, concurrency, resume, ws, carried=carried)
        if journal is None:
            journal = _open_journal(ws)
        bound_json = {"total": plan.agents_bound, "formula": bound.formula(),
                      "phases": dict(bound.phases(plan.sizes))}
        # Never a secret here: the key stays in the environment.
        options = {"concurrency": concurrency,
                   "fake": None if fake is None else str(Path(fake).resolve()),
                   "granted": sorted(plan.granted), "batch": batch}
        if resume is not None:
            assert before is not None
            journal.resume_run(resume, source, workflow=program.header.name, source_path=file,
                               args=plan.values, bound=bound_json, options=options)
            _resume_note(err, before, source, plan.values)
            run_id = resume
        else:
            run_id = journal.start_run(program.header.name, file, source, plan.values, bound_json,
                                       options=options)
        return _execute(plan, backend, journal, run_id, resume is not None, file, ws, concurrency, sample,
                        json_out, out_file, stdout, stderr)
    except JournalError as exc:
        raise _Refused(str(exc)) from None
    finally:
        if journal is not None:
            journal.close()


# The API time limits of this `wf run` (seconds), for the backend and the plan; kept out of
# _run's long signature. Only the anthropic backend uses them.
# `--batch` as given (None: not given; a resumed run then keeps what it started with).
_BATCH: dict[str, bool | None] = {"requested": None}
_API_LIMITS: dict[str, float] = {}


def _api_limits(request_timeout: float | None, stall_timeout: float | None) -> dict[str, float]:
    """The limits given on the command line, checked; the backend's defaults fill the rest
    (not imported here: a fake run does not load the anthropic backend)."""
    import math

    out: dict[str, float] = {}
    for name, value in (("request_timeout", request_timeout), ("stall_timeout", stall_timeout)):
        if value is None:
            continue
        if not (math.isfinite(value) and value > 0):
            raise _Refused(f"--{name.replace('_', '-')} takes a positive number of seconds, not {value:g}")
        out[name] = float(value)
    return out


def _open_journal(ws: Path) -> Any:
    from wflang.runtime.journal import Journal, JournalError

    try:
        return Journal.open(ws)
    except JournalError as exc:
        raise _Refused(str(exc)) from None


def _resume_record(journal: Any, run_id: str, program: ast.Program, file: str) -> Any:
    """The run being resumed; only a run of another workflow (by name) is refused here."""
    from wflang.runtime.journal import JournalError

    try:
        record = journal.get_run(run_id).run
    except JournalError as exc:
        raise _Refused(str(exc)) from None
    if record.workflow != program.header.name:
        raise _Refused(f"cannot resume {run_id} with {file}: {run_id} is a run of workflow `{record.workflow}` "
                       f"({record.source_path}), and {file} is workflow `{program.header.name}`. "
                       f"Hint: resume it with `wf run {record.source_path} --resume {run_id}`, or drop "
                       "--resume to start a new run.")
    return record


def _check_something_to_resume(before: Any, source: str, values: Any) -> None:
    from wflang.runtime.journal import source_sha256

    if before.status == "done" and source_sha256(source) == before.source_sha256 and values == before.args:
        raise _Refused(f"run {before.id} already finished, and neither the workflow nor its arguments changed "
                       f"since; nothing to resume. Hint: `wf show {before.id}` shows its result; edit the "
                       "workflow or pass other --args to run again only what changed.")


def _kept_fake(path: str, run_id: str) -> str:
    if not Path(path).is_file():
        raise _Refused(f"run {run_id} ran with --fake {path}, which is no longer there. "
                       "Hint: pass --fake FILE again.")
    return path


def _resume_note(err: Any, before: Any, source: str, values: Any) -> None:
    from wflang.runtime.journal import source_sha256

    changed = [what for what, differs in (("the workflow", source_sha256(source) != before.source_sha256),
                                          ("its arguments", values != before.args)) if differs]
    if changed:
        err.print(Literal(f"note: {' and '.join(changed)} changed since run {before.id} ran; agents whose "
                       "request is unchanged are served from the journal, the others run fresh"))


def _parse_allow(allow: str | None) -> frozenset[str]:
    names = [a.strip() for a in (allow or "").split(",") if a.strip()]
    for n in names:
        if n not in CAPABILITIES:
            raise _Refused(f"--allow {allow}: unknown capability `{n}` (capabilities: edit, shell)")
    return frozenset(names)


def _raw_args(args_file: str | None, args_json: str | None) -> Any:
    from wflang.dsl import jsonread

    if args_file is not None:
        try:
            text = Path(args_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise _Refused(f"cannot read the arguments file {args_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise _Refused(f"the arguments file {args_file} is not UTF-8 text") from None
        try:
            return jsonread.loads(text)
        except json.JSONDecodeError as exc:
            raise _Refused(f"{args_file}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if args_json is not None:
        try:
            return jsonread.loads(args_json)
        except json.JSONDecodeError as exc:
            raise _Refused(f"--args-json: not valid JSON (column {exc.colno}): {exc.msg}") from None
    return None


def _make_plan(program: ast.Program, source: str, bound: Bound, raw: Any, sample: int | None) -> _Plan:
    from wflang.dsl.arguments import ARGS_PROBLEM, sizes, validate_args
    from wflang.runtime.scheduler import AGENT_CAP

    values, diags = validate_args(program, raw)
    if not diags:
        from wflang.runtime import requirements

        diags = requirements.diagnostics(program, values)
    if diags:
        lines = [f"argument error: {d.message}" + (f" ({d.hint})" if d.hint else "") for d in diags]
        raise _Refused(ARGS_PROBLEM.rstrip() + "\n  " + "\n  ".join(lines), EXIT_ERRORS)
    full_sizes = sizes(program, values)
    if sample is not None:
        values = {k: (v[:sample] if isinstance(v, list) and _is_list_input(program, k)
                      else dict(list(v.items())[:sample]) if isinstance(v, dict) and _is_map_input(program, k)
                      else v)
                  for k, v in values.items()}
    size_map = sizes(program, values)
    n = bound.evaluate(size_map)
    if n > AGENT_CAP:
        raise _Refused(f"for these arguments the workflow may start {n} agents; a run may start at most "
                       f"{AGENT_CAP}. Hint: pass fewer items.", EXIT_ERRORS)
    if bound.agent_budget is not None and n > bound.agent_budget:
        raise _Refused(f"for these arguments the workflow may start {n} agents; its budget allows "
                       f"{bound.agent_budget}. Hint: pass fewer items or raise `budget agents`.", EXIT_ERRORS)
    return _Plan(program, source, bound, values, size_map, n, frozenset(), full_sizes)


def _check_out(out_file: str) -> None:
    """`--out F` must be writable before the first agent starts, not after the run."""
    path = Path(out_file)
    if out_file == "" or path.is_dir():
        raise _Refused(f"--out {out_file}: is a directory; give a file to write the result to, "
                       "e.g. --out result.json")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise _Refused(f"--out {out_file}: the directory {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise _Refused(f"--out {out_file}: the file is not writable")
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise _Refused(f"--out {out_file}: cannot create a file in {parent} (no permission)")


def _is_list_input(program: ast.Program, name: str) -> bool:
    return any(d.name == name and isinstance(d.type, ast.ListType) for d in program.inputs)


def _is_map_input(program: ast.Program, name: str) -> bool:
    return any(d.name == name and isinstance(d.type, ast.MapType) for d in program.inputs)


def _batch_mode(err: Any, plan: _Plan, fake: str | None) -> bool:
    """Whether this run sends its tool-less agents as message batches (`--batch`); says why
    not when it was asked for and cannot."""
    if not _BATCH["requested"]:
        return False
    n = plan.bound.batchable_for(plan.sizes)
    if fake is not None:
        err.print("note: --batch with --fake: fake agents answer at once, nothing is sent as a batch")
        return False
    if n == 0:
        err.print("note: --batch: no agent of this workflow is tool-less (`tools=none`), so none can go "
                  "through the Message Batches API; running live")
        return False
    plan.batchable = n
    return True


def _backend(fake: str | None, batch: bool = False) -> Backend:
    if fake is not None:
        from wflang.runtime.backends.fake import FakeBackend, FakeFileError

        try:
            return FakeBackend.load(fake, record=False)  # nothing reads its call log here
        except FakeFileError as exc:
            raise _Refused(str(exc)) from None
    try:
        from wflang.runtime.backends.anthropic import AnthropicBackend, MissingAPIKeyError
    except ImportError as exc:
        raise _Refused(f"the anthropic backend cannot load ({exc}); install the `anthropic` package "
                       "or run with --fake FILE") from None
    try:
        live = AnthropicBackend(**_API_LIMITS)
    except MissingAPIKeyError as exc:
        raise _Refused(str(exc)) from None
    from wflang.runtime.environ_scrub import scrub_initial_environ

    scrub_initial_environ()  # the client holds the key: /proc/<our pid>/environ need not
    if not batch:
        return live
    from wflang.runtime.backends.batch import BatchBackend

    return BatchBackend(live)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- the plan and permissions


def _models(program: ast.Program) -> list[str]:
    """The models the workflow's agents use, as written (aliases), statically."""
    seen: list[str] = []
    programs = [program] + [n.program for n in ast.walk(program.body)
                            if isinstance(n, ast.RunWorkflow) and n.program is not None]
    for p in programs:
        defaults = {o.name: o.value for o in p.defaults}
        for n in ast.walk(p.body):
            if not isinstance(n, (ast.Agent, ast.Check)):
                continue
            opts = {o.name: o.value for o in n.options}
            e = opts.get("model", defaults.get("model"))
            if e is None:
                name = "default"
            elif isinstance(e, ast.StrLit) and e.is_plain:
                name = e.text
            else:
                name = "(computed)"
            if name not in seen:
                seen.append(name)
    return seen


def _model_line(program: ast.Program, fake: bool) -> str:
    from wflang.runtime.models import DEFAULT_ALIAS, ModelConfigError, resolve_model

    out = []
    for m in _models(program):
        if fake or m == "(computed)":
            out.append(m)
            continue
        try:
            out.append(f"{m} ({resolve_model(m)})" if m != "default"
                       else f"default ({DEFAULT_ALIAS}: {resolve_model(None)})")
        except ModelConfigError as exc:
            raise _Refused(str(exc)) from None
    return ", ".join(out) if out else "none (no agents)"


def _show_plan(err: Any, plan: _Plan, file: str, fake: str | None, concurrency: int | None, resume: str | None,
               declared: list[str], perm_note: str) -> None:
    program, bound = plan.program, plan.bound
    limits = ["cap 1000"]
    if bound.agent_budget is not None:
        limits.append(f"budget {bound.agent_budget}")
    phases = ", ".join(f"{p} {n}" for p, n in bound.phases(plan.sizes))
    given = ", ".join(f"{k}: {v}" for k, v in plan.sizes.items())
    lines = [
        f"plan: {file} (workflow {program.header.name})" + (f", resuming {resume}" if resume else ""),
        f"  agents: at most {plan.agents_bound} for these arguments" + (f" ({given})" if given else "")
        + f"   [{', '.join(limits)}; worst case {bound.total}]",
    ]
    if phases:
        lines.append(f"  per phase: {phases}")
    tokens = bound.tokens_for(plan.sizes)
    if tokens is not None or bound.token_budget is not None:
        lines.append(f"  output tokens: at most {tokens if tokens is not None else 'unknown'}"
                     + (f" (budget {bound.token_budget})" if bound.token_budget is not None else ""))
    lines.append(f"  models: {_model_line(program, fake is not None)}")
    lines.append(f"  permissions: {', '.join(declared) if declared else 'read-only'}{perm_note}")
    api = ""
    if fake is None:
        from wflang.runtime.backends.anthropic import DEFAULT_REQUEST_TIMEOUT, DEFAULT_STALL_TIMEOUT

        api_limits = {"request_timeout": DEFAULT_REQUEST_TIMEOUT, "stall_timeout": DEFAULT_STALL_TIMEOUT,
                      **_API_LIMITS}
        api = (f" (request timeout {api_limits['request_timeout']:g}s, "
               f"stall limit {api_limits['stall_timeout']:g}s per agent turn)")
    lines.append(f"  backend: {'fake answers from ' + fake if fake is not None else 'anthropic'}{api}"
                 f"; concurrency {_concurrency(program, concurrency)}")
    if plan.batchable is not None:
        lines.append(f"  batch: {plan.batchable} of the {plan.agents_bound} agents are tool-less and go through "
                     "the Message Batches API at half price; a batch answers within 24 hours (most far "
                     "sooner); the other agents run live")
    for line in lines:
        err.print(Literal(line))


def _concurrency(program: ast.Program, concurrency: int | None) -> int:
    from wflang.runtime.scheduler import DEFAULT_CONCURRENCY

    n = concurrency or DEFAULT_CONCURRENCY
    for b in program.budget:
        if b.key == "concurrency" and isinstance(b.value, ast.IntLit):
            n = min(n, b.value.value)
    return n


def _permissions(program: ast.Program, requested: frozenset[str], fake: str | None, yes: bool, interactive: bool,
                 stdin: TextIO, err: Any, plan: _Plan, file: str, concurrency: int | None,
                 resume: str | None, ws: Path, carried: bool = False) -> frozenset[str]:
    """Show the plan and settle the capabilities: the header grants, the user confirms."""
    declared = [p for p in program.header.permissions if p in CAPABILITIES]
    extra = sorted(requested - set(declared))
    missing = [p for p in declared if p not in requested]
    note = ""
    if fake is not None and declared:
        note = " (fake agents: nothing is edited or executed)"
    elif declared and not missing:
        note = " (granted when the run started)" if carried else " (confirmed by --allow)"
    _show_plan(err, plan, file, fake, concurrency, resume, declared, note)
    if extra:
        err.print(f"note: --allow {','.join(extra)}: the workflow does not declare it, so it is not granted")
    if fake is not None:
        return frozenset(declared)
    if missing:
        hint = f"--allow {','.join(declared)}"
        if interactive and not yes:
            answer = _ask(stdin, err, f"The agents may {_describe(missing)} in {ws}. "
                                      "Allow, and start the run? [y/N] ")
            if answer not in ("y", "yes"):
                raise _Refused(f"not started: {', '.join(missing)} not confirmed. Hint: pass {hint}")
            return frozenset(declared)
        raise _Refused(f"the workflow needs {', '.join(missing)} (header `permissions:`), which must be "
                       f"confirmed. Hint: pass {hint}, or run on a terminal to be asked")
    if interactive and not yes:
        answer = _ask(stdin, err, "Start the run? [Y/n] ")
        if answer not in ("", "y", "yes"):
            raise _Refused("not started", EXIT_USAGE)
    return frozenset(declared)


def _describe(caps: list[str]) -> str:
    words = {"edit": "write and edit files", "shell": "run shell commands"}
    return " and ".join(words[c] for c in caps)


def _ask(stdin: TextIO, err: Any, question: str) -> str:
    err.print(question, end="")
    line = stdin.readline()
    return line.strip().lower()


# ---------------------------------------------------------------- running


def _execute(plan: _Plan, backend: Backend, journal: Any, run_id: str, resuming: bool, file: str, ws: Path,
             concurrency: int | None, sample: int | None, json_out: bool, out_file: str | None,
             stdout: TextIO, stderr: TextIO) -> int:
    import trio

    from wflang.runtime.interpreter import collapse, run_program
    from wflang.runtime.journal import JournalError
    from wflang.runtime.progress import ProgressView
    from wflang.runtime.scheduler import BoundExceeded, Limits, RunError, Scheduler

    program, bound = plan.program, plan.bound
    limits = Limits(concurrency=_concurrency(program, concurrency), budget_agents=bound.agent_budget,
                    budget_output_tokens=bound.token_budget, bound=plan.agents_bound)
    err = console_for(stderr, highlight=False, soft_wrap=True)
    # --json: stdout carries one record; the story goes to stderr line by line (no live view)
    view = ProgressView(err, live=_is_tty(stdout) and _is_tty(stderr) and not json_out)
    sched = Scheduler(backend, ws, limits, journal=journal, run_id=run_id, resume=resuming,
                      permissions=plan.granted, observer=view)
    attach = getattr(backend, "attach", None)
    if attach is not None:  # the batch backend journals its batches and shows them
        attach(journal, run_id, view)
    err.print(f"run {run_id}" + (" (resumed)" if resuming else ""), highlight=False)

    async def main() -> Any:
        session = getattr(backend, "session", None)
        try:
            async with session() if session is not None else contextlib.nullcontext():
                return await run_program(program, plan.values, sched, view)
        finally:
            aclose: Callable[[], Any] | None = getattr(backend, "aclose", None)
            if aclose is not None:
                with trio.CancelScope(shield=True):
                    try:
                        await aclose()
                    except Exception:
                        pass

    # Its options (backend, concurrency, permissions granted) are in the journal.
    resume_hint = f"wf run {file} --resume {run_id}"
    def run_trio() -> Any:
        # What exists before the run (the parser's tables, the tree, the modules: hundreds
        # of thousands of objects) lives through it: frozen, the collector's full passes
        # during the run skip it (a sixth of the CPU of 1,000 instant agents).
        gc.freeze()
        paused = not gc.isenabled()  # `wf` pauses it while a run process prepares (cli.py)
        gc.enable()
        try:
            return trio.run(main)
        except BaseExceptionGroup as group:
            raise collapse(group) from None
        finally:
            if paused:
                gc.disable()
            gc.unfreeze()  # back to normal for a caller that goes on (tests)
            sched.flush_journal()  # the log lines not yet written with a group of agents

    try:
        with view:
            outcome = run_trio()
    except KeyboardInterrupt:
        journal.finish_run(run_id, "interrupted", error="interrupted by the user")
        print(f"\ninterrupted: run {run_id} stopped; finished agents are journaled.\n"
              f"resume with: {resume_hint}", file=stderr)
        return EXIT_INTERRUPTED
    except BoundExceeded as exc:
        journal.finish_run(run_id, "failed", error=str(exc))
        print(f"error: {exc}", file=stderr)
        return EXIT_INTERNAL
    except RunError as exc:
        journal.finish_run(run_id, "failed", error=str(exc))
        _resume_report(err, sched)
        print(f"run {run_id} failed: {exc}\nresume after a fix with: {resume_hint}", file=stderr)
        if json_out:
            with contextlib.suppress(BrokenPipeError):  # `| head -1`: the reader left; still exit 1
                _write_json(_record(plan, sched, run_id, ws, "failed", str(exc), None, []), stdout)
        return EXIT_ERRORS
    except JournalError as exc:
        print(f"error: the journal failed: {exc}", file=stderr)
        return EXIT_ERRORS
    except Exception as exc:  # a bug: no traceback for the user, but a way to get one
        if os.environ.get("WF_DEBUG"):
            raise
        try:
            journal.finish_run(run_id, "failed", error=f"internal error: {type(exc).__name__}: {exc}")
        except Exception:
            pass
        print(f"internal error: {type(exc).__name__}: {exc}\nthis is a bug in wflang; run again with "
              f"WF_DEBUG=1 for the traceback and report it. Resume with: {resume_hint}", file=stderr)
        return EXIT_INTERNAL
    from wflang.runtime.run_record import run_status

    view.final_summary()
    status, why = run_status(sched.agents)
    journal.finish_run(run_id, status, result=outcome.value, error=why)
    _summary(err, sched, run_id, status)
    _resume_report(err, sched)
    if sample is not None:
        _sample_report(err, plan, sched, sample)
    try:
        code = _emit_result(outcome.value, json_out, out_file, stdout, stderr,
                            _record(plan, sched, run_id, ws, status, why, outcome.value, outcome.logs, sample)
                            if json_out else None)
    except BrokenPipeError:  # `wf run ... | head -1`: the reader left (the result is journaled);
        code = EXIT_OK  # a failed run must still say so below and exit 1, not 0 from main's handler
    if status != "done":
        print(f"the run failed: {why}\nresume after a fix with: {resume_hint}", file=stderr)
        return EXIT_ERRORS
    return code


def _record(plan: _Plan, sched: Scheduler, run_id: str, ws: Path, status: str, why: str | None, value: Any,
            logs: list[tuple[str | None, str]], sample: int | None = None) -> dict[str, Any]:
    from wflang.dsl.values import normalize
    from wflang.runtime.journal import journal_path
    from wflang.runtime.run_record import run_record

    table = _prices()
    estimate = None
    if sample is not None:
        estimate = sample_estimate(plan.bound, plan.sizes, plan.full_sizes, sched.agents)
    return run_record(run_id=run_id, workflow=plan.program.header.name, status=status, error=why,
                      result=normalize(value), agents=sched.agents, usage=sched.usage, bound=plan.agents_bound,
                      journal=str(journal_path(ws)), price=lambda m: _price_of(m, table), logs=logs,
                      sample=estimate)


def _write_json(record: dict[str, Any], stdout: TextIO) -> None:
    from wflang.dsl.values import to_json

    stdout.write(to_json(record, 2) + "\n")
    stdout.flush()


def _resume_report(err: Any, sched: Scheduler) -> None:
    """On a resume: how many agents the journal served, and the first that ran fresh, and why."""
    if not sched.resume:
        return
    line = f"resume: {sched.served} agent{'s' if sched.served != 1 else ''} served from the journal, " \
           f"{sched.fresh} ran fresh"
    if sched.first_fresh is not None:
        label, why = sched.first_fresh
        line += f"; the first to run fresh: {label} ({why})"
    err.print(line, highlight=False, markup=False)


def _summary(err: Any, sched: Scheduler, run_id: str, status: str = "done") -> None:
    done = sum(1 for a in sched.agents if a.status == "done")
    failed = len(sched.agents) - done
    cached = sum(1 for a in sched.agents if a.cached)
    u = sched.usage
    err.print(f"run {run_id} {status}: {done} agents done" + (f" ({cached} from the journal)" if cached else "")
              + f", {failed} failed; tokens: input {u.input_tokens:,}, output {u.output_tokens:,}",
              highlight=False)


def _emit_result(value: Any, json_out: bool, out_file: str | None, stdout: TextIO, stderr: TextIO,
                 record: dict[str, Any] | None = None) -> int:
    """The result on stdout (or in --out); with --json, stdout gets the one record instead."""
    from wflang.dsl.values import to_json

    text = to_json(value, 2) + "\n"
    if out_file is not None:
        try:
            Path(out_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {out_file}: {exc.strerror}; the result is in the journal "
                  "(wf show RUN_ID)", file=stderr)
            return EXIT_USAGE
        if not json_out:
            print(f"result written to {out_file}", file=stderr)
            return EXIT_OK
    if record is not None:
        _write_json(record, stdout)
        return EXIT_OK
    if out_file is None and _is_tty(stdout):
        # a person reading: the story ends on one line; pipes and files get the JSON
        from wflang.runtime.run_record import short_result

        stdout.write(f"result: {short_result(value)}\n"
                     "  (the whole result: --json, --out FILE, or wf show RUN_ID)\n")
        stdout.flush()
        return EXIT_OK
    stdout.write(text)
    stdout.flush()
    return EXIT_OK


# ---------------------------------------------------------------- --sample: measure, then extrapolate


def _prices() -> dict[str, tuple[float, float]]:
    table = dict(PRICES)
    raw = os.environ.get(PRICES_ENV)
    if raw:
        try:
            from wflang.dsl import jsonread

            extra = jsonread.loads(raw)
            for k, v in extra.items():
                table[str(k)] = (float(v[0]), float(v[1]))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            pass  # a bad override falls back to the built-in estimate
    return table


def _price_of(model: str | None, table: dict[str, tuple[float, float]]) -> tuple[float, float]:
    from wflang.runtime.models import DEFAULT_ALIAS

    name = (model or DEFAULT_ALIAS).lower()
    if name in table:
        return table[name]
    for family, price in table.items():
        if family in name:
            return price
    return table.get(DEFAULT_ALIAS, (3.0, 15.0))


def sample_estimate(bound: Bound, sample_sizes: dict[str, int], full_sizes: dict[str, int],
                    agents: list[Any]) -> dict[str, Any]:
    """Per phase: measured agents and tokens at the sample sizes, and for the full sizes the
    worst case (bound × mean tokens per agent) and the expected case (measured agents
    scaled by the bound's growth), with a cost estimate. Pure, for tests."""
    table = _prices()
    top = "(top level)"
    b_sample = dict(bound.phases(sample_sizes))
    b_full = dict(bound.phases(full_sizes))
    batchable_full = bound.batchable_phases(full_sizes)  # tool-less: half price with --batch
    total_sample, total_full = bound.evaluate(sample_sizes), bound.evaluate(full_sizes)
    measured: dict[str, dict[str, float]] = {}
    for a in agents:
        key = a.phase or top
        m = measured.setdefault(key, {"agents": 0, "input": 0, "output": 0, "cost": 0.0})
        m["agents"] += 1
        m["input"] += a.usage.input_tokens
        m["output"] += a.usage.output_tokens
        pin, pout = _price_of(a.model, table)
        m["cost"] += (a.usage.input_tokens * pin + a.usage.output_tokens * pout) / 1e6
    n_all = sum(m["agents"] for m in measured.values()) or 1
    overall = {k: sum(m[k] for m in measured.values()) / n_all for k in ("input", "output", "cost")}
    rows = []
    for phase in list(dict.fromkeys([*b_full, *measured])):
        m = measured.get(phase, {"agents": 0, "input": 0, "output": 0, "cost": 0.0})
        per = {k: (m[k] / m["agents"]) if m["agents"] else overall[k] for k in ("input", "output", "cost")}
        worst = b_full.get(phase, m["agents"])
        if phase in b_sample and b_sample[phase] > 0:
            scale = b_full.get(phase, 0) / b_sample[phase]
        else:
            scale = (total_full / total_sample) if total_sample else 1.0
        expected = m["agents"] * scale if m["agents"] else 0.0
        share = min(batchable_full.get(phase, 0), worst) / worst if worst else 0.0
        discount = 1.0 - share * (1.0 - BATCH_PRICE_FACTOR)
        rows.append({
            "phase": phase,
            "measured_agents": int(m["agents"]),
            "measured_input_tokens": int(m["input"]),
            "measured_output_tokens": int(m["output"]),
            "per_agent_output_tokens": per["output"],
            "per_agent_input_tokens": per["input"],
            "worst_agents": worst,
            "worst_output_tokens": worst * per["output"],
            "worst_input_tokens": worst * per["input"],
            "worst_cost": worst * per["cost"],
            "worst_cost_batched": worst * per["cost"] * discount,
            "worst_batchable": min(batchable_full.get(phase, 0), worst),
            "expected_agents": expected,
            "expected_output_tokens": expected * per["output"],
            "expected_cost": expected * per["cost"],
            "expected_cost_batched": expected * per["cost"] * discount,
        })
    return {
        "sample_bound": total_sample,
        "full_bound": total_full,
        "phases": rows,
        "worst_cost": sum(r["worst_cost"] for r in rows),
        "expected_cost": sum(r["expected_cost"] for r in rows),
        "worst_cost_batched": sum(r["worst_cost_batched"] for r in rows),
        "expected_cost_batched": sum(r["expected_cost_batched"] for r in rows),
        "worst_batchable": sum(r["worst_batchable"] for r in rows),
        "worst_output_tokens": sum(r["worst_output_tokens"] for r in rows),
        "expected_output_tokens": sum(r["expected_output_tokens"] for r in rows),
    }


def _sample_report(err: Any, plan: _Plan, sched: Scheduler, sample: int) -> None:
    from rich.table import Table

    est = sample_estimate(plan.bound, plan.sizes, plan.full_sizes, sched.agents)
    table = Table(title=f"--sample {sample}: measured, and extrapolated to the full arguments",
                  title_justify="left")
    # Per phase: agents run in the sample, mean tokens per agent, then for the full
    # arguments the worst case (the bound) and the expected case (scaled measurement).
    for name in ("phase", "ran", "out/agent", "in/agent", "worst", "worst out", "expected", "exp. out"):
        table.add_column(name, justify="left" if name == "phase" else "right")
    for r in est["phases"]:
        table.add_row(r["phase"], str(r["measured_agents"]), f"{r['per_agent_output_tokens']:,.0f}",
                      f"{r['per_agent_input_tokens']:,.0f}", str(r["worst_agents"]),
                      f"{r['worst_output_tokens']:,.0f}", f"{r['expected_agents']:,.1f}",
                      f"{r['expected_output_tokens']:,.0f}")
    err.print(table)
    err.print(f"full arguments: at most {est['full_bound']} agents (this sample: at most {est['sample_bound']}); "
              f"output tokens: worst {est['worst_output_tokens']:,.0f}, expected {est['expected_output_tokens']:,.0f}",
              highlight=False)
    err.print(f"estimated cost (list prices, USD; override with {PRICES_ENV}): worst ${est['worst_cost']:,.2f}, "
              f"expected ${est['expected_cost']:,.2f}", highlight=False)
    if plan.bound.batchable is not None:
        err.print(f"with --batch ({est['worst_batchable']} of {est['full_bound']} agents tool-less, at half price): "
                  f"worst ${est['worst_cost_batched']:,.2f}, expected ${est['expected_cost_batched']:,.2f}",
                  highlight=False)


# ---------------------------------------------------------------- wf runs, wf show


def runs_command(workspace: str | None = None, limit: int = 20, json_out: bool = False, *,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    from rich.console import Console

    from wflang.runtime.journal import Journal, JournalError, journal_path
    from wflang.runtime.run_views import render_runs, runs_json

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    ws = Path(workspace or ".")
    if not journal_path(ws).exists():
        if json_out:
            stdout.write("[]\n")
        else:
            print(f"No runs in {ws.resolve()} yet (no {journal_path(ws)}).", file=stdout)
        return EXIT_OK
    try:
        with Journal.open(ws) as journal:
            runs = journal.list_runs(limit=max(1, limit))
    except JournalError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    if json_out:
        json.dump(runs_json(runs), stdout, indent=2, ensure_ascii=False)
        stdout.write("\n")
    else:
        render_runs(Console(file=stdout, highlight=False), runs)
    return EXIT_OK


def show_command(run_id: str, json_out: bool = False, workspace: str | None = None, *, full: bool = False,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    from rich.console import Console

    from wflang.runtime.journal import Journal, JournalError, journal_path
    from wflang.runtime.run_views import render_run, run_json

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    ws = Path(workspace or ".")
    if not journal_path(ws).exists():
        print(f"error: no runs in {ws.resolve()} (no {journal_path(ws)}). Hint: pass --workspace DIR",
              file=stderr)
        return EXIT_USAGE
    try:
        with Journal.open(ws) as journal:
            detail = journal.get_run(run_id)
    except JournalError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    if json_out:
        json.dump(run_json(detail), stdout, indent=2, ensure_ascii=False)
        stdout.write("\n")
    else:
        render_run(Console(file=stdout, highlight=False, soft_wrap=full), detail, full=full)
    return EXIT_OK
