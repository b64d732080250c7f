"""`wf` builds the parser of the one command it runs (wflang/cli.py, `command_named`): the
namespace, every help text, usage line and error message, and the exit code are those of
the parser of every command, for every command line."""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wflang.cli import _COMMANDS, _parser, command_named

LINES = [
    [], ["--help"], ["-h"], ["--version"], ["--ver"], ["bogus"], ["--bogus"], ["--bogus", "run", "x"], ["-1", "run"],
    ["run"], ["run", "--help"], ["run", "-h", "x"], ["run", "x.wf", "--yes"], ["run", "x.wf", "--concurrency", "0"],
    ["run", "x.wf", "--concurrency", "abc"], ["run", "x.wf", "--bogus"], ["run", "x.wf", "--sample", "x"],
    ["run", "x.wf", "--conc", "3", "--ye"], ["run", "x", "--args-json"], ["run", "--request-timeout", "x", "f"],
    ["--color", "never", "run"], ["--color", "never", "run", "x.wf"], ["--color=never", "bogus"],
    ["--color=always", "run", "--help"], ["--color", "bad", "run", "x"], ["--color"], ["--color", "--version", "run"],
    ["--col", "never", "check", "f"], ["--", "run", "x"], ["-", "run"], ["ru", "x"], ["run", "--color", "bad", "x"],
    ["check", "a.wf", "run"], ["check", "--args"], ["check", "--color", "never", "a.wf", "--json"],
    ["compile", "f", "-o", "o.js", "--install"], ["runs", "--limit", "x"], ["show"], ["show", "r-1", "--full"],
    ["graph", "x", "--format", "png"], ["new", "n", "--pattern", "zzz"], ["fake"], ["fake", "bogus", "x"],
    ["fake", "init", "f.wf", "-o", "a.json"], ["fake", "init", "--help"],
    *([c] for c in _COMMANDS), *([c, "--help"] for c in _COMMANDS),
]


def _outcome(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            result: object = vars(parser.parse_args(argv))
        except SystemExit as stop:
            result = ("exit", stop.code)
    return result, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", LINES, ids=" ".join)
def test_the_parser_of_one_command_answers_as_the_parser_of_all(argv: list[str]) -> None:
    assert _outcome(_parser(command_named(argv)), argv) == _outcome(_parser(), argv)


WORDS = st.sampled_from([*_COMMANDS, "--color", "never", "--color=auto", "-h", "--help", "--version", "--json",
                         "--yes", "--args", "x.wf", "-o", "--", "-", "--conc", "4", "init", "--limit", "--bogus"])


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=6))
def test_any_line_of_known_words_is_parsed_alike(argv: list[str]) -> None:
    assert _outcome(_parser(command_named(argv)), argv) == _outcome(_parser(), argv)


def test_a_plain_command_line_builds_only_its_command() -> None:
    assert command_named(["--color", "never", "run", "x.wf", "--yes"]) == "run"
    assert command_named(["--color=never", "check", "a.wf"]) == "check"
    for unclear in ([], ["--help"], ["--version"], ["bogus"], ["--col", "never", "run"], ["--", "run"], ["-", "run"]):
        assert command_named(unclear) is None
    sub = next(a for a in _parser("run")._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == ["run"]
