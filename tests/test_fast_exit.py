"""The fast exit of a finished `wf run` / `wf check` process (cli._end_process: atexit
callbacks, a flush, os._exit), tried where output is most easily lost: a record larger
than a pipe's buffer, `--out FILE`, stdout redirected to a file, a run whose agents all
fail, a budget stop, a check with errors, a reader that closes the pipe after one line.
Each process's exit code, stdout and stderr are those of the same command run in process
(where `main` returns and nothing is cut short), and its journal is closed and usable by
`wf show`, `wf runs` and `--resume` afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_exit import in_process

ROOT = Path(__file__).resolve().parent.parent

# A result of about 130 kB: more than a pipe holds, so the last flush happens at the exit.
BIG = '''workflow big:
    description: "a large result"
input big: list[str] max 1000
r = fanout b in big[:3]:
    agent "say something about {b}" -> str
return {big: big, r: r}
'''
BUDGET = '''workflow b:
    description: "a token budget that stops the run"
budget output_tokens <= 30
input big: list[str] max 1000
r = fanout x in big[:6]:
    agent "item {x}" -> str
return r
'''
BAD = 'workflow w:\n    description: "x"\ninput big: list[str] max 1000\nreturn nope\n'
LONG = "a long answer " * 8
FAKES = {
    "ok": {"rules": [], "default": "schema"},
    "fail": {"rules": [], "default": "fail"},
    "long": {"rules": [{"label": "*", "reply": LONG}]},
}


def _env() -> dict[str, str]:
    # as a user's shell has it: stdout buffered, so the last flush is the exit's own
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONUNBUFFERED")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _setup(ws: Path) -> Path:
    ws.mkdir(parents=True)
    for name, text in (("big.wf", BIG), ("budget.wf", BUDGET), ("bad.wf", BAD)):
        (ws / name).write_text(text, encoding="utf-8")
    for name, fake in FAKES.items():
        (ws / f"{name}.json").write_text(json.dumps(fake), encoding="utf-8")
    (ws / "args.json").write_text(json.dumps({"big": ["x" * 200 + str(i) for i in range(600)]}), encoding="utf-8")
    return ws


def _proc(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wflang", *_one_at_a_time(args)], cwd=ws, env=_env(), capture_output=True,
                          text=True, timeout=120)


def _one_at_a_time(args: tuple[str, ...] | list[str]) -> list[str]:
    """Agents one at a time: their lines on stderr come in one order."""
    return [*args, "--concurrency", "1"] if args and args[0] == "run" else list(args)


def _in_process(ws: Path, *args: str) -> tuple[int, str, str]:
    return in_process(ws, *_one_at_a_time(args))


def _stable(text: str) -> str:
    """Run ids, durations and the workspace's path differ from run to run; the rest must not."""
    text = re.sub(r"r-\d{8}-\d{6}-[0-9a-f]{4}", "RUN", text)
    text = re.sub(r"\b\d+\.\ds\b", "T.Ts", text)
    text = re.sub(r"r · x \d", "r · x N", text)  # which waiting agent a budget refuses first: any
    return re.sub(r'"duration_s": [0-9.e-]+', '"duration_s": T', re.sub(r"/\S*/(proc|here)/", "WS/", text))


def _closed_journal(ws: Path) -> None:
    """Closed, not only committed: SQLite removes the WAL and shm files with the last connection."""
    assert sorted(p.name for p in (ws / ".wf").iterdir()) == ["journal.sqlite"]


CASES = {  # name: (argv, exit code)
    "json": (("run", "big.wf", "--args", "args.json", "--fake", "ok.json", "--yes", "--json"), 0),
    "plain": (("run", "big.wf", "--args", "args.json", "--fake", "ok.json", "--yes"), 0),
    "out": (("run", "big.wf", "--args", "args.json", "--fake", "ok.json", "--yes", "-o", "result.json"), 0),
    "json-out": (("run", "big.wf", "--args", "args.json", "--fake", "ok.json", "--yes", "--json",
                  "--out", "result.json"), 0),
    "all-fail": (("run", "big.wf", "--args", "args.json", "--fake", "fail.json", "--yes"), 1),
    "all-fail-json": (("run", "big.wf", "--args", "args.json", "--fake", "fail.json", "--yes", "--json"), 1),
    "budget": (("run", "budget.wf", "--args", "args.json", "--fake", "long.json", "--yes", "--json"), 1),
    "check-errors": (("check", "bad.wf"), 1),
    "check-errors-json": (("check", "bad.wf", "--json"), 1),
    "check-ok-args": (("check", "big.wf", "--args", "args.json", "--json"), 0),
}


