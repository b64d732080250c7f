"""The nesting limit: a program up to MAX_DEPTH levels goes through every stage (check,
compile, run, graph) without a RecursionError; one level past it, and the deep cases that
once crashed (250 nested `if`, 500 parentheses, a 340-term sum, a 300-deep list), get the
located WF117 diagnostic."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from wflang.cli import EXIT_ERRORS, EXIT_OK, check_command
from wflang.dsl.loader import load
from wflang.dsl.parser import MAX_DEPTH
from wflang.graph import graph_command
from wflang.runtime.run_cli import run_command
from wflang.transpiler.compile_cli import compile_command

HEAD = 'workflow deep:\n    description: "nesting"\n\n'


def _ifs(n: int) -> str:
    body = "".join("    " * i + "if len(xs) > 0:\n" for i in range(n))
    return "xs = [1]\n" + body + "    " * n + 'log "deep"\nreturn xs\n'


def _elifs(n: int) -> str:
    return ("x = 1\nif x == 0:\n    y = 0\n" + "".join(f"elif x == {i}:\n    y = {i}\n" for i in range(1, n))
            + "else:\n    y = 5\nreturn y\n")


N = MAX_DEPTH - 4  # the statement and the program around the expression take a few levels
AT_LIMIT = {
    "parens": "x = " + "(" * N + "1" + ")" * N + "\nreturn x\n",
    "sum": "x = " + " + ".join(["1"] * N) + "\nreturn x\n",
    "list": "x = " + "[" * N + "1" + "]" * N + "\nreturn x\n",
    "not": "x = " + "not " * N + "true\nreturn x\n",
    "neg": "x = " + "- " * N + "1\nreturn x\n",
    "ifs": _ifs(MAX_DEPTH // 2 - 2),
    "elifs": _elifs(MAX_DEPTH - 4),
    "prompt": 'phase "P":\n    r = agent "q {' + " + ".join(["1"] * (N - 4)) + '}"\nreturn r\n',
}
TOO_DEEP = {
    "ifs_250": _ifs(250),
    "parens_500": "x = " + "(" * 500 + "1" + ")" * 500 + "\nreturn x\n",
    "sum_340": "x = " + " + ".join(["1"] * 340) + "\nreturn x\n",
    "list_300": "x = " + "[" * 300 + "1" + "]" * 300 + "\nreturn x\n",
    "elifs_300": _elifs(300),
    "interpolation": 'x = {a: 1}\ny = "{x' + ".a" * 200 + '}"\nreturn y\n',
    "one_past": "x = " + "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1) + "\nreturn x\n",
}


@pytest.mark.parametrize("name", sorted(AT_LIMIT))
def test_every_stage_at_the_limit(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.wf"
    path.write_text(HEAD + AT_LIMIT[name], encoding="utf-8")
    loaded = load(str(path))
    assert loaded.ok, [(d.code, d.message) for d in loaded.diagnostics]
    out, err = io.StringIO(), io.StringIO()
    assert compile_command(str(path), str(tmp_path / "out.js"), False, False, out, err) == EXIT_OK, err.getvalue()
    assert graph_command(str(path), "mermaid", None, io.StringIO(), err) == EXIT_OK, err.getvalue()
    fake = tmp_path / "fake.json"
    fake.write_text("{}", encoding="utf-8")
    ws = tmp_path / "ws"
    ws.mkdir()
    status = run_command(file=str(path), fake=str(fake), workspace=str(ws), yes=True, stdout=io.StringIO(),
                         stderr=err)
    assert status == EXIT_OK, err.getvalue()
    assert "Recursion" not in err.getvalue() and "internal error" not in err.getvalue()


@pytest.mark.parametrize("name", sorted(TOO_DEEP))
def test_too_deep_is_a_located_diagnostic(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.wf"
    path.write_text(HEAD + TOO_DEEP[name], encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert check_command([str(path)], None, False, out, err) == EXIT_ERRORS
    assert err.getvalue() == ""
    text = out.getvalue()
    assert "error[WF117]" in text and f"more than {MAX_DEPTH} levels" in text, text[:400]
    assert f"--> {path}:" in text
    err2 = io.StringIO()
    assert compile_command(str(path), str(tmp_path / "o.js"), False, False, io.StringIO(), err2) != EXIT_OK
    assert "WF117" in err2.getvalue() and "internal error" not in err2.getvalue()
