"""Omittable record fields (`name?: T`) and field descriptions, through both targets: a
field the model leaves out reads as `none` in the Python runtime and under the node host
alike, is still one of `keys()`, and the schema both send leaves it out of `required` and
carries each field's description."""

from __future__ import annotations

from pathlib import Path

from tests.test_differential import assert_same, pytestmark, run_both  # noqa: F401  (skips without node)

SOURCE = '''workflow bugs:
    description: "omittable fields read as none"

type Bug:
    title: str  "one line that names the bug"
    fixed_in?: str  "the version that fixed it; leave it out when it is not fixed"
    owner: str?

phase "Find":
    bugs = agent "list the bugs" -> list[Bug] max 5
return {
    open: [b.title for b in bugs if b.fixed_in == none],
    fixed: [b.fixed_in for b in bugs if b.fixed_in != none],
    owners: [b.owner for b in bugs],
    fields: [keys(b) for b in bugs],
}
'''

ANSWER = {"items": [
    {"title": "left out", "owner": None},
    {"title": "sent as null", "fixed_in": None, "owner": "ana"},
    {"title": "fixed", "fixed_in": "1.2", "owner": None},
]}


def test_an_omitted_field_reads_as_none_in_both_targets(tmp_path: Path) -> None:
    wf = tmp_path / "bugs.wf"
    wf.write_text(SOURCE, encoding="utf-8")
    both = run_both(wf, {}, {"rules": [{"label": "*", "reply": ANSWER}]}, tmp_path)
    assert_same(both)
    assert both["py_value"] == {
        "open": ["left out", "sent as null"],
        "fixed": ["1.2"],
        "owners": [None, "ana", None],
        "fields": [["title", "fixed_in", "owner"]] * 3,
    }
    schema = both["py_calls"][0]["schema"]["properties"]["items"]["items"]
    assert schema["required"] == ["title", "owner"]
    assert set(schema["required"]) <= set(schema["properties"])
    assert schema["properties"]["title"]["description"] == "one line that names the bug"
    assert schema["additionalProperties"] is False


def test_a_nullable_field_left_out_still_fails_the_agent_in_both_targets(tmp_path: Path) -> None:
    """`owner: str?` is required-but-nullable: an answer without it does not fit, so the
    agent counts as failed (its result is none) in both targets."""
    wf = tmp_path / "bugs.wf"
    wf.write_text(SOURCE, encoding="utf-8")
    answer = {"items": [{"title": "no owner"}]}
    both = run_both(wf, {}, {"rules": [{"label": "*", "reply": answer}], "validate": False}, tmp_path)
    assert_same(both)
    assert both["py_value"] == {"open": [], "fixed": [], "owners": [], "fields": []}
