"""`wf check` loads only the front end: the modules it imports are pinned here, not its
time (bench/bench_check.py measures that). Run-only modules (trio, the anthropic SDK,
rich, jsonschema, httpx, the interpreter, the JS emitter) cost a fresh process tens of
milliseconds each and a check never uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pr-review"

# Top-level packages and our own subpackages that `wf check` must not import.
RUN_ONLY = ("trio", "anthropic", "rich", "jsonschema", "httpx", "httpcore", "anyio", "sqlite3", "asyncio",
            "lark", "wflang.runtime", "wflang.transpiler", "wflang.graph", "wflang.patterns")

PROBE = """
import json, os, sys
args, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["wf", *args]
def report(code):
    loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in watched))
    print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
exit_now = os._exit
os._exit = lambda code: (report(code), sys.stderr.flush(), exit_now(code))  # `wf check` ends the process
from wflang.cli import main
report(main())  # as the console script calls it
"""


def _probe(cache: Path, *args: str) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(RUN_ONLY)],
                         env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    return json.loads(out.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A parser cache made by a first check (that one imports lark to build it)."""
    path = tmp_path_factory.mktemp("cache")
    assert _probe(path, "check", str(EXAMPLE / "pr-review.wf"))["code"] == 0
    return path


@pytest.mark.parametrize("extra", [[], ["--json"], ["--args", str(EXAMPLE / "args.json")],
                                   ["--args", str(EXAMPLE / "args.json"), "--json"]],
                         ids=["plain", "json", "args", "args-json"])
def test_check_imports_no_run_only_module(cache: Path, extra: list[str]) -> None:
    result = _probe(cache, "check", str(EXAMPLE / "pr-review.wf"), *extra)
    assert result == {"code": 0, "loaded": []}


def test_an_error_report_imports_no_run_only_module(cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wf"
    bad.write_text('workflow w:\n    description: "x"\n\nphase "P":\n    x = nope + 1\n', encoding="utf-8")
    result = _probe(cache, "check", str(bad))
    assert result == {"code": 1, "loaded": []}


def test_a_program_with_require_lines_is_still_checked_against_them(cache: Path, tmp_path: Path) -> None:
    """The interpreter (and trio with it) is loaded only when a program has `require`
    lines to evaluate: the guard that keeps it out of other checks must not skip them."""
    wf = tmp_path / "req.wf"
    wf.write_text('workflow w:\n    description: "x"\n\ninput n: int max 9\nrequire n > 2, "n must exceed 2"\n\n'
                  'phase "P":\n    a = agent "hi {n}" -> str\n\nreturn {a: a}\n', encoding="utf-8")
    args = tmp_path / "args.json"
    args.write_text('{"n": 1}', encoding="utf-8")
    result = _probe(cache, "check", str(wf), "--args", str(args))
    assert result["code"] == 1
    assert "wflang.runtime" in result["loaded"]


def test_without_site_hooks_check_needs_no_file_machinery(cache: Path) -> None:
    """Run as on a machine whose `site` imports nothing (`python -S`; here a sandbox's
    `.pth` hook imports certifi and with it importlib.resources, pathlib, zipfile...):
    `wf check` reads its grammar and the file itself and needs none of them, nor any
    installed package (the parser cache replaces lark)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    watched = ["importlib.resources", "pathlib", "zipfile", "tempfile", "urllib", "lark", "trio", "rich"]
    out = subprocess.run([sys.executable, "-S", "-c", PROBE, json.dumps(["check", str(EXAMPLE / "pr-review.wf")]),
                          json.dumps(watched)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert json.loads(out.stderr.strip().splitlines()[-1]) == {"code": 0, "loaded": []}, out.stderr[-2000:]
