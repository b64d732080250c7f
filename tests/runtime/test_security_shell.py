"""`run_shell` hands the agent no secret and leaves no process behind.

The environment is an allow-list; the command's parent is a helper holding only that
environment; the `wf` process's own /proc environ block is blanked of the key once the
client holds it; every process the command started, `setsid` and double-forked ones
included, ends with the command, at its timeout, on cancellation and when `wf` itself is
killed. Waits for a process to disappear are bounded polls, not timing assertions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import trio

from tests.runtime import messages_server as ms
from tests.runtime.messages_server import MessagesServer
from wflang.runtime.environ_scrub import environ_block_holds, scrub_initial_environ
from wflang.runtime.tools import Toolbox, shell_env

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-ant-SHELL-must-never-leak-0123456789"
SECRETS = {
    "ANTHROPIC_API_KEY": KEY,
    "ANTHROPIC_AUTH_TOKEN": "auth-token-must-never-leak",
    "GITHUB_TOKEN": "ghp_must_never_leak_123",
    "AWS_SECRET_ACCESS_KEY": "aws-must-never-leak",
}


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] == b"Z"
    except FileNotFoundError:
        return True


def _wait_gone(pid: int, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


def _kill_if_alive(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _pids(text: str) -> list[int]:
    return [int(tok) for tok in text.replace("\n", " ").split() if tok.isdigit()]


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MY_SETTING", "passed-through")
    monkeypatch.setenv("NOT_LISTED", "kept-back")
    monkeypatch.setenv("WF_SHELL_ENV", "MY_SETTING, ANTHROPIC_API_KEY")


# ------------------------------------------------------------------ environment


def test_shell_env_is_an_allow_list(secret_env: None) -> None:
    env = shell_env("/tmp/home-x")
    assert set(env) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "HOME", "TERM", "MY_SETTING"}
    assert env["HOME"] == "/tmp/home-x" and env["TERM"] == "dumb" and env["MY_SETTING"] == "passed-through"
    assert not any(v in env.values() for v in SECRETS.values())


async def test_the_command_sees_no_secret_and_a_scratch_home(tmp_path: Path, secret_env: None) -> None:
    tools = Toolbox(tmp_path, {"shell"})
    result = await tools.call("run_shell", {"command": "env; echo HOME_IS=$HOME; test -d $HOME && echo HOME_OK"})
    home = next(line[len("HOME_IS="):] for line in result.content.splitlines() if line.startswith("HOME_IS="))
    tools.close()
    assert result.content.startswith("exit code: 0")
    for value in SECRETS.values():
        assert value not in result.content
    assert "NOT_LISTED" not in result.content and "MY_SETTING=passed-through" in result.content
    assert "HOME_OK" in result.content and home != os.environ.get("HOME") and "wf-shell-home-" in home
    assert not Path(home).exists()  # removed with the toolbox


async def test_the_parent_of_the_command_holds_no_secret(tmp_path: Path, secret_env: None) -> None:
    tools = Toolbox(tmp_path, {"shell"})
    result = await tools.call("run_shell", {"command": (
        "echo PARENT=$PPID; tr '\\0' '\\n' < /proc/$PPID/environ; echo ===; "
        # ... and the grandparent (the wf process) by its pid, as any process could find it
        "tr '\\0' '\\n' < /proc/$(awk '{print $4}' /proc/$PPID/stat)/environ | grep -c . ; echo END"
    )})
    tools.close()
    assert "PARENT=" in result.content and "END" in result.content and "PATH=" in result.content
    for value in SECRETS.values():
        assert value not in result.content
    assert "MY_SETTING=passed-through" in result.content  # it is the helper's environment we read


def test_the_wf_process_environ_block_is_blanked(tmp_path: Path) -> None:
    """In a fresh process whose exec-time environment holds the key, as `wf run` has."""
    code = textwrap.dedent(f"""\
        import os, trio
        from wflang.runtime.environ_scrub import environ_block_holds, scrub_initial_environ
        from wflang.runtime.tools import Toolbox
        assert environ_block_holds({KEY!r})
        assert scrub_initial_environ() >= len({sorted(SECRETS)!r})
        assert not environ_block_holds({KEY!r}) and not environ_block_holds("PATH=")
        assert os.environ["ANTHROPIC_API_KEY"] == {KEY!r}  # in-process readers unaffected
        assert os.getenv("GITHUB_TOKEN") == {SECRETS["GITHUB_TOKEN"]!r}
        import subprocess
        child = subprocess.run(["sh", "-c", "echo $GITHUB_TOKEN"], capture_output=True, text=True)
        assert child.stdout.strip() == {SECRETS["GITHUB_TOKEN"]!r}  # children started plainly too
        async def main():
            tools = Toolbox({str(tmp_path)!r}, {{"shell"}})
            r = await tools.call("run_shell", {{"command": "cat /proc/{{}}/environ".format(os.getpid())}})
            tools.close()
            print(r.content)
        trio.run(main)
    """)
    env = {**os.environ, **SECRETS, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("exit code: 0")
    assert "PATH=" not in done.stdout  # the whole block is blank
    for value in SECRETS.values():
        assert value not in done.stdout
    assert not environ_block_holds(KEY)  # (this test process never had it in its block)


def test_scrub_changes_nothing_a_process_sees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WF_SCRUB_PROBE", "still-here")
    before = dict(os.environ)
    scrub_initial_environ()
    assert dict(os.environ) == before
    child = subprocess.run(["sh", "-c", "echo $WF_SCRUB_PROBE"], capture_output=True, text=True, timeout=30)
    assert child.stdout.strip() == "still-here"


def test_wf_run_end_to_end_the_model_cannot_read_the_key(tmp_path: Path) -> None:
    """A real `wf run` against the stand-in API: the scripted model calls run_shell to read
    /proc of its parent and of the wf process; what it gets back (the next request's
    tool_result) holds no secret."""
    server = MessagesServer().start()
    try:
        probe = ("tr '\\0' '\\n' < /proc/$PPID/environ; echo ===; "
                 "tr '\\0' '\\n' < /proc/$(awk '{print $4}' /proc/$PPID/stat)/environ; env")
        server.push(ms.tool_use(("run_shell", {"command": probe})), ms.text("done"))
        wf = tmp_path / "w.wf"
        wf.write_text('workflow w:\n    description: "d"\n    permissions: shell\nx = agent "probe"\nreturn x\n')
        env = {**os.environ, **SECRETS, "ANTHROPIC_BASE_URL": server.url, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-m", "wflang", "run", str(wf), "--workspace", str(tmp_path), "--allow", "shell",
             "--yes", "--request-timeout", "30"],
            env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == "done"
        assert len(server.requests) == 2
        tool_result = json.dumps(server.requests[1]["messages"][-1])
    finally:
        server.stop()
    assert "exit code: 0" in tool_result and "PATH=" in tool_result and "===" in tool_result
    for value in SECRETS.values():
        assert value not in tool_result
        assert value not in done.stdout + done.stderr


# ------------------------------------------------------------------ processes end with the call


async def test_a_setsid_child_ends_at_the_timeout(tmp_path: Path) -> None:
    tools = Toolbox(tmp_path, {"shell"})
    result = await tools.call("run_shell", {"command": "setsid sleep 300 & echo $!; sleep 300", "timeout": 1.0})
    tools.close()
    pids = _pids(result.content.split("\n", 1)[1])
    try:
        assert result.is_error and "timed out after 1s" in result.content
        assert pids and all(_wait_gone(p) for p in pids)
    finally:
        _kill_if_alive(pids)


async def test_detached_children_end_with_the_command(tmp_path: Path) -> None:
    tools = Toolbox(tmp_path, {"shell"})
    command = (
        "setsid sleep 301 >/dev/null 2>&1 & echo $!; "
        # a double fork: the daemon's parent exits at once, so it is nobody's child but ours
        "(setsid sh -c 'sleep 302 & echo $! > daemon.pid' >/dev/null 2>&1 &); "
        "while [ ! -s daemon.pid ]; do sleep 0.05; done; cat daemon.pid"
    )
    with trio.fail_after(60):
        result = await tools.call("run_shell", {"command": command, "timeout": 30})
    tools.close()
    pids = _pids(result.content.split("\n", 1)[1])
    try:
        assert result.content.startswith("exit code: 0"), result.content
        assert len(pids) == 2 and all(_wait_gone(p) for p in pids)
    finally:
        _kill_if_alive(pids)


async def test_cancelling_the_agent_ends_the_command(tmp_path: Path) -> None:
    tools = Toolbox(tmp_path, {"shell"})
    pidfile = tmp_path / "pid"
    with trio.move_on_after(1.0):
        await tools.call("run_shell", {"command": f"setsid sleep 303 & echo $! > {pidfile}; sleep 300"})
    tools.close()
    pids = _pids(pidfile.read_text()) if pidfile.exists() else []
    try:
        assert pids and all(_wait_gone(p) for p in pids)
    finally:
        _kill_if_alive(pids)


def test_killing_wf_ends_the_command(tmp_path: Path) -> None:
    """SIGKILL of the process running the tool (no cleanup code runs there): the helper's
    death signal still ends everything the command started."""
    pidfile = tmp_path / "pid"
    code = textwrap.dedent(f"""\
        import trio
        from wflang.runtime.tools import Toolbox
        async def main():
            await Toolbox({str(tmp_path)!r}, {{"shell"}}).call(
                "run_shell", {{"command": "setsid sleep 304 & echo $! > {pidfile}; sleep 300"}})
        trio.run(main)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)})
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (pidfile.exists() and pidfile.read_text().strip()):
            time.sleep(0.05)
        pids = _pids(pidfile.read_text())
        assert pids and not _gone(pids[0])
        proc.kill()
        proc.wait(timeout=30)
        assert all(_wait_gone(p) for p in pids)
    finally:
        proc.kill()
        _kill_if_alive(pids)


async def test_exit_codes_and_output_are_the_commands(tmp_path: Path) -> None:
    tools = Toolbox(tmp_path, {"shell"})
    assert (await tools.call("run_shell", {"command": "echo hi; exit 7"})).content == "exit code: 7\nhi\n"
    killed = await tools.call("run_shell", {"command": "kill -9 $$"})
    assert killed.content.startswith("exit code: 137")
    tools.close()


def test_the_helper_imports_nothing_of_wflang() -> None:
    source = (REPO / "wflang" / "runtime" / "shell_helper.py").read_text()
    assert "wflang" not in "".join(
        line for line in source.splitlines() if line.startswith(("import", "from"))
    )


async def test_a_long_command_outlives_the_thread_that_started_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trio starts processes from worker threads that exit when idle; the helper must not
    take that for wf's death (PR_SET_PDEATHSIG would)."""
    from trio._core import _thread_cache

    monkeypatch.setattr(_thread_cache, "IDLE_TIMEOUT", 0.2)
    tools = Toolbox(tmp_path, {"shell"})
    result = await tools.call("run_shell", {"command": "sleep 2; echo survived", "timeout": 60})
    tools.close()
    assert result.content == "exit code: 0\nsurvived\n"
