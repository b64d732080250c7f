"""Agents' file tools cannot leave the workspace, by construction: hard links, symlinks
swapped in while calls run, FIFOs, sockets and devices, long paths, NUL bytes and `~`.

The races run a flipping thread against real tool calls for a bounded number of calls
and seconds, and count leaks and outside writes, which must be zero; nothing here asserts
on timing."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from wflang.runtime.tools import Toolbox
from wflang.runtime.workspace_fs import FsError, Workspace

SECRET = "TOP-SECRET-OUTSIDE"
RACE_SECONDS = 2.5
RACE_CALLS = 4000


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    (outside / "f.txt").write_text(SECRET + " via dir\n")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "hello.txt").write_text("hello inside\n")
    return ws, outside


def outside_snapshot(outside: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outside)): p.read_bytes() for p in sorted(outside.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ hard links


async def test_hard_link_to_an_outside_file_is_neither_read_nor_written(layout: tuple[Path, Path]) -> None:
    ws, outside = layout
    os.link(outside / "secret.txt", ws / "linked.txt")
    before = outside_snapshot(outside)
    tools = Toolbox(ws, {"edit"})
    read = await tools.call("read_file", {"path": "linked.txt"})
    assert read.is_error and "hard links" in read.content and SECRET not in read.content
    grep = await tools.call("grep", {"pattern": "SECRET"})
    assert grep.content == "no matches"
    grep_file = await tools.call("grep", {"pattern": "SECRET", "path": "linked.txt"})
    assert grep_file.is_error and SECRET not in grep_file.content
    write = await tools.call("write_file", {"path": "linked.txt", "content": "pwned"})
    assert write.is_error and "hard links" in write.content
    edit = await tools.call("edit_file", {"path": "linked.txt", "old_string": "TOP", "new_string": "NO"})
    assert edit.is_error and SECRET not in edit.content
    assert outside_snapshot(outside) == before
    tools.close()


async def test_hard_links_wholly_inside_are_read_but_not_written(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    (ws / "sub").mkdir()
    os.link(ws / "hello.txt", ws / "sub" / "twin.txt")
    tools = Toolbox(ws, {"edit"})
    read = await tools.call("read_file", {"path": "sub/twin.txt"})
    assert not read.is_error and "hello inside" in read.content
    grep = await tools.call("grep", {"pattern": "hello"})
    assert "hello.txt:1: hello inside" in grep.content and "sub/twin.txt:1:" in grep.content
    write = await tools.call("write_file", {"path": "sub/twin.txt", "content": "x"})
    assert write.is_error and "2 hard links" in write.content
    assert (ws / "hello.txt").read_text() == "hello inside\n"
    tools.close()


async def test_hard_link_census_over_its_cap_refuses(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    os.link(ws / "hello.txt", ws / "twin.txt")
    fs = Workspace(ws, max_census_entries=1)
    with pytest.raises(FsError, match="hard links"):
        fs.read("twin.txt", 1000)
    fs.close()


# ------------------------------------------------------------------ symlink swaps raced


def _flipper(stop: threading.Event, flip: Callable[[bool], None]) -> threading.Thread:
    def run() -> None:
        state = False
        while not stop.is_set():
            state = not state
            try:
                flip(state)
            except OSError:
                pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _dir_flip(ws: Path, outside: Path) -> Callable[[bool], None]:
    """`ws/d` alternates between a real directory and a symlink to the outside directory
    (the real one is parked inside the workspace meanwhile)."""
    (ws / "d").mkdir()
    (ws / "d" / "f.txt").write_text("inside file\n")

    def flip(to_link: bool) -> None:
        if to_link:
            os.rename(ws / "d", ws / "parked")
            os.symlink(outside, ws / "d")
        else:
            os.unlink(ws / "d")
            os.rename(ws / "parked", ws / "d")

    return flip


def _file_flip(ws: Path, outside: Path) -> Callable[[bool], None]:
    """`ws/f.txt` alternates between a regular file and a symlink to the outside secret."""
    (ws / "f.txt").write_text("inside file\n")

    def flip(to_link: bool) -> None:
        tmp = ws / ".flip"
        if to_link:
            os.symlink(outside / "secret.txt", tmp)
        else:
            tmp.write_text("inside file\n")
        os.replace(tmp, ws / "f.txt")

    return flip


async def _race(ws: Path, outside: Path, flip: Callable[[bool], None],
                calls: list[tuple[str, dict[str, object]]]) -> tuple[int, int, int]:
    """Run `calls` round-robin while `flip` runs; (calls made, leaks, outside writes)."""
    before = outside_snapshot(outside)
    tools = Toolbox(ws, {"edit"})
    stop = threading.Event()
    thread = _flipper(stop, flip)
    made = leaks = 0
    deadline = time.monotonic() + RACE_SECONDS
    try:
        while made < RACE_CALLS and time.monotonic() < deadline:
            name, args = calls[made % len(calls)]
            result = await tools.call(name, args)
            made += 1
            if SECRET in result.content:
                leaks += 1
    finally:
        stop.set()
        thread.join(timeout=10)
        tools.close()
    after = outside_snapshot(outside)
    outside_writes = sum(1 for k in set(before) | set(after) if before.get(k) != after.get(k))
    return made, leaks, outside_writes


async def test_directory_swapped_for_a_symlink_during_calls(layout: tuple[Path, Path]) -> None:
    ws, outside = layout
    calls: list[tuple[str, dict[str, object]]] = [
        ("read_file", {"path": "d/f.txt"}),
        ("grep", {"pattern": "SECRET|inside", "path": "d"}),
        ("grep", {"pattern": "SECRET"}),
        ("list_dir", {"path": "d"}),
        ("glob", {"pattern": "**/*.txt"}),
        ("write_file", {"path": "d/new.txt", "content": "written by the agent"}),
        ("write_file", {"path": "d/deeper/new.txt", "content": "written by the agent"}),
        ("edit_file", {"path": "d/f.txt", "old_string": "file", "new_string": "file"}),
    ]
    made, leaks, outside_writes = await _race(ws, outside, _dir_flip(ws, outside), calls)
    assert made >= len(calls)  # every kind of call ran at least once
    assert (leaks, outside_writes) == (0, 0)
    # list_dir of the symlinked d shows nothing from outside: "secret.txt" never listed.
    assert not (outside / "new.txt").exists() and not (outside / "deeper").exists()


async def test_file_swapped_for_a_symlink_during_calls(layout: tuple[Path, Path]) -> None:
    ws, outside = layout
    calls: list[tuple[str, dict[str, object]]] = [
        ("read_file", {"path": "f.txt"}),
        ("grep", {"pattern": "SECRET|inside", "path": "f.txt"}),
        ("grep", {"pattern": "SECRET|inside"}),
        ("write_file", {"path": "f.txt", "content": "inside file\n"}),
        ("edit_file", {"path": "f.txt", "old_string": "inside", "new_string": "inside"}),
    ]
    made, leaks, outside_writes = await _race(ws, outside, _file_flip(ws, outside), calls)
    assert made >= len(calls)
    assert (leaks, outside_writes) == (0, 0)
    assert (outside / "secret.txt").read_text() == SECRET + "\n"


async def test_file_swapped_for_a_fifo_never_blocks(layout: tuple[Path, Path]) -> None:
    ws, outside = layout
    (ws / "f.txt").write_text("inside file\n")

    def flip(to_fifo: bool) -> None:
        tmp = ws / ".flip"
        if to_fifo:
            os.mkfifo(tmp)
        else:
            tmp.write_text("inside file\n")
        os.replace(tmp, ws / "f.txt")

    calls: list[tuple[str, dict[str, object]]] = [
        ("read_file", {"path": "f.txt"}),
        ("grep", {"pattern": "inside"}),
        ("grep", {"pattern": "inside", "path": "f.txt"}),
    ]
    with trio.fail_after(60):  # a guard against a hang, not a speed claim
        made, leaks, outside_writes = await _race(ws, outside, flip, calls)
    assert made >= len(calls) and (leaks, outside_writes) == (0, 0)


# ------------------------------------------------------------------ FIFOs, sockets, devices


async def test_fifos_sockets_and_devices_are_never_opened(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    os.mkfifo(ws / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws / "sock"))
    has_device = True
    try:
        os.mknod(ws / "zero", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # like /dev/zero
    except (PermissionError, OSError):
        has_device = False
    tools = Toolbox(ws, {"edit"})
    try:
        with trio.fail_after(30):  # a blocked open would hang here (the old grep did)
            for name in ["pipe", "sock"] + (["zero"] if has_device else []):
                read = await tools.call("read_file", {"path": name})
                assert read.is_error and "not a regular file" in read.content, read
                write = await tools.call("write_file", {"path": name, "content": "x"})
                assert write.is_error and "not a regular file" in write.content, write
                grep_one = await tools.call("grep", {"pattern": "x", "path": name})
                assert grep_one.is_error
            grep = await tools.call("grep", {"pattern": "hello"})
            assert grep.content == "hello.txt:1: hello inside"
        listing = (await tools.call("list_dir", {})).content.splitlines()
        assert "pipe [FIFO]" in listing and "sock [socket]" in listing
        if has_device:
            assert "zero [device]" in listing
    finally:
        sock.close()
        tools.close()
    assert stat.S_ISFIFO(os.lstat(ws / "pipe").st_mode)  # not replaced by a write


# ------------------------------------------------------------------ odd paths


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a\x00b", "NUL byte"),
        ("~/.ssh/id_rsa", "'~'"),
        ("~", "'~'"),
        ("~root/.bashrc", "'~'"),
        ("x" * 300, "longer than 255 bytes"),
        ("a/" * 2100 + "f", "too long"),
        ("", "empty"),
        ("\ud800", "not valid text"),
    ],
)
async def test_odd_paths_get_clear_errors(layout: tuple[Path, Path], path: str, message: str) -> None:
    ws, _ = layout
    tools = Toolbox(ws, {"edit"})
    for name, args in [
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "x"}),
        ("list_dir", {"path": path}),
        ("grep", {"pattern": "x", "path": path}),
    ]:
        result = await tools.call(name, args)
        assert result.is_error and message in result.content, (name, result)
        assert "Traceback" not in result.content
    tools.close()


async def test_a_file_really_named_tilde_is_reachable_with_dot_slash(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    tools = Toolbox(ws, {"edit"})
    assert not (await tools.call("write_file", {"path": "./~notes", "content": "tilde"})).is_error
    assert (ws / "~notes").read_text() == "tilde"
    tools.close()


async def test_deep_paths_work_component_by_component(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    deep = "/".join(["d"] * 300) + "/f.txt"  # 300 levels, each opened by descriptor
    tools = Toolbox(ws, {"edit"})
    assert not (await tools.call("write_file", {"path": deep, "content": "deep\n"})).is_error
    read = await tools.call("read_file", {"path": deep})
    assert read.content == "deep\n"
    tools.close()


async def test_symlink_loops_and_dangling_links_are_clear_errors(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    os.symlink("loop2", ws / "loop1")
    os.symlink("loop1", ws / "loop2")
    os.symlink("missing/target", ws / "dangling")
    tools = Toolbox(ws, {"edit"})
    loop = await tools.call("read_file", {"path": "loop1"})
    assert loop.is_error and "too many levels of symbolic links" in loop.content
    dangling = await tools.call("read_file", {"path": "dangling"})
    assert dangling.is_error and "no such file" in dangling.content
    glob = await tools.call("glob", {"pattern": "*"})
    assert "loop1" not in glob.content and "hello.txt" in glob.content
    tools.close()


async def test_writes_replace_atomically_and_keep_the_mode(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    script = ws / "run.sh"
    script.write_text("echo old\n")
    script.chmod(0o750)
    tools = Toolbox(ws, {"edit"})
    assert not (await tools.call("write_file", {"path": "run.sh", "content": "echo new\n"})).is_error
    assert script.read_text() == "echo new\n" and stat.S_IMODE(script.stat().st_mode) == 0o750
    edited = await tools.call("edit_file", {"path": "run.sh", "old_string": "new", "new_string": "newer"})
    assert not edited.is_error and script.read_text() == "echo newer\n"
    assert sorted(p.name for p in ws.iterdir()) == ["hello.txt", "run.sh"]  # no temporary left
    tools.close()


async def test_a_symlink_inside_is_written_through_to_its_inside_target(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    (ws / "src").mkdir()
    (ws / "src" / "main.py").write_text("old\n")
    os.symlink("src/main.py", ws / "alias.py")
    tools = Toolbox(ws, {"edit"})
    assert not (await tools.call("write_file", {"path": "alias.py", "content": "new\n"})).is_error
    assert (ws / "src" / "main.py").read_text() == "new\n"
    assert os.path.islink(ws / "alias.py")
    tools.close()


# ------------------------------------------------------------------ the worst interleaving, forced


class _SwapAfterCheck:
    """Stands in for `os` inside workspace_fs: right after the check (lstat) of `name`
    it swaps that name (the worst moment: between check and use), once per call."""

    def __init__(self, name: str, swap: Callable[[], None]) -> None:
        self._name, self._swap, self.swapped = name, swap, 0

    def __getattr__(self, attr: str) -> object:
        return getattr(os, attr)

    def stat(self, path: object, *args: object, **kw: object) -> os.stat_result:
        result = os.stat(path, *args, **kw)  # type: ignore[arg-type]
        if path == self._name and kw.get("follow_symlinks") is False and not self.swapped:
            self.swapped += 1
            self._swap()
        return result


@pytest.mark.parametrize("tool", ["read_file", "grep", "write_file", "edit_file", "list_dir"])
async def test_directory_swapped_exactly_between_check_and_use(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    from wflang.runtime import workspace_fs

    ws, outside = layout
    (ws / "d").mkdir()
    (ws / "d" / "f.txt").write_text("inside file\n")
    before = outside_snapshot(outside)

    def swap() -> None:
        os.rename(ws / "d", ws / "parked")
        os.symlink(outside, ws / "d")

    fake_os = _SwapAfterCheck("d", swap)
    monkeypatch.setattr(workspace_fs, "os", fake_os)
    args = {
        "read_file": {"path": "d/f.txt"},
        "grep": {"pattern": "SECRET", "path": "d"},
        "write_file": {"path": "d/f.txt", "content": "pwned"},
        "edit_file": {"path": "d/f.txt", "old_string": "SECRET", "new_string": "pwned"},
        "list_dir": {"path": "d"},
    }[tool]
    tools = Toolbox(ws, {"edit"})
    result = await tools.call(tool, args)
    tools.close()
    assert fake_os.swapped == 1
    # Refused either as changed under us or (when the call looks again) as pointing out.
    assert result.is_error, result
    assert "changed while it was being opened" in result.content or "outside the workspace" in result.content
    assert SECRET not in result.content and "secret.txt" not in result.content
    assert outside_snapshot(outside) == before


@pytest.mark.parametrize("tool", ["read_file", "grep", "edit_file"])
async def test_file_swapped_exactly_between_check_and_use(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    from wflang.runtime import workspace_fs

    ws, outside = layout
    (ws / "f.txt").write_text("inside file\n")

    def swap() -> None:
        os.symlink(outside / "secret.txt", ws / ".tmp")
        os.replace(ws / ".tmp", ws / "f.txt")

    fake_os = _SwapAfterCheck("f.txt", swap)
    monkeypatch.setattr(workspace_fs, "os", fake_os)
    args = {"path": "f.txt"} if tool == "read_file" else (
        {"pattern": "SECRET", "path": "f.txt"} if tool == "grep"
        else {"path": "f.txt", "old_string": "SECRET", "new_string": "pwned"})
    tools = Toolbox(ws, {"edit"})
    result = await tools.call(tool, args)
    tools.close()
    assert fake_os.swapped == 1
    assert result.is_error and SECRET not in result.content, result
    assert (outside / "secret.txt").read_text() == SECRET + "\n"


async def test_file_swapped_for_a_fifo_between_check_and_open(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wflang.runtime import workspace_fs

    ws, _ = layout
    (ws / "f.txt").write_text("inside file\n")

    def swap() -> None:
        os.mkfifo(ws / ".tmp")
        os.replace(ws / ".tmp", ws / "f.txt")

    monkeypatch.setattr(workspace_fs, "os", _SwapAfterCheck("f.txt", swap))
    tools = Toolbox(ws)
    with trio.fail_after(30):  # a blocking open of the FIFO would hang here
        result = await tools.call("read_file", {"path": "f.txt"})
    tools.close()
    assert result.is_error and "changed while it was being opened" in result.content
