"""The process between `wf` and an agent's shell command (run as a script, imports nothing
of wflang): `python -I -S shell_helper.py WF_PID COMMAND`.

Why a process of its own:

* It is started with the shell's allow-listed environment, so the command's parent
  (`/proc/$PPID/environ`) holds no secret: the `wf` process is its grandparent.
* It is a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`): every process the command
  starts, `setsid` and double-forked daemons included, stays its descendant when its own
  parent exits. When the command exits, or when `wf` sends SIGTERM (the timeout), or when
  `wf` dies (checked twice a second: our parent changes), it kills every descendant it has
  and reaps them, so nothing the command started outlives the tool call.
  (`PR_SET_PDEATHSIG` would fire when the *thread* that started us exits, and trio
  starts processes from worker threads that exit when idle: not usable.)

Exit status: the command's (128+N when a signal N ended it); 125 when it could not start.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PARENT_CHECK = 0.5  # seconds between checks that wf is still alive
KILL_ROUNDS = 200  # bounded: a fork bomb cannot keep the helper alive forever


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: object) -> None:
    raise _Stop


def _watch_parent(parent: int) -> None:
    """Raise _Stop (in the main thread, interrupting waitpid) once `parent` is gone."""

    def check(signum: int, frame: object) -> None:
        if os.getppid() != parent:
            raise _Stop

    signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, PARENT_CHECK, PARENT_CHECK)  # not inherited by fork


def _descendants(me: int) -> list[int]:
    """Every live process below `me`, from /proc (parent links)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    out: list[int] = []
    todo = list(children.get(me, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_all() -> None:
    me = os.getpid()
    for _ in range(KILL_ROUNDS):
        _reap()
        pids = _descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)
    _reap()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: shell_helper.py WF_PID COMMAND", file=sys.stderr)
        return 125
    parent, command = int(argv[1]), argv[2]
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _on_signal)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the process group kill of the caller still applies
    code = 125
    try:
        _watch_parent(parent)
        if os.getppid() != parent:
            return 125  # wf died before we started watching
        pid = os.fork()
        if pid == 0:  # the command: default signals, its own process group
            try:
                for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGALRM):
                    signal.signal(signum, signal.SIG_DFL)
                os.setpgid(0, 0)
                os.execv("/bin/sh", ["/bin/sh", "-c", command])
            finally:
                os._exit(127)
        while True:
            try:
                done, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if done == pid:
                exit_code = os.waitstatus_to_exitcode(status)
                code = exit_code if exit_code >= 0 else 128 - exit_code
                break
    except _Stop:
        code = 128 + signal.SIGTERM
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGALRM):
            signal.signal(signum, signal.SIG_IGN)  # finish the cleanup whatever arrives
        _kill_all()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
