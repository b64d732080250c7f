"""Golden tests: one small `.wf` per mistake, and the exact `wf check` output for it.

Each `golden/NAME.wf` is checked the way `wf check NAME.wf [--args NAME.args.json]` does
it, from inside `golden/` so paths in the output are bare file names; the output must equal
`golden/NAME.expected`. The name of a case says the mistake.

Regenerate after a deliberate change of wording with

    WF_UPDATE_GOLDEN=1 python -m pytest tests/dsl/test_diagnostics_golden.py

and read the diff: the caret must sit under the right span, the message must be clear and
the hint actionable.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from wflang.cli import EXIT_ERRORS, check_command
from wflang.dsl.loader import load
from wflang.dsl.report import human

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.wf"))
UPDATE = os.environ.get("WF_UPDATE_GOLDEN") == "1"


def run_check(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """`wf check` on one case, from inside golden/ so the output names bare files."""
    monkeypatch.chdir(GOLDEN)
    args = f"{name}.args.json" if (GOLDEN / f"{name}.args.json").exists() else None
    out, err = io.StringIO(), io.StringIO()
    status = check_command([f"{name}.wf"], args, False, out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, err = run_check(name, monkeypatch)
    expected_file = GOLDEN / f"{name}.expected"
    if UPDATE:
        expected_file.write_text(out, encoding="utf-8")
    assert expected_file.exists(), f"no golden output for {name}: run with WF_UPDATE_GOLDEN=1"
    assert out == expected_file.read_text(encoding="utf-8")
    assert err == ""
    assert status == EXIT_ERRORS, "every golden case is a mistake"


@pytest.mark.parametrize("name", CASES)
def test_golden_shape(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every diagnostic has a code and a hint; a located one shows its line and a caret
    that lies within that line."""
    _, out, _ = run_check(name, monkeypatch)
    blocks = [b for b in out.split("\n\n") if b.startswith("error[")]
    assert blocks, out
    for block in blocks:
        lines = block.splitlines()
        assert re.match(r"error\[WF\d{3}\]: \S", lines[0]), block
        assert any("= hint: " in ln for ln in lines), f"no hint:\n{block}"
        where = re.search(r"--> (\S+?):(\d+):(\d+)$", lines[1])
        if where is None or "args.json" in lines[1]:
            continue
        line_no, col = int(where.group(2)), int(where.group(3))
        source = (GOLDEN / f"{name}.wf").read_text(encoding="utf-8").splitlines()
        assert 1 <= line_no <= len(source), block
        caret = next(ln for ln in lines if ln.strip().startswith("|") and "^" in ln)
        gutter = caret.index("|") + 2
        first = caret.index("^") - gutter + 1
        assert first == col, block
        assert caret.rstrip().endswith("^")
        assert caret.index("^") - gutter + caret.count("^") <= len(source[line_no - 1].expandtabs(1)) + 1, block


def test_human_report_matches_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """`report.human(load(path))` is what the CLI prints for a file without --args."""
    monkeypatch.chdir(GOLDEN)
    for name in CASES:
        if (GOLDEN / f"{name}.args.json").exists():
            continue
        _, out, _ = run_check(name, monkeypatch)
        assert out == human(load(f"{name}.wf")) + "\n"


def test_enough_distinct_mistakes() -> None:
    assert len(CASES) >= 40
    codes: set[str] = set()
    for name in CASES:
        text = (GOLDEN / f"{name}.expected").read_text(encoding="utf-8")
        codes.update(re.findall(r"error\[(WF\d+)\]", text))
    # Syntax (1xx), names and types (2xx), sizes and bounds (3xx), arguments (4xx).
    for family in ("WF1", "WF2", "WF3", "WF4"):
        assert any(c.startswith(family) for c in codes), family
    assert len(codes) >= 30, sorted(codes)


def test_no_orphans() -> None:
    expected = {p.name.removesuffix(".expected") for p in GOLDEN.glob("*.expected")}
    args = {p.name.removesuffix(".args.json") for p in GOLDEN.glob("*.args.json")}
    assert expected <= set(CASES), expected - set(CASES)
    assert args <= set(CASES), args - set(CASES)
