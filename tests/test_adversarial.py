"""The adversarial soundness suite, fast slice (the large run is bench/bench_soundness.py):
random well-formed programs × hostile arguments × hostile answers × failure patterns, in
the Python runtime and under the node host: no run over its bound, no live-guard trip,
no disagreement between the targets (tests/adversarial.py says what each case is)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adversarial import Tally, check_programs
from tests.strategies import programs

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(batch=st.lists(programs(), min_size=3, max_size=3), seed=st.integers(0, 2**32))
def test_hostile_arguments_and_answers_never_break_the_bound(batch: list[Any], seed: int,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally()
    check_programs(batch, tmp_path_factory.mktemp("adversarial"), seed, tally)
    assert not tally.failures, "\n\n".join(tally.failures[:3])
    assert tally.programs == 3 and tally.runs > 3 * 5
    assert tally.refused > 0  # the hostile arguments were refused somewhere
