"""The journal's fast paths for secrets give the bytes the plain ones gave: an answer is
encoded once and redacted only when its JSON may hold a secret; a row's texts are tested
in one pass. Checked against `json.dumps(scrub_value(v))` and `scrub(t)` per text, with
API-key-shaped strings and registered secrets (one with characters JSON escapes) in
values, keys and texts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wflang.runtime import redact
from wflang.runtime.journal import _dump, scrub, scrub_value

HELD = "held-secret-0123456789"
ESCAPED = 'quo"te\\secret\n99'
_texts = st.sampled_from(["", "plain", "sk-ant-api03-AbC_dEf-123", HELD, ESCAPED, "x" + HELD + "y", "ü\u2028", "sk-ant"])
_strings = st.builds(lambda parts: "".join(parts), st.lists(_texts, max_size=3))
_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                       | _strings,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_strings, inner, max_size=3),
                       max_leaves=10)


def _reference(value: Any) -> str:
    return json.dumps(scrub_value(value), ensure_ascii=False, allow_nan=False)


@pytest.fixture(params=["none", "held", "escaped"])
def secrets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setattr(redact, "_known", ())
    monkeypatch.setattr(redact, "_escaped", False)
    if request.param != "none":
        redact.register_secret(HELD)
    if request.param == "escaped":
        redact.register_secret(ESCAPED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_values)
def test_an_answer_is_stored_as_the_scrubbed_value_encoded(secrets: None, value: Any) -> None:
    assert _dump(value, "x") == _reference(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_strings | st.none(), min_size=1, max_size=8).map(tuple))
def test_a_rows_texts_are_scrubbed_one_by_one_or_kept(secrets: None, texts: tuple[str | None, ...]) -> None:
    assert redact.redact_texts(texts) == tuple(scrub(t) for t in texts)


def test_a_secret_json_escapes_is_found_by_the_value_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_secrets", set())
    redact.register_secret(ESCAPED)
    assert _dump({"k": f"a{ESCAPED}b"}, "x") == '{"k": "a[redacted API key]b"}'