@pytest.mark.parametrize("case", CASES)
def test_a_process_ends_with_all_its_output_and_a_closed_journal(tmp_path: Path, case: str) -> None:
    argv, expected = CASES[case]
    proc = _proc(_setup(tmp_path / "proc"), *argv)
    code, out, err = _in_process(_setup(tmp_path / "here"), *argv)
    assert (proc.returncode, _stable(proc.stdout), _stable(proc.stderr)) == (code, _stable(out), _stable(err))
    assert code == expected, err
    if argv[0] != "run":
        return
    ws = tmp_path / "proc"
    _closed_journal(ws)
    if "--json" in argv:
        assert json.loads(proc.stdout)["status"] == ("done" if expected == 0 else "failed")
    if "result.json" in argv:  # written whole and closed
        written = (ws / "result.json").read_text(encoding="utf-8")
        assert written == (tmp_path / "here" / "result.json").read_text(encoding="utf-8")
        assert len(json.loads(written)["big"]) == 600 and written.endswith("}\n")
    run_id = re.search(r"r-\d{8}-\d{6}-[0-9a-f]{4}", proc.stderr).group(0)  # type: ignore[union-attr]
    shown = _proc(ws, "show", run_id)
    assert shown.returncode == 0 and run_id in shown.stdout, shown.stderr
    listed = _proc(ws, "runs")
    assert listed.returncode == 0 and run_id in listed.stdout, listed.stderr
    # A finished run resumes with other arguments (the same would be nothing to do); the
    # agents it ran are served from the journal the fast exit left.
    again = [a if a != "args.json" else "fewer.json" for a in argv] if expected == 0 else list(argv)
    (ws / "fewer.json").write_text(json.dumps({"big": ["x" * 200 + str(i) for i in range(599)]}), encoding="utf-8")
    resumed = _proc(ws, *again, "--resume", run_id)
    assert resumed.returncode == expected, resumed.stderr
    assert re.search(r"resume: [1-9]\d* agents? served from the journal", resumed.stderr) or expected, resumed.stderr
    _closed_journal(ws)


@pytest.mark.parametrize("fake,expected", [("ok", 0), ("fail", 1)])
def test_stdout_redirected_to_a_file_gets_the_whole_result(tmp_path: Path, fake: str, expected: int) -> None:
    ws = _setup(tmp_path / "ws")
    with open(ws / "stdout.txt", "w", encoding="utf-8") as f:
        proc = subprocess.run([sys.executable, "-m", "wflang", "run", "big.wf", "--args", "args.json", "--fake",
                               f"{fake}.json", "--yes", "--json"], cwd=ws, env=_env(), stdout=f,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == expected, proc.stderr
    record = json.loads((ws / "stdout.txt").read_text(encoding="utf-8"))
    assert record["status"] == ("done" if expected == 0 else "failed")
    assert len(record["result"]["big"]) == 600
    _closed_journal(ws)


@pytest.mark.parametrize("fake,expected", [("ok", 0), ("fail", 1)])
def test_a_reader_that_stops_after_one_line_keeps_the_exit_code_and_the_journal(tmp_path: Path, fake: str,
                                                                                  expected: int) -> None:
    """`wf run ... | head -1`: the writer is blocked on a full pipe when the reader goes;
    the exit code is still the run's, no traceback, and the run is journaled whole."""
    ws = _setup(tmp_path / "ws")
    proc = subprocess.Popen([sys.executable, "-m", "wflang", "run", "big.wf", "--args", "args.json", "--fake",
                             f"{fake}.json", "--yes", "--json"], cwd=ws, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == expected, err
    assert first == b"{\n"
    assert "Traceback" not in err and "internal error" not in err and "Broken" not in err
    _closed_journal(ws)
    run_id = re.search(r"r-\d{8}-\d{6}-[0-9a-f]{4}", err).group(0)  # type: ignore[union-attr]
    shown = _proc(ws, "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert ('"done"' if expected == 0 else '"failed"') in shown.stdout
