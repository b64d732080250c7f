"""The README's set-up: exactly two commands (a venv first, for Debian and Ubuntu where
pip is externally managed), the second is what CI runs, and the first tells the demo's
story on screen: an outcome line per phase, the review and the fix, a few seconds of
(simulated) agent time so the live view moves, and a short summary."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wflang.dsl.loader import load
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands() -> list[str]:
    head = README.split("**wflang** is", 1)[0]
    return [m.strip() for m in re.findall(r"```sh\n(.*?)```", head, re.S)]


def test_the_readme_starts_with_two_set_up_commands_in_a_venv() -> None:
    commands = setup_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    for c in commands:
        assert c.startswith("python3 -m venv .venv && . .venv/bin/activate && ")


def test_ci_runs_the_readmes_second_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == setup_commands()[1]


def _demo_argv() -> list[str]:
    words = shlex.split(setup_commands()[0].split("&&")[-1])
    assert words[:3] == ["python3", "-m", "wflang"]
    return words[3:]


def test_the_demo_tells_its_story(tmp_path: Path) -> None:
    argv = _demo_argv()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ws = ["--workspace", str(tmp_path)]
    done = subprocess.run([sys.executable, "-m", "wflang", *argv, *ws], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    for phase in ("Find", "Verify", "Fix"):
        assert re.search(rf"^phase {phase}: \d+ done, 0 failed", err, re.M), err
    assert "review (line 29): 4 kept, 2 rejected, 0 undecided of 6" in err  # two findings refuted
    assert "fix (line 34): the check failed, then passed after 1 attempt" in err  # failing, then passing
    assert re.search(r"run r-\S+ done: 33 agents done, 0 failed", err)
    assert json.loads(done.stdout)["tests_pass"] is True  # a pipe gets the result as JSON
    record = subprocess.run([sys.executable, "-m", "wflang", *argv, *ws, "--json"], capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=120)
    assert json.loads(record.stdout)["result"]["tests_pass"] is True


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_demo_takes_a_few_seconds_of_agent_time(tmp_path: Path) -> None:
    # The node host's virtual clock measures the fake latencies without waiting for them.
    argv = _demo_argv()
    wf, args, fake = argv[1], argv[argv.index("--args") + 1], argv[argv.index("--fake") + 1]
    loaded = load(str(ROOT / wf))
    script = tmp_path / "demo.js"
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=Path(wf).name))
    host = ROOT / "wflang" / "transpiler" / "host.mjs"
    done = subprocess.run(["node", str(host), "--script", str(script), "--fake", str(ROOT / fake),
                           "--args", str(ROOT / args)], capture_output=True, text=True, timeout=60)
    out = json.loads(done.stdout)
    assert 3 <= out["virtual_time"] <= 8


def test_a_terminal_gets_a_short_summary_of_the_result(tmp_path: Path) -> None:
    import io

    from wflang.runtime.run_cli import run_command

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    wf = tmp_path / "w.wf"
    wf.write_text('workflow w:\n    description: "d"\nreturn {found: [1, 2, 3], ok: true, note: "fine"}\n')
    out = Tty()
    assert run_command(str(wf), fake=str(ROOT / "examples" / "pr-review" / "fake.json"), workspace=str(tmp_path),
                       stdout=out, stderr=io.StringIO(), stdin=io.StringIO()) == 0
    assert out.getvalue().startswith("result: found: 3 items, ok: true, note: 'fine'\n")
    assert "--json" in out.getvalue()


def test_the_demo_answers_are_the_examples_with_latencies() -> None:
    # demo.json is fake.json plus latencies (fake.json stays instant for the tests that run it)
    example = ROOT / "examples" / "pr-review"
    demo = json.loads((example / "demo.json").read_text(encoding="utf-8"))
    plain = json.loads((example / "fake.json").read_text(encoding="utf-8"))
    assert all("latency" in r for r in demo["rules"])
    assert [{k: v for k, v in r.items() if k != "latency"} for r in demo["rules"]] == plain["rules"]
    assert demo["default"] == plain["default"]
