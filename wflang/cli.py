"""The `wf` command: thin; each subcommand calls the package's public functions.

Heavy modules (trio, the anthropic SDK, the emitter) are imported inside the
subcommand that needs them, so `wf check` starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wf", description="Check, compile and run .wf workflows.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="prove the worst-case agent bound; report errors",
                       epilog="exit status: 0 every file checks (and fits --args); 1 a file or the "
                              "arguments have errors; 2 usage: a bad flag, no FILE, a FILE or --args "
                              "file that cannot be read (the FILE's error is still reported), --args "
                              "not JSON")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--args", dest="args_file", metavar="F", help="JSON arguments: validate and bound them")
    c.add_argument("--json", action="store_true", help="machine-readable report")

    c = sub.add_parser("compile", help="emit the Claude Code workflow script (JavaScript)")
    c.add_argument("file", metavar="FILE")
    c.add_argument("-o", "--out", metavar="OUT", help="write here instead of stdout")
    c.add_argument("--install", action="store_true", help="write .claude/workflows/<name>.js here")
    c.add_argument("--force", action="store_true", help="with --install: overwrite a different file")

    c = sub.add_parser("run", help="execute a workflow with subagents")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--args", dest="args_file", metavar="F", help="JSON file of arguments")
    c.add_argument("--args-json", metavar="JSON", help="arguments as a JSON string")
    c.add_argument("--fake", metavar="F", help="answer agents from a fake-answers file (no API calls)")
    c.add_argument("--resume", metavar="RUN_ID",
                   help="resume a run, also after edits: agents whose request is unchanged are served from "
                        "the journal; its options carry over")
    c.add_argument("--concurrency", type=int, metavar="N",
                   help="agents at once (1-16; default 16, or the resumed run's)")
    c.add_argument("--allow", metavar="CAPS",
                   help="confirm capabilities: edit,shell (a resume keeps the original run's)")
    c.add_argument("--sample", type=int, metavar="N", help="run on the first N items of each list input")
    c.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    c.add_argument("--out", metavar="F", help="write the result (JSON) to this file")
    c.add_argument("--workspace", default=".", metavar="DIR", help="where agents work (default: .)")
    c.add_argument("--yes", action="store_true", help="do not ask before starting")
    c.add_argument("--request-timeout", type=float, metavar="S",
                   help="seconds one API request may take (default 90)")
    c.add_argument("--stall-timeout", type=float, metavar="S",
                   help="seconds one agent turn may wait on the API, retries included (default 240)")

    c = sub.add_parser("runs", help="list journaled runs")
    c.add_argument("--workspace", default=".", metavar="DIR")
    c.add_argument("--limit", type=int, default=20)
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("show", help="show one run: agents, tokens, result")
    c.add_argument("run_id", metavar="RUN_ID")
    c.add_argument("--workspace", default=".", metavar="DIR")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("graph", help="draw the workflow (Mermaid, dot or SVG)")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--format", choices=["mermaid", "dot", "svg"], default="mermaid")
    c.add_argument("-o", "--out", metavar="OUT")

    c = sub.add_parser("new", help="start a workflow from a pattern")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--pattern", default="review",
                   choices=["review", "sweep", "research", "fix", "vote", "tournament"])
    c.add_argument("-o", "--out", metavar="OUT", help="file to write (default NAME.wf)")
    return p


def check_command(files: list[str], args_file: str | None, as_json: bool,
                  stdout: TextIO, stderr: TextIO) -> int:
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
            if not arg_diags:
                sizes = arg_sizes(loaded.program, values)
        if not loaded.ok or arg_diags:
            status = EXIT_ERRORS
        if as_json:
            reports.append(report_json(loaded, args_file, sizes, arg_diags))
        else:
            print(human(loaded, args_file, sizes, arg_diags), file=stdout)
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
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    ns = parser.parse_args(argv)
    if ns.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _dispatch(ns)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a traceback reaching a user is a bug: say so, briefly
        if os.environ.get("WF_DEBUG"):
            raise
        print(f"internal error: {type(e).__name__}: {e}\n"
              "this is a bug in wflang; run again with WF_DEBUG=1 for the traceback and report it",
              file=sys.stderr)
        return EXIT_INTERNAL


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
                           stdout=out, stderr=err)
    if ns.command == "runs":
        from wflang.runtime.run_cli import runs_command
        return runs_command(workspace=ns.workspace, limit=ns.limit, json_out=ns.json, stdout=out, stderr=err)
    if ns.command == "show":
        from wflang.runtime.run_cli import show_command
        return show_command(run_id=ns.run_id, workspace=ns.workspace, json_out=ns.json, stdout=out, stderr=err)
    if ns.command == "graph":
        from wflang.graph import graph_command
        return graph_command(ns.file, ns.format, ns.out, out, err)
    if ns.command == "new":
        from wflang.patterns import new_command
        return new_command(ns.name, ns.pattern, ns.out, out, err)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
