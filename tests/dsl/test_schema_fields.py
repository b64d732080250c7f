"""The JSON Schema of omittable fields (`name?: T`) and field descriptions, and how
answer fitting (runtime/fit.py) reads an omitted field."""

from __future__ import annotations

from wflang.dsl import ast
from wflang.dsl.loader import load
from wflang.dsl.schema import records_of, result_schema
from wflang.runtime.fit import NOT_FIT, fit

SOURCE = '''workflow t:
    description: "schemas"

type Bug:
    title: str  "one line"
    fixed_in?: str
    tags?: list[str] max 3  "labels, if any"
    owner: str?
    both?: int?

b = agent "find" -> Bug
return b.fixed_in
'''


def bug_schema() -> dict:
    loaded = load("t.wf", SOURCE)
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    program = loaded.program
    assert program is not None
    return result_schema(program.body[-2].value.result, records_of(program))  # type: ignore[union-attr]


def test_omittable_fields_are_properties_but_not_required() -> None:
    s = bug_schema()
    assert s["required"] == ["title", "owner"]
    assert list(s["properties"]) == ["title", "fixed_in", "tags", "owner", "both"]
    assert s["additionalProperties"] is False
    # an omittable field takes null too; `both?: int?` is the same as `both?: int`
    assert s["properties"]["fixed_in"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert s["properties"]["both"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_descriptions_are_carried_into_the_schema() -> None:
    s = bug_schema()
    assert s["properties"]["title"] == {"type": "string", "description": "one line"}
    assert s["properties"]["tags"]["description"] == "labels, if any"
    assert "description" not in s["properties"]["owner"]


def test_fitting_fills_an_omitted_field_with_none_in_declared_order() -> None:
    s = bug_schema()
    out = fit({"owner": "ana", "title": "t", "extra": 1}, s)
    assert out == {"title": "t", "fixed_in": None, "tags": None, "owner": "ana", "both": None}
    assert list(out) == ["title", "fixed_in", "tags", "owner", "both"]
    assert fit({"title": "t", "owner": None, "tags": ["a", "b", "c", "d"]}, s)["tags"] == ["a", "b", "c"]


def test_a_required_nullable_field_left_out_does_not_fit() -> None:
    assert fit({"title": "t"}, bug_schema()) is NOT_FIT


def test_an_omittable_field_has_an_optional_type_for_the_checker() -> None:
    """The parser gives `name?: T` the type `T?`, so every checker rule for `none` applies."""
    loaded = load("t.wf", SOURCE)
    assert loaded.program is not None
    fields = {f.name: f for f in loaded.program.types[0].fields}
    assert fields["fixed_in"].omittable and isinstance(fields["fixed_in"].type, ast.OptionalType)
    assert isinstance(fields["fixed_in"].type.inner, ast.NamedType)  # not wrapped twice
    assert isinstance(fields["both"].type.inner, ast.NamedType)
    assert not fields["owner"].omittable and fields["owner"].doc is None
    assert fields["title"].doc == "one line" and not fields["title"].omittable
