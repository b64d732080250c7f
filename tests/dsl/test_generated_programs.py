"""The generator of random well-formed programs (tests/strategies.py) keeps its promises:
every program checks, its arguments fit, and the checker's bound equals the worst case the
generator computed on its own, construct by construct (a differential test of bounds)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.strategies import AGENT_LIMIT, GeneratedProgram, programs
from wflang.cli import EXIT_OK, check_command
from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.bounds import AGENT_CAP
from wflang.dsl.loader import load
from wflang.dsl.report import human

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(programs())
def test_generated_program_checks(p: GeneratedProgram) -> None:
    loaded = load("generated.wf", p.source)
    assert loaded.ok, f"{p.source}\n{human(loaded)}"
    bound = loaded.result.bound  # type: ignore[union-attr]
    assert bound is not None
    assert isinstance(bound.total, int)
    assert 0 <= bound.total <= min(AGENT_LIMIT, AGENT_CAP)
    assert bound.total == p.worst_case, f"{p.source}\n{human(loaded)}"
    phases = dict(bound.phases())
    for title, n in p.phases.items():
        assert phases[title] == n, (title, p.source)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_arguments_fit(p: GeneratedProgram) -> None:
    loaded = load("generated.wf", p.source)
    assert loaded.ok
    values, diags = validate_args(loaded.program, json.loads(p.args_json()))
    assert diags == [], [d.message for d in diags]
    bound = loaded.result.bound  # type: ignore[union-attr]
    assert bound is not None
    assert bound.evaluate(sizes(loaded.program, values)) <= bound.total


@settings(max_examples=15, deadline=None)
@given(programs())
def test_generated_program_through_cli(p: GeneratedProgram) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp) / "generated.wf"
        args = Path(tmp) / "args.json"
        wf.write_text(p.source, encoding="utf-8")
        args.write_text(p.args_json(), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        assert check_command([str(wf)], str(args), False, out, err) == EXIT_OK, out.getvalue()
    assert f"= {p.worst_case}   (cap" in out.getvalue()


def _draw_sources() -> list[str]:
    seen: list[str] = []

    @settings(max_examples=10, deadline=None, derandomize=True, database=None)
    @given(programs())
    def record(p: GeneratedProgram) -> None:
        seen.append(p.source)

    record()
    return seen


def test_generator_is_deterministic() -> None:
    """The same draws give the same programs: nothing but the draw decides."""
    assert _draw_sources() == _draw_sources()


@settings(max_examples=20, deadline=None)
@given(programs())
def test_generated_program_reads_like_a_workflow(p: GeneratedProgram) -> None:
    text = str(p)
    assert text == p.source
    assert text.startswith("workflow ")
    assert '    description: "' in text
    assert "\nphase " in text
    assert "\t" not in text
    assert all((len(line) - len(line.lstrip(" "))) % 4 == 0 for line in text.splitlines())
