"""The `wf` command: thin; each subcommand calls the package's public functions.

Heavy modules (trio, the anthropic SDK, the emitter) are imported inside the
subcommand that needs them, so `wf check` starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TextIO

from wflang import exits

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = exits.OK, exits.ERRORS, exits.USAGE, exits.INTERNAL
MAX_CONCURRENCY = 16  # Claude Code's limit of agents at once; `wf run` keeps to it

_EXAMPLES = {
    "check": "  wf check examples/pr-review/pr-review.wf --args examples/pr-review/args.json",
    "compile": "  wf compile examples/pr-review/pr-review.wf --install",
    "run": "  wf run examples/pr-review/pr-review.wf --args examples/pr-review/args.json \\\n"
           "      --fake examples/pr-review/fake.json --allow edit,shell --yes",
    "runs": "  wf runs --limit 5",
    "show": "  wf show r-20261125-191609-bd4f --full",
    "graph": "  wf graph examples/pr-review/pr-review.wf --format dot -o pr-review.dot",
    "new": "  wf new my-review --pattern review",
    "fake": "  wf fake init examples/pr-review/pr-review.wf --args examples/pr-review/args.json -o answers.json",
}


def _epilog(command: str) -> str:
    codes = ", ".join(f"{c} {exits.SHORT[c]}" for c in exits.BY_COMMAND[command])
    return f"example:\n{_EXAMPLES[command]}\n\nexit status: {codes} (docs/cli.md)"


def _concurrency_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a whole number from 1 to {MAX_CONCURRENCY}, not {text!r}") from None
    if not 1 <= n <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"takes 1 to {MAX_CONCURRENCY} agents at once, not {n}")
    return n


COLOR_HELP = "colour in diagnostics: auto (a terminal, unless NO_COLOR is set), always, never"


def _check_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--args", dest="args_file", metavar="F", help="JSON arguments: validate and bound them")
    c.add_argument("--json", action="store_true", help="machine-readable report")


def _compile_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("file", metavar="FILE")
    c.add_argument("-o", "--out", metavar="OUT", help="write here instead of stdout")
    c.add_argument("--install", action="store_true", help="write .claude/workflows/<name>.js here")
    c.add_argument("--force", action="store_true", help="with --install: overwrite a different file")


def _run_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("file", metavar="FILE")
    c.add_argument("--args", dest="args_file", metavar="F", help="JSON file of arguments")
    c.add_argument("--args-json", metavar="JSON", help="arguments as a JSON string")
    c.add_argument("--fake", metavar="F", help="answer agents from a fake-answers file (no API calls)")
    c.add_argument("--resume", metavar="RUN_ID",
                   help="resume a run, also after edits: agents whose request is unchanged are served from "
                        "the journal; its options carry over")
    c.add_argument("--concurrency", type=_concurrency_arg, default=None, metavar="N",
                   help=f"agents at once, 1 to {MAX_CONCURRENCY} (default {MAX_CONCURRENCY}, or the resumed run's)")
    c.add_argument("--allow", metavar="CAPS",
                   help="confirm capabilities: edit,shell (a resume keeps the original run's)")
    c.add_argument("--sample", type=int, metavar="N", help="run on the first N items of each list input")
    c.add_argument("--json", action="store_true",
                   help="print one JSON record (status, result, agents, tokens, cost, run id) instead of the story")
    c.add_argument("--out", "-o", metavar="F", help="write the result (JSON) to this file")
    c.add_argument("--workspace", default=".", metavar="DIR", help="where agents work (default: .)")
    c.add_argument("--yes", action="store_true", help="do not ask before starting")
    c.add_argument("--batch", action="store_true",
                   help="send tool-less agents (tools=none) through the Message Batches API: half price, "
                        "results within 24 h")
    c.add_argument("--request-timeout", type=float, metavar="S",
                   help="seconds one API request may take (default 90)")
    c.add_argument("--stall-timeout", type=float, metavar="S",
                   help="seconds one agent turn may wait on the API, retries included (default 240)")


def _runs_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("--workspace", default=".", metavar="DIR")
    c.add_argument("--limit", type=int, default=20)
    c.add_argument("--json", action="store_true")


def _show_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("run_id", metavar="RUN_ID")
    c.add_argument("--workspace", default=".", metavar="DIR")
    c.add_argument("--full", action="store_true", help="whole prompts and answers (default: their beginning)")
    c.add_argument("--json", action="store_true")


def _graph_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("file", metavar="FILE")
    c.add_argument("--format", choices=["mermaid", "dot", "svg"], default="mermaid")
    c.add_argument("-o", "--out", metavar="OUT")


def _new_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("name", metavar="NAME")
    c.add_argument("--pattern", default="review",
                   choices=["review", "sweep", "research", "fix", "vote", "tournament"])
    c.add_argument("-o", "--out", metavar="OUT", help="file to write (default NAME.wf)")


def _fake_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("action", choices=["init"], metavar="init")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--args", dest="args_file", metavar="F", help="JSON file of arguments (labels depend on them)")
    c.add_argument("--args-json", metavar="JSON", help="arguments as a JSON string")
    c.add_argument("-o", "--out", metavar="OUT", help="write here instead of stdout (refuses to overwrite)")


# Each command: its one-line help (also its description) and its options, in `wf --help` order.
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "check": ("prove the worst-case agent bound; report errors", _check_options),
    "compile": ("emit the Claude Code workflow script (JavaScript)", _compile_options),
    "run": ("execute a workflow with subagents", _run_options),
    "runs": ("list journaled runs", _runs_options),
    "show": ("show one run: agents with their prompts and answers, tokens, result", _show_options),
    "graph": ("draw the workflow (Mermaid, dot or SVG)", _graph_options),
    "new": ("start a workflow from a pattern", _new_options),
    "fake": ("write a skeleton fake-answer file: every label and schema a run produces", _fake_options),
}


def command_named(argv: list[str]) -> str | None:
    """The command `argv` runs, when that is plain from the words before it: only the
    top-level `--color X` / `--color=X` may come first. None otherwise (no command, help,
    `--version`, an abbreviated or unknown option, `--`...): then every command is built."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--color":
            i += 2
        elif word.startswith("--color="):
            i += 1
        elif word.startswith("-"):
            return None
        else:
            return word if word in _COMMANDS else None
    return None


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """`wf`'s parser; with `only`, the one command argparse will run is the only one it
    holds. An ArgumentParser and its options cost about a millisecond per command (each
    option asks the terminal its width), and a run needs one. Whatever argv `command_named`
    names `only` for gives the same namespace, messages and exit code either way: the
    top-level help and the invalid-command error, the only outputs that list the other
    commands, come from argv it returns None for (tests/test_cli_parser.py)."""
    from wflang import __version__
    from wflang.color import MODES

    p = argparse.ArgumentParser(prog="wf", description="Check, compile and run .wf workflows.",
                                epilog="run `wf COMMAND --help` for a command's options and an example",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"wf (wflang) {__version__}")
    p.add_argument("--color", choices=MODES, default="auto", help=COLOR_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help, options) in _COMMANDS.items():
        if only is not None and name != only:
            continue
        c = sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".", epilog=_epilog(name),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        # also after the command (`wf check --color never F`); SUPPRESS keeps the top-level value
        c.add_argument("--color", choices=MODES, default=argparse.SUPPRESS, help=COLOR_HELP)
        options(c)
    return p


