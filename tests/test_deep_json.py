"""JSON nested 100,000 deep, as arguments or a fake-answer file, is refused like any
malformed JSON (a located message, a usage exit), never a traceback or "internal error"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wflang.dsl import jsonread

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples" / "pr-review"
DEEP = '{"files": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _wf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "wflang", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _refused(out: subprocess.CompletedProcess[str], where: str) -> None:
    text = out.stdout + out.stderr
    assert "internal error" not in text and "Traceback" not in text, text[-2000:]
    assert out.returncode == 2, text[-2000:]
    assert "nest too deeply" in text and where in text, text[-2000:]


def test_loads_reports_where_the_nesting_gets_too_deep() -> None:
    with pytest.raises(json.JSONDecodeError) as e:
        jsonread.loads(DEEP)
    assert (e.value.lineno, e.value.colno) == (1, 10 + jsonread.DEPTH_LIMIT)  # `{` is level 1
    assert jsonread.loads("[" * 50 + "]" * 50) == eval("[" * 50 + "]" * 50)  # moderate depth reads


def test_check_args(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    _refused(_wf("check", str(EX / "pr-review.wf"), "--args", "deep.json", cwd=tmp_path), "deep.json:1:")


def test_run_args_and_args_json(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    common = ["--fake", str(EX / "fake.json"), "--yes", "--workspace", str(tmp_path)]
    _refused(_wf("run", str(EX / "pr-review.wf"), "--args", "deep.json", *common, cwd=tmp_path), "deep.json:1:")


def test_fake_init_args(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    _refused(_wf("fake", "init", str(EX / "pr-review.wf"), "--args", "deep.json", cwd=tmp_path), "deep.json:1:")


def test_a_deep_fake_answer_file(tmp_path: Path) -> None:
    (tmp_path / "answers.json").write_text('{"rules": ' + DEEP + "}")
    out = _wf("run", str(EX / "pr-review.wf"), "--args", str(EX / "args.json"), "--fake", "answers.json",
              "--yes", "--workspace", str(tmp_path), cwd=tmp_path)
    text = out.stdout + out.stderr
    assert "internal error" not in text and "Traceback" not in text, text[-2000:]
    assert out.returncode != 0 and "answers.json" in text, text[-2000:]
