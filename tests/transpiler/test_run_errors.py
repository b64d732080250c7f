"""What ends a compiled run, under the node host: Claude Code's exhausted token budget and
its 1,000-agent cap end the script with a message (never nulls that look like success),
an ordinary agent failure stays a None, and bad arguments fail the run before any agent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from wflang.dsl.loader import load
from wflang.dsl.parser import parse
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: compiled scripts cannot be run here")


def host(tmp_path: Path, js: str, args: Any = None, budget: int | None = None,
         fake: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    (tmp_path / "s.js").write_text(js, encoding="utf-8")
    cmd = [str(NODE), str(HOST), "--script", str(tmp_path / "s.js")]
    if args is not None:
        (tmp_path / "a.json").write_text(json.dumps(args), encoding="utf-8")
        cmd += ["--args", str(tmp_path / "a.json")]
    if fake is not None:
        (tmp_path / "f.json").write_text(json.dumps(fake), encoding="utf-8")
        cmd += ["--fake", str(tmp_path / "f.json")]
    if budget is not None:
        cmd += ["--budget-total", str(budget)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout)


def test_the_agent_cap_ends_the_run(tmp_path: Path) -> None:
    # More agents than the cap: the checker refuses this program, so compile it unchecked
    # to see what Claude Code's cap does to a compiled script.
    program = parse('''workflow many:
    description: "over the cap"
input xs: list[int] max 2000
phase "A":
    r = fanout x in xs:
        agent "go {x}"
    after = agent "after {len(r)}"
return after
''', "many.wf")
    rc, report = host(tmp_path, compile_js(program, source_name="many.wf"), {"xs": list(range(1001))})
    assert rc == 1 and report["result"] is None
    assert report["error"].startswith("WorkflowAgentCapError: the run stopped: Workflow agent() call cap reached (1000)")
    assert report["agents_started"] == 1000
    assert not any(c["prompt"].startswith("after") for c in report["calls"]), "nothing runs after the stop"


def test_loop_until_dry_does_not_read_a_spent_budget_as_dry(tmp_path: Path) -> None:
    wf = ROOT / "examples" / "loop-until-dry" / "loop-until-dry.wf"
    loaded = load(str(wf))
    js = compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name)  # type: ignore[union-attr]
    fake = json.loads((wf.parent / "fake.json").read_text(encoding="utf-8"))
    rc, whole = host(tmp_path, js, {}, fake=fake)
    assert rc == 0 and whole["error"] is None
    spent = sum(c["usage"]["output_tokens"] for c in whole["calls"] if c["usage"])
    rc, cut = host(tmp_path, js, {}, fake=fake, budget=spent // 2)
    assert rc == 1 and cut["result"] is None, "a budget-killed round is not 'nothing new'"
    assert "the run stopped: Workflow token budget exceeded" in cut["error"]
    assert not any(c["label"] == "test plan" for c in cut["calls"])


def test_an_ordinary_failure_is_none_and_the_run_goes_on(tmp_path: Path) -> None:
    program = parse('''workflow f:
    description: "one agent fails"
a = agent "first" with label="first"
b = agent "second {a}" with label="second"
return [a, b]
''', "f.wf")
    rc, report = host(tmp_path, compile_js(program, source_name="f.wf"),
                      fake={"rules": [{"label": "first", "fail": "down"}]})
    assert rc == 0 and report["result"] == [None, "text for second #0"]


@pytest.mark.parametrize("child_args, expected", [
    ("{n: k}", 'Error: run "child.wf": args.n: 9 is more than the declared max 5'),
    ("{n: 1}", None),
])
def test_bad_arguments_fail_the_run_at_the_top_and_in_a_child(child_args: str, expected: str | None,
                                                              tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text('''workflow child:
    description: "c"
input n: int max 5
return agent "child {n}"
''', encoding="utf-8")
    wf = tmp_path / "top.wf"
    wf.write_text(f'''workflow top:
    description: "t"
input k: int
x = run "child.wf" with {child_args}
return x
''', encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    js = compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name)  # type: ignore[union-attr]
    rc, report = host(tmp_path, js, {"k": "nine"})
    assert rc == 1 and report["error"] == ("Error: the arguments do not fit the workflow's inputs: "
                                         "args.k: expected a number, got a string")
    rc, report = host(tmp_path, js, {"k": 9})
    if expected is None:
        assert rc == 0 and report["result"].startswith("text for child")
    else:
        assert rc == 1 and report["error"].startswith(expected)