def check_command(files: list[str], args_file: str | None, as_json: bool,
                  stdout: TextIO, stderr: TextIO) -> int:
    from wflang.color import paint
    from wflang.dsl.arguments import sizes as arg_sizes
    from wflang.dsl.arguments import validate_args
    from wflang.dsl.diagnostics import Diagnostic
    from wflang.dsl.loader import load
    from wflang.dsl.report import as_json as report_json
    from wflang.dsl.report import human

    raw_args = None
    if args_file is not None:
        raw_args, problem = read_json_file(args_file)
        if problem:
            print(f"error: {problem}", file=stderr)
            return EXIT_USAGE
    status = EXIT_OK
    unreadable = False
    reports = []
    for path in files:
        loaded = load(path)
        # A path that cannot be read is a mistake on the command line, not in a program.
        unreadable = unreadable or any(d.code == "WF001" for d in loaded.diagnostics)
        arg_diags: list[Diagnostic] = []
        sizes = None
        if args_file is not None and loaded.ok:
            values, arg_diags = validate_args(loaded.program, raw_args)
            if not arg_diags and loaded.program.requires:
                # the interpreter evaluates `require` lines; it brings trio and rich, which
                # a program without them must not pay for at start-up
                from wflang.runtime import requirements

                arg_diags = requirements.diagnostics(loaded.program, values)
            if not arg_diags:
                sizes = arg_sizes(loaded.program, values)
        if not loaded.ok or arg_diags:
            status = EXIT_ERRORS
        if as_json:
            reports.append(report_json(loaded, args_file, sizes, arg_diags))
        else:
            print(paint(human(loaded, args_file, sizes, arg_diags), stdout), file=stdout)
    if as_json:
        json.dump(reports if len(reports) > 1 else reports[0], stdout, indent=2, ensure_ascii=False)
        stdout.write("\n")
    return EXIT_USAGE if unreadable else status


def read_json_file(path: str) -> tuple[object, str | None]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return None, f"cannot read {path}: {e.strerror}"
    except UnicodeDecodeError:
        return None, f"{path} is not UTF-8 text"
    try:
        from wflang.dsl import jsonread

        return jsonread.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}"


