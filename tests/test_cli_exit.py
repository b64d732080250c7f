"""A `wf run` or `wf check` process ends with `os._exit` once its command has returned
(wflang/cli.py, `_end_process`): no interpreter teardown, but nothing lost. Pinned on real
`python -m wflang` processes: their whole output and exit code are those of the same
command run in process (where `main` returns), the journal is committed and closed, the
atexit callbacks still run, and a closed stdout does not change the exit code."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from wflang.cli import main
from wflang.runtime.journal import Journal

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = '''workflow t:
    description: "three agents and a log line"
input xs: list[int] max 10
type R:
    n: int
log "starting"
r = fanout x in xs:
    agent "item {x}" -> R
return {count: len(r), first: r[0]}
'''
FAILING = 'workflow f:\n    description: "fails"\ninput n: int max 9\nfail "no luck with {n}"\n'
FAKE = {"rules": [], "default": "schema"}


def _env() -> dict[str, str]:
    # as a user's shell has it: stdout buffered (so the last flush is the exit's own)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONUNBUFFERED")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _wf(ws: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wflang", *args], cwd=ws, env=_env(), text=True,
                          timeout=120, **kw)  # type: ignore[call-overload]


def in_process(ws: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ws)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def _stable(text: str) -> str:
    """Run ids and durations differ from run to run; the rest must not."""
    return re.sub(r"\b\d+\.\ds\b", "T.Ts", re.sub(r"r-\d{8}-\d{6}-[0-9a-f]{4}", "RUN", text))


def _setup(ws: Path, source: str = WORKFLOW) -> None:
    ws.mkdir()
    (ws / "t.wf").write_text(source, encoding="utf-8")
    (ws / "fake.json").write_text(json.dumps(FAKE), encoding="utf-8")


def test_a_run_process_prints_all_and_leaves_a_closed_journal(tmp_path: Path) -> None:
    args = ("run", "t.wf", "--args-json", '{"xs": [1, 2, 3]}', "--fake", "fake.json", "--yes", "--workspace", ".")
    _setup(tmp_path / "proc")
    proc = _wf(tmp_path / "proc", *args, capture_output=True)
    _setup(tmp_path / "here")
    code, out, err = in_process(tmp_path / "here", *args)

    assert (proc.returncode, proc.stdout, _stable(proc.stderr)) == (code, out, _stable(err))
    assert code == 0
    result = json.loads(proc.stdout)
    assert result["count"] == 3 and proc.stdout.endswith("}\n")
    assert re.search(r"^run r-\S+ done: 3 agents done, 0 failed; tokens: input \d+, output \d+$", proc.stderr, re.M)

    ws = tmp_path / "proc"
    # closed, not only committed: SQLite removes the WAL file when the last connection closes
    assert sorted(p.name for p in (ws / ".wf").iterdir()) == ["journal.sqlite"]
    with Journal.open(ws) as j:
        [summary] = j.list_runs()
        detail = j.get_run(summary.id)
    assert summary.id in proc.stderr
    assert (detail.run.status, detail.run.result) == ("done", result)
    assert [a.status for a in detail.agents] == ["done"] * 3
    assert [log.message for log in detail.logs] == ["starting"]


def test_a_failed_run_process_keeps_its_exit_code_and_journal(tmp_path: Path) -> None:
    args = ("run", "t.wf", "--args-json", '{"n": 4}', "--fake", "fake.json", "--yes", "--workspace", ".")
    _setup(tmp_path / "proc", FAILING)
    proc = _wf(tmp_path / "proc", *args, capture_output=True)
    _setup(tmp_path / "here", FAILING)
    code, out, err = in_process(tmp_path / "here", *args)

    assert (proc.returncode, proc.stdout, _stable(proc.stderr)) == (code, out, _stable(err))
    assert code == 1 and "no luck with 4" in proc.stderr
    with Journal.open(tmp_path / "proc") as j:
        [summary] = j.list_runs()
    assert summary.status == "failed"


def test_usage_and_check_errors_keep_their_codes_and_messages(tmp_path: Path) -> None:
    _setup(tmp_path / "ws", 'workflow w:\n    description: "x"\nreturn nope\n')
    for args, expected in ((("run", "missing.wf", "--yes"), 2), (("check", "t.wf"), 1),
                           (("check", str(ROOT / "examples" / "pr-review" / "pr-review.wf")), 0)):
        proc = _wf(tmp_path / "ws", *args, capture_output=True)
        code, out, err = in_process(tmp_path / "ws", *args)
        assert (proc.returncode, proc.stdout, proc.stderr) == (code, out, err) and code == expected, args


PROBE = """
import atexit, gc, json, os, sys
exit_now = os._exit
def spy(code):
    os.write(2, f"os._exit({code}), collector {'on' if gc.isenabled() else 'off'}\\n".encode())
    exit_now(code)
