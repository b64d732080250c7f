"""`wf check FILE... [--args F] [--json]`: the report, the JSON for CI, and exit status.

Exit status (also in `wf check --help`):
- 0: every file checks (and its arguments fit, with --args);
- 1: a file has errors, or the arguments do not fit its inputs;
- 2: usage: an unknown flag, no FILE, a FILE or --args file that cannot be read (a missing
  .wf is a wrong path on the command line, not a mistake in a program; its WF001 diagnostic
  is still reported, in the JSON too), or an --args file that is not JSON.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wflang.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, check_command, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pr-review" / "pr-review.wf"
EXAMPLE_ARGS = ROOT / "examples" / "pr-review" / "args.json"
BROKEN = 'workflow broken:\n    description: "d"\n\ninput files: list[str]\n'


def run(files: list[str], args: str | None = None, as_json: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = check_command(files, args, as_json, out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    p = tmp_path / "broken.wf"
    p.write_text(BROKEN, encoding="utf-8")
    return p


# ---------------------------------------------------------------- the human report


def test_design_example_report() -> None:
    status, out, err = run([str(EXAMPLE)], str(EXAMPLE_ARGS))
    assert (status, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[0] == f"{EXAMPLE}: ok"
    assert lines[1].startswith("agents, worst case: 200 + 60×3 + ") and "= 387   (cap 1000, budget 800)" in lines[1]
    assert "  formula: files + min(files×5, 60)×3" in lines[2]
    assert lines[3].startswith("  Find    200   fanout over files (max 200, line 5) × 1 agent [line 22]")
    assert lines[4].startswith("  Verify  180   review: findings ≤ 60 (top, line 26) × 3 reviewers [line 29]")
    assert lines[5].startswith("  Fix       7   fix: 3 attempts × 1 agent + (3+1) checks [line 34]")
    assert lines[6].startswith("batchable (tools=none), worst case: 180 of 387")
    assert lines[7:10] == ["  Find      0 of 200", "  Verify  180 of 180", "  Fix       0 of 7"]
    assert "permissions: edit, shell" in lines
    assert lines[-1] == f"with --args {EXAMPLE_ARGS} (files: 12): at most 199 (180 batchable)"


def test_report_without_args_has_no_args_line() -> None:
    status, out, _ = run([str(EXAMPLE)])
    assert status == EXIT_OK and "with --args" not in out and "= 387" in out


def test_error_report(broken: Path) -> None:
    status, out, err = run([str(broken)])
    assert (status, err) == (EXIT_ERRORS, "")
    assert out.startswith("error[WF301]: list input `files` has no maximum\n")
    assert f" --> {broken}:4:14" in out
    assert out.rstrip().endswith(f"{broken}: 1 error")


# ---------------------------------------------------------------- --json


def test_json_report_fields() -> None:
    status, out, _ = run([str(EXAMPLE)], str(EXAMPLE_ARGS), as_json=True)
    assert status == EXIT_OK
    report = json.loads(out)
    assert report["file"] == str(EXAMPLE) and report["ok"] is True and report["diagnostics"] == []
    assert report["workflow"] == "pr-review" and report["permissions"] == ["edit", "shell"]
    b = report["bound"]
    assert b["total"] == 387 and b["cap"] == 1000
    assert b["budget"] == {"agents": 800, "output_tokens": None}
    assert b["formula"].startswith("files + min(files×5, 60)×3")
    assert b["phases"] == [{"phase": "Find", "agents": 200}, {"phase": "Verify", "agents": 180},
                           {"phase": "Fix", "agents": 7}]
    assert b["inputs"] == {"files": {"max": 200, "kind": "list"}}
    assert b["output_tokens"] is None
    assert [t["line"] for t in b["terms"]] == [22, 29, 34]
    assert b["terms"][1]["derivation"] == "review: findings ≤ 60 (top, line 26) × 3 reviewers"
    assert set(b["terms"][0]) == {"phase", "line", "agents", "formula", "derivation"}
    args = report["args"]
    assert args["file"] == str(EXAMPLE_ARGS) and args["sizes"] == {"files": 12}
    assert args["bound"]["total"] == 199


def test_json_report_with_errors(broken: Path) -> None:
    status, out, _ = run([str(broken)], as_json=True)
    assert status == EXIT_ERRORS
    report = json.loads(out)
    assert report["ok"] is False and "bound" not in report
    (d,) = report["diagnostics"]
    assert d == {"code": "WF301", "severity": "error", "message": "list input `files` has no maximum",
                 "file": str(broken), "line": 4, "column": 14, "end_line": 4, "end_column": 23,
                 "hint": d["hint"]}
    assert "max N" in d["hint"]


def test_json_for_several_files_is_a_list(broken: Path) -> None:
    status, out, _ = run([str(EXAMPLE), str(broken)], as_json=True)
    assert status == EXIT_ERRORS
    reports = json.loads(out)
    assert [r["ok"] for r in reports] == [True, False]


def test_json_argument_diagnostics_name_the_args_file(tmp_path: Path) -> None:
    args = tmp_path / "args.json"
    args.write_text('{"files": "a.py"}', encoding="utf-8")
    status, out, _ = run([str(EXAMPLE)], str(args), as_json=True)
    assert status == EXIT_ERRORS
    (d,) = json.loads(out)["diagnostics"]
    assert d["code"] == "WF404" and d["file"] == str(args) and "line" not in d


# ---------------------------------------------------------------- exit status


def test_exit_ok_and_errors(broken: Path) -> None:
    assert run([str(EXAMPLE)])[0] == EXIT_OK
    assert run([str(broken)])[0] == EXIT_ERRORS
    assert run([str(EXAMPLE), str(broken)])[0] == EXIT_ERRORS


def test_invalid_arguments_exit_1(tmp_path: Path) -> None:
    args = tmp_path / "args.json"
    args.write_text('{"files": ["a"], "colour": 1}', encoding="utf-8")
    status, out, _ = run([str(EXAMPLE)], str(args))
    assert status == EXIT_ERRORS and "unknown argument `colour`" in out
    assert out.rstrip().endswith(f"1 error in the arguments ({args})")


def test_missing_wf_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wf"
    status, out, _ = run([str(missing)])
    assert status == EXIT_USAGE
    assert out.startswith(f"error[WF001]: no such file: {missing}")
    status, out, _ = run([str(EXAMPLE), str(missing)], as_json=True)
    assert status == EXIT_USAGE
    assert [r["ok"] for r in json.loads(out)] == [True, False]


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    status, out, _ = run([str(tmp_path)])
    assert status == EXIT_USAGE and "is a directory" in out


def test_not_utf8_is_an_error_in_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.wf"
    bad.write_bytes('workflow t:\n    description: "caf\xe9"\n'.encode("latin-1"))
    status, out, _ = run([str(bad)])
    assert status == EXIT_ERRORS and "WF002" in out and "line 2" in out


def test_args_file_problems_are_usage_errors(tmp_path: Path) -> None:
    status, out, err = run([str(EXAMPLE)], str(tmp_path / "missing.json"))
    assert (status, out) == (EXIT_USAGE, "") and err.startswith("error: cannot read")
    bad = tmp_path / "bad.json"
    bad.write_text("{files: [}", encoding="utf-8")
    status, out, err = run([str(EXAMPLE)], str(bad))
    assert status == EXIT_USAGE and "not valid JSON" in err and f"{bad}:1:2" in err


@pytest.mark.parametrize("argv", [["check"], ["check", "--bogus", str(EXAMPLE)], ["bogus"]])
def test_argparse_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == EXIT_USAGE
    assert "usage:" in capsys.readouterr().err


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    assert "usage:" in capsys.readouterr().err


def test_main_dispatches_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLE), "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["bound"]["total"] == 387


def test_console_script() -> None:
    """The installed `wf` command, in a fresh interpreter: no traceback, the right status."""
    wf = shutil.which("wf")
    cmd = [wf] if wf else [sys.executable, "-m", "wflang.cli"]
    done = subprocess.run([*cmd, "check", str(EXAMPLE), "--args", str(EXAMPLE_ARGS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_OK, done.stderr
    assert "at most 199" in done.stdout and "Traceback" not in done.stderr
    done = subprocess.run([*cmd, "check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_USAGE and "Traceback" not in done.stderr