def main(argv: list[str] | None = None) -> int:
    parser = _parser(command_named(sys.argv[1:] if argv is None else argv))
    ns = parser.parse_args(argv)
    if ns.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    ends_process = argv is None and ns.command in ("check", "run")
    if ends_process:
        import atexit
        import gc

        # The process ends after the report. Its last collection would walk the parser's
        # tables and the tree (hundreds of thousands of objects) only to free them: 4% of
        # a fresh `wf check`, 3% of a `wf run` of 1,000 agents. Frozen objects are left to
        # the exit; a check owns no file, lock or connection that needs a finalizer, and a
        # run has closed its journal and written its result by then. (Not when called in
        # a process that goes on, e.g. with an argv list from a test.) Kept for the exits
        # that go through the interpreter's teardown (see _end_process).
        atexit.register(gc.freeze)
        # Nor does the collector need to run before: the imports make modules and classes,
        # and a check's parse and check already pause it (gcpause.py); its passes over what
        # the imports made were 3% of a `wf check` and 19 M instructions of a `wf run`,
        # whose run turns it on again once the prepared objects are frozen (run_cli).
        gc.disable()
    from wflang import color

    previous, saved_env = color.get_mode(), os.environ.get("NO_COLOR")
    color.set_mode(ns.color)
    if ns.color == "never":
        os.environ["NO_COLOR"] = "1"  # rich (the run's live view and tables) honours it too
    try:
        code = _dispatch(ns)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a traceback reaching a user is a bug: say so, briefly
        if os.environ.get("WF_DEBUG"):
            raise
        print(f"internal error: {type(e).__name__}: {e}\n"
              "this is a bug in wflang; run again with WF_DEBUG=1 for the traceback and report it",
              file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        color.set_mode(previous)
        if ns.color == "never":
            if saved_env is None:
                os.environ.pop("NO_COLOR", None)
            else:
                os.environ["NO_COLOR"] = saved_env
    if ends_process:
        _end_process(code)  # returns only when the interpreter's own exit must run
    return code


def _end_process(code: int) -> None:
    """End a `wf run` or `wf check` process that has finished normally, without the
    interpreter's teardown, which frees every module and object one by one only for the
    process to end (trio and its imports alone made the exit a quarter slower: `os._exit`
    after `import trio` against a normal exit). Nothing is lost: by the time `_dispatch`
    returns, a run has committed and closed its journal, closed its backend (its client,
    the agents' tools) and written its result; a check opened nothing that stays open.
    What a normal exit still does is done here: the atexit callbacks (logging.shutdown,
    which flushes any log handler, and whatever else a library registered), then stdout
    and stderr are flushed. A stream that cannot be flushed any more (a closed pipe:
    `wf run ... | head -1`) changes nothing: the exit code stays the command's. Left to
    the interpreter: a Python without `atexit._run_exitfuncs`, and a process where a
    thread that is not a daemon still runs (the interpreter waits for it at exit), and a
    process under a profiler or tracer (`python -m cProfile`, coverage), whose report is
    written after main returns."""
    import atexit

    if sys.getprofile() is not None or sys.gettrace() is not None:
        return  # a profiler or a coverage tracer writes its data after main returns
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    threading = sys.modules.get("threading")  # not imported: no thread to wait for
    if run_exitfuncs is None or (threading is not None and any(
            t.is_alive() and not t.daemon and t is not threading.main_thread() for t in threading.enumerate())):
        return
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # a closed pipe or stream: nothing more can be written to it
            pass
    os._exit(code)


def _dispatch(ns: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    if ns.command == "check":
        return check_command(ns.files, ns.args_file, ns.json, out, err)
    if ns.command == "compile":
        from wflang.transpiler.compile_cli import compile_command
        return compile_command(ns.file, ns.out, ns.install, ns.force, out, err)
    if ns.command == "run":
        from wflang.runtime.run_cli import run_command
        return run_command(file=ns.file, args_file=ns.args_file, args_json=ns.args_json, fake=ns.fake,
                           resume=ns.resume, concurrency=ns.concurrency, allow=ns.allow, sample=ns.sample,
                           json_out=ns.json, out_file=ns.out, workspace=ns.workspace, yes=ns.yes,
                           request_timeout=ns.request_timeout, stall_timeout=ns.stall_timeout,
                           batch=True if ns.batch else None,
                           stdout=out, stderr=err)
    if ns.command == "runs":
        from wflang.runtime.run_cli import runs_command
        return runs_command(workspace=ns.workspace, limit=ns.limit, json_out=ns.json, stdout=out, stderr=err)
    if ns.command == "show":
        from wflang.runtime.run_cli import show_command
        return show_command(run_id=ns.run_id, workspace=ns.workspace, json_out=ns.json, full=ns.full,
                            stdout=out, stderr=err)
    if ns.command == "graph":
        from wflang.graph import graph_command
        return graph_command(ns.file, ns.format, ns.out, out, err)
    if ns.command == "new":
        from wflang.patterns import new_command
        return new_command(ns.name, ns.pattern, ns.out, out, err)
    if ns.command == "fake":
        from wflang.runtime.fake_init import fake_init_command
        return fake_init_command(ns.file, ns.args_file, ns.args_json, ns.out, out, err)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