os._exit = spy
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
argv, as_list = json.loads(sys.argv[1]), sys.argv[2] == "list"
sys.argv = ["wf", *argv]
if argv[0] == "run":
    import trio
    trio_run = trio.run
    def run_spy(*args, **kwargs):
        os.write(2, f"trio.run with collector {'on' if gc.isenabled() else 'off'}\\n".encode())
        return trio_run(*args, **kwargs)
    trio.run = run_spy
from wflang.cli import main
code = main(argv) if as_list else main()  # main() as the console script calls it
sys.stderr.write(f"main returned {code}\\n")
sys.exit(code)
"""


def _probe(ws: Path, how: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), how], cwd=ws, env=_env(),
                          capture_output=True, text=True, timeout=120)


def test_run_and_check_end_with_os_exit_after_the_atexit_callbacks(tmp_path: Path) -> None:
    _setup(tmp_path / "ws")
    proc = _probe(tmp_path / "ws", "argv", "check", "t.wf")
    # a check never needs the collector (its parse and check pause it anyway); a run needs
    # it while its agents run, not while it imports and prepares
    assert (proc.returncode, proc.stderr) == (0, "atexit ran\nos._exit(0), collector off\n")
    assert proc.stdout.startswith("t.wf: ok")
    proc = _probe(tmp_path / "ws", "argv", "run", "t.wf", "--args-json", '{"xs": [5]}', "--fake", "fake.json", "--yes")
    assert proc.returncode == 0 and "trio.run with collector on\n" in proc.stderr
    assert proc.stderr.endswith("atexit ran\nos._exit(0), collector off\n")
    assert json.loads(proc.stdout)["count"] == 1


def test_other_commands_and_an_argv_list_return_from_main(tmp_path: Path) -> None:
    """Called with a list (tests, a program embedding wflang), main returns: the process goes on."""
    _setup(tmp_path / "ws")
    for how, args in (("list", ("check", "t.wf")), ("argv", ("new", "x", "-o", "x.wf"))):
        proc = _probe(tmp_path / "ws", how, *args)
        assert (proc.returncode, proc.stderr) == (0, "main returned 0\natexit ran\n"), (how, args, proc.stderr)


def test_a_closed_stdout_does_not_change_the_exit_code(tmp_path: Path) -> None:
    """`wf check F | head -0`: the report cannot be written when the process flushes it at
    the end. The interpreter's own exit reported a BrokenPipeError and exited 120."""
    _setup(tmp_path / "ws")
    read, write = os.pipe()
    os.close(read)
    try:
        proc = _wf(tmp_path / "ws", "check", "t.wf", stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_a_profiled_process_is_left_to_the_interpreters_exit(tmp_path: Path) -> None:
    """`python -m cProfile -o F -m wflang ...` writes its stats after main returns."""
    _setup(tmp_path / "ws")
    stats = tmp_path / "wf.prof"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "wflang", "check", "t.wf"],
                          cwd=tmp_path / "ws", env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("t.wf: ok"), proc.stderr
    import pstats

    assert any(name == "main" for _, _, name in pstats.Stats(str(stats)).stats)
