"""The header's `permissions:` in the compiled script (wflang/transpiler/permissions.py):
every agent is denied the Claude Code tools of the capabilities the workflow does not
declare, the node host checks those options as Claude Code 2.1.332 does, and `wf run`'s
tools (wflang/runtime/tools.py) grant the same capabilities."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from wflang.dsl.loader import load
from wflang.runtime.tools import Toolbox
from wflang.transpiler.compile_cli import compile_command
from wflang.transpiler.emit import compile_js
from wflang.transpiler.permissions import CAPABILITY_TOOLS, disallowed_tools

NODE = shutil.which("node")
HOST = Path(__file__).resolve().parents[2] / "wflang" / "transpiler" / "host.mjs"
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: compiled scripts cannot be run here")

CASES = {  # header line -> (denied Claude Code tools, capabilities held)
    "": (["Bash", "Edit", "NotebookEdit", "Write"], []),
    "    permissions: edit\n": (["Bash"], ["edit"]),
    "    permissions: shell\n": (["Edit", "NotebookEdit", "Write"], ["shell"]),
    "    permissions: edit, shell\n": (None, ["edit", "shell"]),
}

# The Python runtime's tools per capability (wflang/runtime/tools.py), the same table.
PY_TOOLS = {"edit": {"write_file", "edit_file"}, "shell": {"run_shell"}}
PY_READING = {"read_file", "list_dir", "glob", "grep"}


def workflow(header: str) -> str:
    return f'''workflow perms:
    description: "permissions"
{header}
phase "A":
    x = agent "look" -> list[str] max 2
    y = fanout f in x:
        agent "check {{f}}"
return y
'''


def host(tmp_path: Path, script: str, expect_rc: int = 0) -> dict[str, Any]:
    (tmp_path / "s.js").write_text(script, encoding="utf-8")
    proc = subprocess.run([str(NODE), str(HOST), "--script", str(tmp_path / "s.js")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == expect_rc, proc.stderr
    return json.loads(proc.stdout)


def compiled(tmp_path: Path, source: str) -> str:
    wf = tmp_path / "perms.wf"
    wf.write_text(source, encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name)  # type: ignore[union-attr]


@pytest.mark.parametrize("header", list(CASES), ids=["read-only", "edit", "shell", "edit+shell"])
def test_permissions_become_disallowed_tools(header: str, tmp_path: Path) -> None:
    denied, held = CASES[header]
    assert disallowed_tools(held) == (denied or [])
    js = compiled(tmp_path, workflow(header))
    calls = re.findall(r"callAgent\([^\n]*\n?[^\n]*", js)
    assert len(calls) == 2
    if denied is None:
        assert "disallowedTools" not in js
    else:
        assert f"const DENIED_TOOLS = {json.dumps(denied).replace(chr(34), chr(39))}" in js.replace('", "', "', '")
        assert js.count("disallowedTools: DENIED_TOOLS") == 2, "every agent carries the denial"
    if NODE is not None:
        report = host(tmp_path, js)
        assert report["calls"] and all(c["disallowed_tools"] == denied and c["grants"] == held
                                       for c in report["calls"])


@pytest.mark.parametrize("held", [[], ["edit"], ["shell"], ["edit", "shell"]])
def test_wf_run_grants_the_same_capabilities(held: list[str], tmp_path: Path) -> None:
    names = {spec.name for spec in Toolbox(tmp_path, held).available()}
    assert names == PY_READING.union(*(PY_TOOLS[c] for c in held))
    assert set(PY_TOOLS) == set(CAPABILITY_TOOLS), "one capability table for both targets"


def test_a_child_workflow_gets_what_both_declare(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text('''workflow child:
    description: "child"
    permissions: edit, shell

return agent "child work"
''', encoding="utf-8")
    js = compiled(tmp_path, '''workflow parent:
    description: "parent"
    permissions: edit

a = agent "parent work"
b = run "child.wf"
return [a, b]
''')
    assert js.count("disallowedTools: DENIED_TOOLS") == 2 and "DENIED_TOOLS2" not in js
    assert "const DENIED_TOOLS = ['Bash']" in js


HOST_REFUSALS = {
    "['bash']": "disallowedTools entry 'bash' does not match any tool, but 'Bash' exists",
    "['*']": "disallowedTools entry '*' cannot match any tool",
    "[' Bash']": "disallowedTools must be an array of non-empty tool-name strings",
    "'Bash'": "disallowedTools must be an array of non-empty tool-name strings",
}


@needs_node
@pytest.mark.parametrize("option", list(HOST_REFUSALS))
def test_the_host_refuses_what_claude_code_refuses(option: str, tmp_path: Path) -> None:
    script = ("export const meta = { name: 'x', description: 'x' }\n"
              f"return await agent('go', {{ label: 'l', disallowedTools: {option} }})\n")
    report = host(tmp_path, script, expect_rc=1)
    assert HOST_REFUSALS[option] in report["error"] and report["calls"] == []


@needs_node
def test_the_host_checks_clamps_and_structured_output(tmp_path: Path) -> None:
    base = "export const meta = { name: 'x', description: 'x' }\n"
    report = host(tmp_path, base + "return await agent('go', { disallowedTools: ['Bash'], "
                                   "bashCommandClamp: ['Bash(git status)'] })\n", expect_rc=1)
    assert "bashCommandClamp can bind nothing" in report["error"]
    report = host(tmp_path, base + "return await agent('go', { schema: { type: 'object', properties: {} }, "
                                   "disallowedTools: ['StructuredOutput'] })\n", expect_rc=1)
    assert "StructuredOutput" in report["error"]
    report = host(tmp_path, base + "return await agent('go', { bashCommandClamp: ['Bash(git status)'], "
                                   "disallowedTools: ['Write', 'Edit', 'Write'] })\n")
    assert report["calls"][0]["disallowed_tools"] == ["Edit", "Write"]
    assert report["calls"][0]["grants"] == ["shell"]


def test_a_schema_too_large_for_auto_mode_is_a_warning_naming_the_type(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fields = "\n".join(f'    field_{i}_with_a_rather_long_name: "first_{i}" | "second_{i}" | "third_{i}"'
                       for i in range(50))
    wf = tmp_path / "big.wf"
    wf.write_text(f'''workflow big:
    description: "a big schema"

type Huge:
{fields}

type Small:
    ok: bool

phase "A":
    x = agent "go" -> list[Huge] max 3
    y = agent "go" -> Small
return [x, y]
''', encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.chdir(tmp_path)
    assert compile_command(str(wf), str(tmp_path / "big.js"), False, False, out, err) == 0
    text = err.getvalue()
    assert text.count("warning[WF510]") == 1, text
    assert "the schema of `list[Huge] max 3` is " in text and "refuses schemas over 4,096" in text
    assert re.search(r"big\.wf:\d+:23\n", text), text
    assert (tmp_path / "big.js").exists()


def test_meta_phases_are_the_phase_blocks_with_detail_and_model() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "bug-sweep" / "bug-sweep.wf"
    loaded = load(str(root))
    js = compile_js(loaded.program, bound=loaded.result.bound, source_name=root.name)  # type: ignore[union-attr]
    meta = js[: js.index("\n}\n")]
    assert "title: 'Verify'" not in meta, "a `phase=` option is not a phase() the script enters"
    assert "{ title: 'Sweep', detail: 'at most 500 agents', model: 'haiku, sonnet' }" in meta
    assert "{ title: 'Report', detail: 'at most 1 agent', model: 'sonnet' }" in meta
