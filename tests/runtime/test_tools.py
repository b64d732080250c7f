"""The agent tools stay inside the workspace, and editing and shell need their permission."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from wflang.runtime.tools import SPECS, Toolbox, ToolLimits, ToolResult, glob_regex

SECRET = "TOP SECRET"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with a few files, next to an outside directory holding a secret, and
    symlinks from the workspace to the outside (a file, a directory, a dangling target)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    root = tmp_path / "ws"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "main.py").write_text("import pkg\nprint('Hello')\n")
    (root / "src" / "pkg" / "util.py").write_text("def helper():\n    return 'hello'\n")
    (root / "README.md").write_text("# Demo\nhello world\n")
    (root / "link_secret.txt").symlink_to(outside / "secret.txt")
    (root / "link_dir").symlink_to(outside, target_is_directory=True)
    (root / "dangling.txt").symlink_to(outside / "created-by-agent.txt")
    (root / "inner_link.py").symlink_to(root / "src" / "main.py")
    return root


def box(root: Path, *permissions: str, **limits: float) -> Toolbox:
    return Toolbox(root, permissions, ToolLimits(**limits) if limits else None)  # type: ignore[arg-type]


def assert_refused(result: ToolResult) -> None:
    assert result.is_error, result.content
    assert "outside the workspace" in result.content
    assert SECRET not in result.content


# --- reading cannot leave the workspace -------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["../outside/secret.txt", "src/../../outside/secret.txt", "link_secret.txt", "link_dir/secret.txt"],
)
async def test_read_cannot_escape(ws: Path, path: str) -> None:
    assert_refused(await box(ws).call("read_file", {"path": path}))


async def test_read_absolute_paths(ws: Path) -> None:
    outside = ws.parent / "outside" / "secret.txt"
    assert_refused(await box(ws).call("read_file", {"path": str(outside)}))
    assert_refused(await box(ws).call("read_file", {"path": "/etc/passwd"}))
    inside = await box(ws).call("read_file", {"path": str(ws / "README.md")})
    assert not inside.is_error and "hello world" in inside.content


async def test_symlink_inside_the_workspace_is_fine(ws: Path) -> None:
    result = await box(ws).call("read_file", {"path": "inner_link.py"})
    assert not result.is_error and "print('Hello')" in result.content


async def test_listing_and_searching_cannot_escape(ws: Path) -> None:
    tools = box(ws)
    assert_refused(await tools.call("list_dir", {"path": "link_dir"}))
    assert_refused(await tools.call("list_dir", {"path": ".."}))
    assert_refused(await tools.call("grep", {"pattern": "SECRET", "path": "link_dir"}))
    assert_refused(await tools.call("glob", {"pattern": "*", "path": "../outside"}))
    everything = await tools.call("glob", {"pattern": "**"})
    assert "secret" not in everything.content and "link_dir" not in everything.content
    assert "inner_link.py" in everything.content  # a link that stays inside is listed
    grep_all = await tools.call("grep", {"pattern": "SECRET"})
    assert grep_all.content == "no matches"
    refused = await tools.call("glob", {"pattern": "../outside/*"})
    assert refused.is_error and SECRET not in refused.content


# --- writing cannot leave the workspace -------------------------------------------------------


@pytest.mark.parametrize("path", ["../outside/evil.txt", "link_dir/evil.txt", "src/../../outside/evil.txt"])
async def test_write_cannot_escape(ws: Path, path: str) -> None:
    assert_refused(await box(ws, "edit").call("write_file", {"path": path, "content": "pwned"}))
    assert not (ws.parent / "outside" / "evil.txt").exists()


async def test_write_through_symlinks_is_refused(ws: Path) -> None:
    tools = box(ws, "edit")
    assert_refused(await tools.call("write_file", {"path": "link_secret.txt", "content": "pwned"}))
    assert (ws.parent / "outside" / "secret.txt").read_text() == SECRET + "\n"
    assert_refused(await tools.call("write_file", {"path": "dangling.txt", "content": "pwned"}))
    assert not (ws.parent / "outside" / "created-by-agent.txt").exists()
    edit = {"path": "link_secret.txt", "old_string": "TOP", "new_string": "NO"}
    assert_refused(await tools.call("edit_file", edit))
    assert (ws.parent / "outside" / "secret.txt").read_text() == SECRET + "\n"


async def test_write_absolute_path_outside_is_refused(ws: Path) -> None:
    target = ws.parent / "outside" / "abs.txt"
    assert_refused(await box(ws, "edit").call("write_file", {"path": str(target), "content": "x"}))
    assert not target.exists()


async def test_write_and_edit_inside(ws: Path) -> None:
    tools = box(ws, "edit")
    written = await tools.call("write_file", {"path": "new/dir/file.txt", "content": "one two two"})
    assert not written.is_error
    assert (ws / "new" / "dir" / "file.txt").read_text() == "one two two"
    ambiguous = await tools.call(
        "edit_file", {"path": "new/dir/file.txt", "old_string": "two", "new_string": "2"}
    )
    assert ambiguous.is_error and "occurs 2 times" in ambiguous.content
    missing = await tools.call(
        "edit_file", {"path": "new/dir/file.txt", "old_string": "three", "new_string": "3"}
    )
    assert missing.is_error and "not found" in missing.content
    once = await tools.call("edit_file", {"path": "new/dir/file.txt", "old_string": "one", "new_string": "1"})
    assert not once.is_error
    every = {"path": "new/dir/file.txt", "old_string": "two", "new_string": "2", "replace_all": True}
    assert not (await tools.call("edit_file", every)).is_error
    assert (ws / "new" / "dir" / "file.txt").read_text() == "1 2 2"


# --- permissions ------------------------------------------------------------------------------


async def test_edit_and_shell_need_their_permission(ws: Path) -> None:
    tools = box(ws)
    assert [d["name"] for d in tools.definitions()] == ["read_file", "list_dir", "glob", "grep"]
    write = await tools.call("write_file", {"path": "x.txt", "content": "x"})
    assert write.is_error and "'edit' permission" in write.content
    edit = await tools.call("edit_file", {"path": "README.md", "old_string": "Demo", "new_string": "X"})
    assert edit.is_error and "'edit' permission" in edit.content
    shell = await tools.call("run_shell", {"command": "touch made-by-shell"})
    assert shell.is_error and "'shell' permission" in shell.content
    assert not (ws / "x.txt").exists() and not (ws / "made-by-shell").exists()
    assert "# Demo" in (ws / "README.md").read_text()
    assert "run_shell" not in [d["name"] for d in box(ws, "edit").definitions()]
    assert "write_file" not in [d["name"] for d in box(ws, "shell").definitions()]


def test_every_tool_has_an_object_schema() -> None:
    for spec in SPECS.values():
        definition = spec.definition()
        assert set(definition) == {"name", "description", "input_schema"}
        assert definition["input_schema"]["type"] == "object"


# --- shell ------------------------------------------------------------------------------------


async def test_shell_runs_in_the_workspace(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-must-not-leak")
    result = await box(ws, "shell").call(
        "run_shell", {"command": 'pwd; echo "key=$ANTHROPIC_API_KEY"; exit 3'}
    )
    assert not result.is_error
    assert result.content.startswith("exit code: 3\n")
    assert str(ws.resolve()) in result.content
    assert "sk-ant-must-not-leak" not in result.content


async def test_shell_timeout_kills_the_command(ws: Path) -> None:
    started = time.monotonic()
    result = await box(ws, "shell").call(
        "run_shell", {"command": "echo started; sleep 30 & sleep 30; echo never", "timeout": 0.3}
    )
    assert time.monotonic() - started < 5
    assert result.is_error
    assert "timed out after 0.3s" in result.content
    assert "started" in result.content and "never" not in result.content


async def test_shell_default_timeout_and_output_cap(ws: Path) -> None:
    tools = box(ws, "shell", shell_timeout=0.3, max_output_chars=2000)
    slow = await tools.call("run_shell", {"command": "sleep 30"})
    assert slow.is_error and "timed out after 0.3s" in slow.content
    # The cap is checked with room to finish: on a loaded machine the helper's own start alone
    # can take most of 0.3 s.
    roomy = box(ws, "shell", shell_timeout=60, max_output_chars=2000)
    loud = await roomy.call("run_shell", {"command": "seq 1 100000"})
    assert not loud.is_error
    assert len(loud.content) <= 2100
    assert "omitted" in loud.content
    assert loud.content.rstrip().endswith("100000")  # the tail, where errors usually are, is kept


# --- reading, glob and grep work --------------------------------------------------------------


async def test_glob(ws: Path) -> None:
    tools = box(ws)
    result = await tools.call("glob", {"pattern": "**/*.py"})
    assert result.content.splitlines() == ["inner_link.py", "src/main.py", "src/pkg/util.py"]
    assert (await tools.call("glob", {"pattern": "src/*"})).content.splitlines() == [
        "src/main.py",
        "src/pkg/",
    ]
    in_dir = await tools.call("glob", {"pattern": "*.py", "path": "src/pkg"})
    assert in_dir.content == "src/pkg/util.py"
    assert (await tools.call("glob", {"pattern": "*.{md,txt}"})).content == "README.md"
    assert (await tools.call("glob", {"pattern": "*.rs"})).content == "no matches"


def test_glob_regex() -> None:
    assert glob_regex("**/*.py").match("a.py") and glob_regex("**/*.py").match("a/b/c.py")
    assert not glob_regex("*.py").match("a/b.py")
    assert glob_regex("[!a]x").match("bx") and not glob_regex("[!a]x").match("ax")
    assert not glob_regex("a[!b]c").match("a/c")
    assert glob_regex("f?o.{c,h}").match("foo.h")


async def test_grep(ws: Path) -> None:
    tools = box(ws)
    result = await tools.call("grep", {"pattern": "hello", "ignore_case": True, "glob": "*.py"})
    assert result.content.splitlines() == [
        "inner_link.py:2: print('Hello')",
        "src/main.py:2: print('Hello')",
        "src/pkg/util.py:2:     return 'hello'",
    ]
    case_sensitive = await tools.call("grep", {"pattern": "hello", "path": "src"})
    assert case_sensitive.content == "src/pkg/util.py:2:     return 'hello'"
    one_file = await tools.call("grep", {"pattern": "^#", "path": "README.md"})
    assert one_file.content == "README.md:1: # Demo"
    bad = await tools.call("grep", {"pattern": "("})
    assert bad.is_error and "invalid regular expression" in bad.content


async def test_grep_caps_matches(ws: Path) -> None:
    (ws / "many.txt").write_text("hit\n" * 50)
    result = await box(ws, max_matches=10).call("grep", {"pattern": "hit"})
    assert len(result.content.splitlines()) == 11
    assert "40 more matches" in result.content


async def test_read_file_paging_and_caps(ws: Path) -> None:
    (ws / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 1001)))
    tools = box(ws, max_output_chars=1000)
    page = await tools.call("read_file", {"path": "long.txt", "offset": 10, "limit": 3})
    assert page.content.startswith("line 10\nline 11\nline 12\n")
    assert "[lines 10-12 of 1000" in page.content
    whole = await tools.call("read_file", {"path": "long.txt"})
    assert len(whole.content) <= 1000 and "pass offset/limit" in whole.content
    (ws / "blob.bin").write_bytes(b"\x00\x01\x02")
    binary = await tools.call("read_file", {"path": "blob.bin"})
    assert binary.is_error and "binary" in binary.content


async def test_list_dir(ws: Path) -> None:
    result = await box(ws).call("list_dir", {})
    assert result.content.splitlines() == [
        "README.md",
        "dangling.txt@",
        "inner_link.py@",
        "link_dir@",
        "link_secret.txt@",
        "src/",
    ]


async def test_tool_errors_are_results_not_exceptions(ws: Path) -> None:
    tools = box(ws, "edit")
    cases = [
        ("read_file", {"path": "src"}),
        ("read_file", {"path": "nope.txt"}),
        ("read_file", {"path": 7}),
        ("read_file", {}),
        ("read_file", "not an object"),
        ("list_dir", {"path": "README.md"}),
        ("write_file", {"path": "src", "content": "x"}),
        ("no_such_tool", {}),
        ("grep", {"pattern": "x", "path": "missing"}),
    ]
    for name, args in cases:
        result = await tools.call(name, args)
        assert result.is_error, (name, args, result)


async def test_unreadable_file_is_an_error_result(ws: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    locked = ws / "locked.txt"
    locked.write_text("x")
    locked.chmod(0)
    result = await box(ws).call("read_file", {"path": "locked.txt"})
    assert result.is_error and "PermissionError" in result.content
