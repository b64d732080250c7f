"""The fake backend: scripted answers from a JSON file, for tests, examples and dry runs.

The format is specified in `docs/fake-answers.md`. The node test host
(`wflang/transpiler/host.mjs`) implements the same format independently, and the two must
agree exactly: rule matching, `replies` sequencing, `fail_one_in`, the schema-shaped
values of `default: "schema"`, validation and usage numbers. Everything that could differ
between Python and JavaScript is defined here over UTF-16 code units or code points, never
over Python's or JavaScript's native notion of a string length.
"""

from __future__ import annotations

import array
import codecs
import functools
import json
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import trio

from wflang.dsl.shared_head import split
from wflang.dsl.values import escape_lone_surrogates, json_number, json_string
from wflang.runtime.backend import AgentFailure, AgentRequest, AgentResult, Usage
from wflang.runtime.by_identity import ByIdentity

__all__ = [
    "FakeAnswer",
    "FakeBackend",
    "FakeFileError",
    "FakeRule",
    "FakeSpec",
    "SchemaValueError",
    "fails_by_hash",
    "fake_usage",
    "fnv1a32",
    "glob_match",
    "js_json",
    "parse_fake",
    "schema_value",
    "shape_reply",
    "subset_error",
    "utf16_len",
    "validate_value",
]

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193
MAX_SCHEMA_DEPTH = 32
MAX_ARRAY_ITEMS = 4096  # the per-call item limit of parallel()/pipeline()
DEFAULT_INT_SPAN = 999

TOP_KEYS = ("rules", "default", "fail_one_in", "validate", "comment")
RULE_KEYS = ("label", "prompt", "reply", "replies", "fail", "latency", "comment")
# Validation keywords both implementations enforce; every other keyword is ignored.
VALIDATED_KEYWORDS = frozenset({
    "$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
    "items", "minItems", "maxItems", "uniqueItems", "maxProperties", "minProperties",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "anyOf", "oneOf", "allOf", "not",
})
# Regex escapes that mean the same in Python `re` and a flagless JavaScript RegExp.
_COMMON_ESCAPE_LETTERS = frozenset("dDwWsSbBnrtfvxu")


class FakeFileError(ValueError):
    """A malformed fake-answer file. The message names the file and the JSON location."""


class SchemaValueError(ValueError):
    """No schema-shaped value can be built for a schema (recursion, `false`, bad $ref)."""


# ------------------------------------------------------------------ strings and hashing


# The UTF-16 codec's own functions: str.encode("utf-16-le") finds them through the codec
# registry at every call, several times the cost of the conversion for a label.
_utf16_encode, _utf16_decode = codecs.utf_16_le_encode, codecs.utf_16_le_decode


def _utf16_bytes(text: str) -> bytes:
    # 'surrogatepass' keeps lone surrogates as themselves, exactly like JS charCodeAt.
    return _utf16_encode(text, "surrogatepass")[0]


def _utf16_units(text: str) -> array.array:
    """The UTF-16 code units of a non-ASCII text (an ASCII text's are its bytes)."""
    units = array.array("H", _utf16_bytes(text))
    if sys.byteorder == "big":
        units.byteswap()
    return units


def utf16_len(text: str) -> int:
    """The JavaScript `.length` of `text`: its number of UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(_utf16_bytes(text)) // 2


def _normalize(text: str) -> str:
    """Join surrogate pairs written as two Python code points into one code point, so that
    code-point counts agree with JavaScript's (JSON-decoded strings are already joined)."""
    if text.isascii():  # nothing to join
        return text
    try:
        text.encode("utf-8")  # fails exactly when the text holds a surrogate (C fast path)
    except UnicodeEncodeError:
        return _utf16_decode(_utf16_bytes(text), "surrogatepass", True)[0]
    return text


def fnv1a32(text: str, state: int = FNV_OFFSET) -> int:
    """FNV-1a, 32 bits, over the UTF-16 code units of `text` (one XOR per 16-bit unit).
    Pass a previous result as `state` to continue hashing (hash(a + b) == fnv1a32(b,
    fnv1a32(a)))."""
    h, prime = state, FNV_PRIME  # a local: this loop runs once per character of every prompt
    for unit in text.encode("ascii") if text.isascii() else _utf16_units(text):
        h = ((h ^ unit) * prime) & 0xFFFFFFFF
    return h


def fails_by_hash(label: str, prompt: str, n: int) -> bool:
    """The `fail_one_in` decision: chosen by content, so start order does not matter."""
    return fnv1a32(label + "\n" + prompt) % n == 0


@functools.lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    # Cached: every call tries every rule's label pattern against the same label.
    return _normalize(text)


def glob_match(pattern: str, text: str) -> bool:
    """Whole-string glob over code points: `*` any run, `?` one code point, all else literal."""
    p, t = _normalized(pattern), _normalized(text)
    if "*" not in p and "?" not in p:
        return p == t
    i = j = 0
    star, mark = -1, 0
    while j < len(t):
        if i < len(p) and p[i] == "*":
            star, mark = i, j
            i += 1
        elif i < len(p) and (p[i] == "?" or p[i] == t[j]):
            i += 1
            j += 1
        elif star != -1:
            i = star + 1
            mark += 1
            j = mark
        else:
            return False
    while i < len(p) and p[i] == "*":
        i += 1
    return i == len(p)


# ------------------------------------------------------------------ JSON.stringify


def _js_string(text: str) -> str:
    return json_string(_normalize(text))


def _plain(value: Any) -> bool:
    """True when json.dumps writes `value` as JSON.stringify would, apart from lone
    surrogates: no floats, no huge ints, only string keys."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str) or v is None or isinstance(v, bool):
            continue
        if isinstance(v, int):
            if abs(v) >= 10**21:
                return False
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                return False
            stack.extend(v.values())
        else:
            return False
    return True


def _compact_dumps() -> Callable[[Any], str]:
    """json.dumps(value, ensure_ascii=False, separators=(",", ":")) for a _plain value, with
    its C encoder made once: json.dumps makes a JSONEncoder and a C encoder at every call,
    most of its cost for a small value. The C encoder is made with the very arguments
    JSONEncoder.iterencode gives it, but no circular-reference markers (a _plain value is a
    tree); without the C accelerator, the encoder's own encode."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    c_encode = make(None, encoder.default, json.encoder.encode_basestring, None, encoder.key_separator,
                    encoder.item_separator, False, False, True)
    return lambda value: "".join(c_encode(value, 0))


_dumps = _compact_dumps()


def js_json(value: Any) -> str:
    """Exactly what JavaScript's `JSON.stringify(value)` returns for a JSON value."""
    return _stringify(value, _plain(value))


def _stringify(value: Any, plain: bool) -> str:
    """js_json, told whether `value` is _plain (a schema's plan knows it for its values)."""
    if not plain:
        return _js_json_slow(value)
    text = _dumps(value)  # the common case, at C speed
    # ASCII text holds no surrogate to join or escape.
    return text if text.isascii() else escape_lone_surrogates(_normalize(text))


def _js_json_slow(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**21 else json_number(value)
    if isinstance(value, float):
        return json_number(value)
    if isinstance(value, str):
        return _js_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_js_json_slow(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(_js_string(str(k)) + ":" + _js_json_slow(v) for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def fake_usage(prompt: str, value: Any) -> Usage:
    """input = UTF-16 length of the prompt // 4 + 1; output = UTF-16 length of the reply's
    text (or its JSON.stringify) // 4 + 1."""
    return _usage(prompt, value, _plain(value))


def _usage(prompt: str, value: Any, plain: bool) -> Usage:
    """fake_usage, told whether `value` is _plain."""
    return Usage(input_tokens=_tokens(prompt), output_tokens=_output_tokens(value, plain))


def _output_tokens(value: Any, plain: bool) -> int:
    return _tokens(value if isinstance(value, str) else _stringify(value, plain))


def _tokens(text: str) -> int:
    return utf16_len(text) // 4 + 1


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _with_article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value, so callers can never mutate the fake file's replies."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ schema-shaped values


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + str(seg).replace("~", "~0").replace("/", "~1") for seg in path)


def _site(path: tuple[str | int, ...]) -> tuple[str, int]:
    """(the path with its last array index written as `*`, that index or 0)."""
    for k in range(len(path) - 1, -1, -1):
        seg = path[k]
        if isinstance(seg, int):
            return _pointer(path[:k]) + "/*" + _pointer(path[k + 1:]), seg
    return _pointer(path), 0


def _as_int(v: Any) -> int | None:
    """An integral JSON number (5 and 5.0 alike, as JavaScript cannot tell them apart)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _as_num(v: Any) -> int | float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    # An int is finite however large (math.isfinite would overflow converting it).
    return v if isinstance(v, int) or math.isfinite(v) else None


class _GenContext:
    """The request's part of a schema-shaped value: its label and prompt (normalized), and
    the hash state every pick starts from."""

    __slots__ = ("label", "prompt", "_seed")

    def __init__(self, label: str, prompt: str) -> None:
        self.label, self.prompt = label, prompt
        self._seed: int | None = None

    @property
    def seed(self) -> int:
        """The FNV state after label + "\n" + prompt + "\n"; computed only when a value
        needs a hash (prompts can be long)."""
        if self._seed is None:
            self._seed = fnv1a32(self.label + "\n" + self.prompt + "\n")
        return self._seed


def schema_value(schema: Mapping[str, Any] | None, label: str, prompt: str) -> Any:
    """The deterministic worst-case value for a request (docs/fake-answers.md, "Schema-shaped
    values"). A text agent (schema None) gets `text for <label> #0`."""
    return _shaped(schema, label, prompt)[0]


def _shaped(schema: Any, label: str, prompt: str) -> tuple[Any, _Plan | None]:
    """schema_value, and the plan that made it (None for a text agent)."""
    label, prompt = _normalize(label), _normalize(prompt)
    if schema is None:
        return f"text for {label} #0", None
    plan = _plans.get(schema, _root_plan)
    return plan.make(_GenContext(label, prompt), ()), plan


def _at(path: tuple[Any, ...]) -> str:
    return _pointer(path) or "/"


# ------------------------------------------------------------------ plans of schema-shaped values
#
# A schema's values are made by a plan worked out once per schema object (`_plans`, by
# identity): the kind of every place, its bounds, enum, sizes and JSON pointer, the child
# plans. A request then pays only for what depends on its label and prompt: the hashes and
# the strings. The plan also knows, from the schema alone, when every value it makes fits
# the schema (`proven`: the fake then need not check its own value) and when every value is
# _plain (its JSON is then written without looking at it first). Where either is not
# certain the flag is False, and the value is checked (or looked at) as always. Values,
# errors and their order are exactly those of walking the schema for each request.

_Make = Callable[[_GenContext, tuple[int, ...]], Any]


@dataclass(frozen=True)
class _Plan:
    # The value at this place, given the request and the indices of the arrays around the
    # place (outermost first; () outside any array).
    make: _Make
    proven: bool = False  # every value made fits the schema as subset_error checks it
    plain: bool = False  # every value made is _plain


class _Index:
    """A place's segment that is an array index, known only when the value is made."""

    def __repr__(self) -> str:
        return "<index>"


_INDEX = _Index()


def _filled(place: tuple[Any, ...], ix: tuple[int, ...]) -> tuple[Any, ...]:
    """The path of a place, its array indices filled in."""
    if not ix:
        return place
    indices = iter(ix)
    return tuple(next(indices) if seg is _INDEX else seg for seg in place)


def _root_plan(schema: Any) -> _Plan:
    return _plan(schema, schema, "value", (), 0)


def _plan(root: Any, s: Any, name: Any, place: tuple[Any, ...], depth: int) -> _Plan:
    """The plan of the value of schema `s` for the property `name` at `place`."""
    try:
        return _plan_of(root, s, name, place, depth)
    except Exception as exc:  # absurd bounds (an OverflowError): raised when the value is made, as ever
        return _Plan(_raising(exc))


def _raising(exc: Exception) -> _Make:
    def make(ctx: _GenContext, ix: tuple[int, ...]) -> Any:
        raise exc.with_traceback(None)
    return make


def _failing(place: tuple[Any, ...], problem: Callable[[str], str]) -> _Plan:
    """A place no value can be made for: the error (at the place's path) is raised when,
    and only if, the place is reached."""
    def make(ctx: _GenContext, ix: tuple[int, ...]) -> Any:
        raise SchemaValueError(problem(_at(_filled(place, ix))))
    return _Plan(make)


def _plan_of(root: Any, s: Any, name: Any, place: tuple[Any, ...], depth: int) -> _Plan:
    if depth > MAX_SCHEMA_DEPTH:
        return _failing(place, lambda at: (
            f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels at {at} (a recursive $ref?)"))
    if s is True:
        s = {}
    if s is False:
        return _failing(place, lambda at: f"the schema at {at} is false and admits no value")
    if not isinstance(s, Mapping):
        return _failing(place, lambda at: f"the schema at {at} is not an object")
    if "$ref" in s:
        return _ref_plan(root, s["$ref"], name, place, depth + 1)
    if "const" in s:
        return _constant_plan(root, s, s["const"])
    enum = s.get("enum")
    if isinstance(enum, list) and enum:
        return _enum_plan(root, s, enum, place)
    kind = _type_of(s)
    if kind is None:
        for key in ("anyOf", "oneOf"):
            alternatives = s.get(key)
            if isinstance(alternatives, list) and alternatives:
                return _alternative_plan(root, s, key, alternatives, name, place, depth)
        kind = "object" if "properties" in s else "array" if "items" in s else "string"
    if kind == "null":
        return _constant_plan(root, s, None)
    if kind == "boolean":
        return _constant_plan(root, s, False)
    if kind in ("integer", "number"):
        return _number_plan(root, s, kind, place)
    if kind == "string":
        return _string_plan(root, s, name, place)
    if kind == "array":
        return _array_plan(root, s, name, place, depth)
    if kind == "object":
        return _object_plan(root, s, place, depth)
    problem = f"has an unsupported type {js_json(kind)}"
    return _failing(place, lambda at: f"the schema at {at} {problem}")


def _type_of(s: Mapping[str, Any]) -> str | None:
    t = s.get("type")
    if isinstance(t, str):
        return t
    if isinstance(t, list) and t:
        for item in t:
            if item != "null":
                return item if isinstance(item, str) else None
        return "null"
    return None


def _first_non_null(alternatives: list[Any]) -> Any:
    for alt in alternatives:
        if not (isinstance(alt, Mapping) and alt.get("type") == "null"):
            return alt
    return alternatives[0]


def _resolve_ref(root: Any, ref: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaValueError(f"only local $ref values (#/...) are supported, got {js_json(ref)}")
    node = root
    if ref in ("#", "#/"):
        return node
    if not ref.startswith("#/"):
        raise SchemaValueError(f"cannot resolve $ref {js_json(ref)}")
    for raw in ref[2:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise SchemaValueError(f"cannot resolve $ref {js_json(ref)}")
    return node


def _int_bounds(s: Mapping[str, Any]) -> tuple[int | None, int | None]:
    lows: list[int] = []
    highs: list[int] = []
    if (v := _as_num(s.get("minimum"))) is not None:
        lows.append(math.ceil(v))
    if (v := _as_num(s.get("exclusiveMinimum"))) is not None:
        lows.append(math.floor(v) + 1)
    if (v := _as_num(s.get("maximum"))) is not None:
        highs.append(math.floor(v))
    if (v := _as_num(s.get("exclusiveMaximum"))) is not None:
        highs.append(math.ceil(v) - 1)
    return (max(lows) if lows else None), (min(highs) if highs else None)


def _default_range(lo: int | None, hi: int | None) -> tuple[int, int]:
    if lo is None and hi is None:
        return 0, DEFAULT_INT_SPAN
    if lo is None:
        assert hi is not None
        return min(0, hi), hi
    if hi is None:
        return lo, lo + DEFAULT_INT_SPAN
    return lo, hi


def _ref_plan(root: Any, ref: Any, name: Any, place: tuple[Any, ...], depth: int) -> _Plan:
    try:
        target = _resolve_ref(root, ref)
    except SchemaValueError as exc:
        message = str(exc)
        return _failing(place, lambda at: message)
    # Planned when first reached: a recursive $ref is planned only as deep as values go.
    planned: list[_Plan] = []

    def make(ctx: _GenContext, ix: tuple[int, ...]) -> Any:
        if not planned:
            planned.append(_plan(root, target, name, place, depth))
        return planned[0].make(ctx, ix)
    return _Plan(make)  # not proven: its values are checked


def _constant_plan(root: Any, s: Mapping[str, Any], value: Any) -> _Plan:
    """`const`, null and boolean: the same value for every request."""
    return _Plan(lambda ctx, ix: _copy(value), proven=_fits(root, s, value), plain=_plain(value))


def _enum_plan(root: Any, s: Mapping[str, Any], enum: list[Any], place: tuple[Any, ...]) -> _Plan:
    pick, n = _picker(place), len(enum)
    return _Plan(lambda ctx, ix: _copy(enum[pick(ctx, ix, n)]),
                 proven=all(_fits(root, s, option) for option in enum),
                 plain=all(_plain(option) for option in enum))


def _picker(place: tuple[Any, ...]) -> Callable[[_GenContext, tuple[int, ...], int], int]:
    """The pick at a place: (FNV of its site, from the request's seed, + its index) % n."""
    if _INDEX not in place:
        site, index = _site(place)
        return lambda ctx, ix, n: (fnv1a32(site, ctx.seed) + index) % n

    def pick(ctx: _GenContext, ix: tuple[int, ...], n: int) -> int:
        site, index = _site(_filled(place, ix))
        return (fnv1a32(site, ctx.seed) + index) % n
    return pick


# The keywords an integer range is checked by: with only these, the integers that fit are
# an interval, so a range fits when both its ends do.
_RANGE_KEYWORDS = frozenset({"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})


def _number_plan(root: Any, s: Mapping[str, Any], kind: str, place: tuple[Any, ...]) -> _Plan:
    lo, hi = _default_range(*_int_bounds(s))
    if lo > hi:
        if kind == "integer":
            return _constant_plan(root, s, lo)  # contradictory bounds: validation reports it
        # No integer fits (e.g. 0.1..0.9): the midpoint of the raw bounds.
        lows = [v for k in ("minimum", "exclusiveMinimum") if (v := _as_num(s.get(k))) is not None]
        highs = [v for k in ("maximum", "exclusiveMaximum") if (v := _as_num(s.get(k))) is not None]
        return _constant_plan(root, s, (max(lows) + min(highs)) / 2)
    pick, span = _picker(place), hi - lo + 1
    return _Plan(lambda ctx, ix: lo + pick(ctx, ix, span),
                 proven=_only(s, _RANGE_KEYWORDS) and _fits(root, s, lo) and _fits(root, s, hi),
                 plain=abs(lo) < 10**21 and abs(hi) < 10**21)


def _string_plan(root: Any, s: Mapping[str, Any], name: Any, place: tuple[Any, ...]) -> _Plan:
    """`<name> for <label> #<indices>`, cut to maxLength, padded with "." to minLength."""
    longest, shortest = _as_int(s.get("maxLength")), _as_int(s.get("minLength"))
    static = _INDEX not in place
    indices = _indices(place)

    def make(ctx: _GenContext, ix: tuple[int, ...]) -> str:
        text = f"{name} for {ctx.label} #{indices if static else _indices(_filled(place, ix))}"
        if longest is not None and len(text) > longest:
            text = text[:max(longest, 0)]
        if shortest is not None and len(text) < shortest:
            text += "." * (shortest - len(text))
        return text
    return _Plan(make, proven=_string_proven(root, s, name), plain=True)


def _indices(path: tuple[Any, ...]) -> str:
    return ".".join(str(seg) for seg in path if isinstance(seg, int)) or "0"


def _string_proven(root: Any, s: Mapping[str, Any], name: Any) -> bool:
    """Whether every string _string_plan makes fits: only its type and lengths are checked,
    the lengths are read alike by the plan and the check (no fraction), they agree, and the
    name is normalized (the label is: so the check counts the code points the plan did)."""
    if not _only(s, {"type", "minLength", "maxLength"}) or not isinstance(name, str) or _normalize(name) != name:
        return False
    bounds = [s.get("minLength"), s.get("maxLength")]
    if any(_as_num(b) is not None and _as_int(b) is None for b in bounds):
        return False
    shortest, longest = (_as_int(b) for b in bounds)
    if longest is not None and (longest < 0 or (shortest is not None and shortest > longest)):
        return False
    return "type" not in s or _fits(root, {"type": s["type"]}, "")


# The keywords a list's size is checked by (its items are the item plan's business).
_SIZE_KEYWORDS = ("type", "minItems", "maxItems", "minProperties", "maxProperties")


def _array_plan(root: Any, s: Mapping[str, Any], name: Any, place: tuple[Any, ...], depth: int) -> _Plan:
    most, least = _as_int(s.get("maxItems")), _as_int(s.get("minItems"))
    n = most if most is not None else max(2, least or 0)
    n = min(max(n, 0), MAX_ARRAY_ITEMS)
    if n == 0:
        return _constant_plan(root, s, [])
    raw = s.get("items", True)
    # tuple-form `items` is not supported: treat as unconstrained
    item = _plan(root, raw if isinstance(raw, (Mapping, bool)) else True, name, place + (_INDEX,), depth + 1)
    proven = (item.proven and _only(s, {"type", "items", "minItems", "maxItems"}) and "prefixItems" not in s
              and isinstance(raw, (dict, bool)) and _fits(root, _sizes(s), [None] * n))
    return _Plan(lambda ctx, ix: [item.make(ctx, (*ix, i)) for i in range(n)], proven=proven, plain=item.plain)


def _object_plan(root: Any, s: Mapping[str, Any], place: tuple[Any, ...], depth: int) -> _Plan:
    """The properties, then the required keys the properties lack (as `{}`), then for a map
    (additionalProperties a schema) the keys "1".."n", n = maxProperties (else 2)."""
    planned: dict[Any, _Plan] = {}
    props = s.get("properties")
    if isinstance(props, Mapping):
        for key, sub in props.items():
            planned[key] = _plan(root, sub, key, place + (key,), depth + 1)
    required = s.get("required")
    if isinstance(required, list):
        for key in required:
            if isinstance(key, str) and key not in planned:
                planned[key] = _plan(root, {}, key, place + (key,), depth + 1)
    extra = s.get("additionalProperties")
    mapped = []
    if isinstance(extra, Mapping):
        most = _as_int(s.get("maxProperties"))
        for i in range(1, min(max(most if most is not None else 2, 0), MAX_ARRAY_ITEMS) + 1):
            if str(i) not in planned:
                planned[str(i)] = _plan(root, extra, str(i), place + (str(i),), depth + 1)
                mapped.append(str(i))
    fields = tuple(planned.items())
    return _Plan(lambda ctx, ix: {key: plan.make(ctx, ix) for key, plan in fields},
                 proven=_object_proven(root, s, planned, mapped),
                 plain=all(isinstance(key, str) and plan.plain for key, plan in fields))


def _object_proven(root: Any, s: Mapping[str, Any], planned: dict[Any, _Plan], mapped: list[str]) -> bool:
    """Whether every object _object_plan makes fits: each property's value fits its own
    schema, every required key is a string (the plan adds them all), the keys outside
    `properties` are the map's (checked against additionalProperties, whose plan they
    have), and the number of keys fits."""
    props, required, extra = s.get("properties"), s.get("required"), s.get("additionalProperties")
    if not _only(s, {"type", "properties", "required", "additionalProperties", "maxProperties", "minProperties"}):
        return False
    if not (props is None or isinstance(props, dict)) or not all(plan.proven for plan in planned.values()):
        return False
    if isinstance(required, list) and not all(isinstance(key, str) for key in required):
        return False
    outside = [key for key in planned if key not in (props or {})]
    if (isinstance(extra, dict) and outside != mapped) or (extra is False and outside):
        return False
    return _fits(root, _sizes(s), dict.fromkeys(planned))


def _sizes(s: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords of `s` that check a list's or an object's type and size only."""
    return {key: s[key] for key in _SIZE_KEYWORDS if key in s}


def _alternative_plan(root: Any, s: Mapping[str, Any], key: str, alternatives: list[Any], name: Any,
                      place: tuple[Any, ...], depth: int) -> _Plan:
    """anyOf / oneOf: the first alternative that is not null. Proven for an anyOf whose
    earlier alternatives are plain {"type": "null"} (checked first, they cannot fail the
    check itself) when the chosen one is."""
    chosen = _first_non_null(alternatives)
    inner = _plan(root, chosen, name, place, depth + 1)
    earlier = alternatives[:next(k for k, alt in enumerate(alternatives) if alt is chosen)]
    proven = (inner.proven and key == "anyOf" and _only(s, {"anyOf"})
              and all(isinstance(alt, dict) and _only(alt, {"type"}) for alt in earlier))
    return _Plan(inner.make, proven=proven, plain=inner.plain)


def _only(s: Any, keywords: Any) -> bool:
    """Whether `s` is a dict whose validated keywords are all among `keywords`."""
    return isinstance(s, dict) and all(key in keywords or key not in VALIDATED_KEYWORDS for key in s)


def _fits(root: Any, s: Any, value: Any) -> bool:
    """Whether subset_error's check of `s` passes `value` (False when it cannot tell)."""
    try:
        return _first_error(root, s, value, ()) is None
    except Exception:  # an unusable schema, a recursion: the check itself will say
        return False


_plans = ByIdentity()


# ------------------------------------------------------------------ shaping and validation


def _wrapper_key(schema: Mapping[str, Any]) -> str | None:
    """"items" / "value" when the schema root wraps a list or scalar result."""
    props = schema.get("properties")
    if schema.get("type", "object") != "object" or not isinstance(props, Mapping) or len(props) != 1:
        return None
    key = next(iter(props))
    return key if key in ("items", "value") else None


def shape_reply(schema: Mapping[str, Any] | None, reply: Any) -> Any:
    """Wrap a bare list/scalar reply as the schema root expects; keep an already wrapped one."""
    if schema is None:
        return _copy(reply)
    key = _wrapper_key(schema)
    if key is None or (isinstance(reply, dict) and key in reply):
        return _copy(reply)
    return {key: _copy(reply)}


@functools.cache
def _subset_validator() -> Any:
    # Imported on first use: jsonschema costs ~40 ms at every `wf run`, and a fake file
    # without replies never needs it.
    from jsonschema import Draft202012Validator, validators

    return validators.create(
        meta_schema=Draft202012Validator.META_SCHEMA,
        validators={k: v for k, v in Draft202012Validator.VALIDATORS.items() if k in VALIDATED_KEYWORDS},
        type_checker=Draft202012Validator.TYPE_CHECKER,
        format_checker=None,
    )


_validators = ByIdentity()


def _validator(schema: Mapping[str, Any]) -> Any:
    return _validators.get(schema, lambda schema: _subset_validator()(schema))


def validate_value(schema: Mapping[str, Any], value: Any) -> str | None:
    """None when `value` is valid for the keyword subset, else "at <pointer>: <problem>"
    for the first error (in schema keyword order, like the node host)."""
    try:
        error = next(iter(_validator(schema).iter_errors(value)), None)
    except Exception as exc:  # an unusable schema is the request's problem, not a crash
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"at /: the schema cannot be used: {first_line}"
    if error is None:
        return None
    return f"at {_pointer(tuple(error.absolute_path)) or '/'}: {error.message}"


# The same validator as host.mjs's `validateValue`, keyword for keyword and message for
# message: it checks schema-shaped values (fast, and with identical messages on both sides).
# Replies from the file are checked with jsonschema (`validate_value`); tests keep the two
# in agreement.


class _SchemaUnusable(Exception):
    pass


def _is_type(v: Any, t: Any) -> bool:
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "integer":
        return _as_int(v) is not None
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    raise _SchemaUnusable(f"unknown type {js_json(t) if _plain(t) else t!s}")


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) == len(b) and all(k in b and _json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return _normalize(a) == _normalize(b)
    return a is None and b is None


def _num_text(n: Any) -> str:
    return js_json(n) if isinstance(n, (int, float)) else str(n)


_Error = tuple[tuple[str | int, ...], str]


def _first_error(root: Any, schema: Any, v: Any, path: tuple[str | int, ...]) -> _Error | None:
    if schema is True:
        return None
    if schema is False:
        return path, "no value is allowed here (false schema)"
    if not isinstance(schema, dict):
        raise _SchemaUnusable(f"the schema at {_at(path)} is not an object or boolean")
    for key, arg in schema.items():
        check = _KEYWORD_CHECKS.get(key)
        if check is not None:
            error = check(root, arg, v, path, schema)
            if error is not None:
                return error
    return None


def _k_ref(root: Any, ref: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    try:
        target = _resolve_ref(root, ref)
    except SchemaValueError as exc:
        raise _SchemaUnusable(str(exc)) from None
    return _first_error(root, target, v, path)


def _k_type(root: Any, t: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    types = t if isinstance(t, list) else [t]
    if any(_is_type(v, x) for x in types):
        return None
    return path, f"expected {' or '.join(str(x) for x in types)}, got {_json_type(v)}"


def _k_enum(root: Any, values: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(values, list) or any(_json_equal(x, v) for x in values):
        return None
    return path, "not one of the enum values"


def _k_const(root: Any, c: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    return None if _json_equal(c, v) else (path, "not the const value")


def _k_properties(root: Any, props: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(v, dict) or not isinstance(props, dict):
        return None
    for key, sub in props.items():
        if key in v and (error := _first_error(root, sub, v[key], path + (key,))) is not None:
            return error
    return None


def _k_required(root: Any, required: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(v, dict) or not isinstance(required, list):
        return None
    for key in required:
        if key not in v:
            return path, f"missing required property {js_json(key) if _plain(key) else key}"
    return None


def _k_additional(root: Any, extra: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(v, dict):
        return None
    known = schema.get("properties")
    known = known if isinstance(known, dict) else {}
    extras = [k for k in v if k not in known]
    if isinstance(extra, dict):
        for key in extras:
            if (error := _first_error(root, extra, v[key], path + (key,))) is not None:
                return error
        return None
    if extra is False and extras:
        return path, "unexpected properties " + ", ".join(js_json(k) for k in extras)
    return None


def _k_items(root: Any, items: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(v, list):
        return None
    prefix = schema.get("prefixItems")
    start = len(prefix) if isinstance(prefix, list) else 0
    if len(v) <= start:
        return None
    if items is False:
        return path, "no (more) items are allowed here"
    for i in range(start, len(v)):
        if (error := _first_error(root, items, v[i], path + (i,))) is not None:
            return error
    return None


def _k_min_items(root: Any, n: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if isinstance(v, list) and _as_num(n) is not None and len(v) < n:
        return path, f"{len(v)} items, at least {_num_text(n)} required"
    return None


def _k_max_items(root: Any, n: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if isinstance(v, list) and _as_num(n) is not None and len(v) > n:
        return path, f"{len(v)} items, at most {_num_text(n)} allowed"
    return None


def _k_max_properties(root: Any, n: Any, v: Any, path: tuple[str | int, ...],
                      schema: dict[str, Any]) -> _Error | None:
    if isinstance(v, dict) and _as_num(n) is not None and len(v) > n:
        return path, f"{len(v)} properties, at most {_num_text(n)} allowed"
    return None


def _k_min_properties(root: Any, n: Any, v: Any, path: tuple[str | int, ...],
                      schema: dict[str, Any]) -> _Error | None:
    if isinstance(v, dict) and _as_num(n) is not None and len(v) < n:
        return path, f"{len(v)} properties, at least {_num_text(n)} required"
    return None


def _k_unique(root: Any, unique: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if unique is not True or not isinstance(v, list):
        return None
    for i in range(len(v)):
        for j in range(i + 1, len(v)):
            if _json_equal(v[i], v[j]):
                return path, "items are not unique"
    return None


def _bound(op: str, text: str) -> Any:
    compare = {"<": lambda a, b: a < b, ">": lambda a, b: a > b,
               "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}[op]

    def check(root: Any, m: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
        if _is_type(v, "number") and _as_num(m) is not None and compare(v, m):
            return path, f"{_num_text(v)} is {text} {_num_text(m)}"
        return None
    return check


def _length(op: str, text: str) -> Any:
    def check(root: Any, n: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
        if isinstance(v, str) and _as_num(n) is not None:
            length = len(_normalize(v))
            if (length < n) if op == "<" else (length > n):
                return path, f"{length} characters, {text} {_num_text(n)}"
        return None
    return check


def _k_any_of(root: Any, alts: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(alts, list) or any(_first_error(root, a, v, path) is None for a in alts):
        return None
    return path, "not valid under any of the anyOf schemas"


def _k_one_of(root: Any, alts: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(alts, list):
        return None
    valid = sum(_first_error(root, a, v, path) is None for a in alts)
    if valid == 0:
        return path, "not valid under any of the oneOf schemas"
    return (path, "valid under more than one of the oneOf schemas") if valid > 1 else None


def _k_all_of(root: Any, alts: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    if not isinstance(alts, list):
        return None
    for a in alts:
        if (error := _first_error(root, a, v, path)) is not None:
            return error
    return None


def _k_not(root: Any, sub: Any, v: Any, path: tuple[str | int, ...], schema: dict[str, Any]) -> _Error | None:
    return (path, "valid under the not schema") if _first_error(root, sub, v, path) is None else None


_KEYWORD_CHECKS: dict[str, Any] = {
    "$ref": _k_ref, "type": _k_type, "enum": _k_enum, "const": _k_const,
    "properties": _k_properties, "required": _k_required, "additionalProperties": _k_additional,
    "items": _k_items, "minItems": _k_min_items, "maxItems": _k_max_items, "uniqueItems": _k_unique,
    "maxProperties": _k_max_properties, "minProperties": _k_min_properties,
    "minimum": _bound("<", "less than the minimum"), "maximum": _bound(">", "greater than the maximum"),
    "exclusiveMinimum": _bound("<=", "not greater than the exclusive minimum"),
    "exclusiveMaximum": _bound(">=", "not less than the exclusive maximum"),
    "minLength": _length("<", "at least"), "maxLength": _length(">", "at most"),
    "anyOf": _k_any_of, "oneOf": _k_one_of, "allOf": _k_all_of, "not": _k_not,
}
assert set(_KEYWORD_CHECKS) == VALIDATED_KEYWORDS


def subset_error(schema: Any, value: Any) -> str | None:
    """host.mjs's validator in Python: None when valid, else "at <pointer>: <problem>"."""
    try:
        error = _first_error(schema, schema, value, ())
    except _SchemaUnusable as exc:
        return f"at /: the schema cannot be used: {exc}"
    except RecursionError:
        return "at /: the schema cannot be used: it recurses without end"
    if error is None:
        return None
    return f"at {_at(error[0])}: {error[1]}"


# ------------------------------------------------------------------ the fake file


@dataclass(frozen=True)
class FakeRule:
    index: int
    label: str | None = None
    prompt: str | None = None
    reply: Any = None
    has_reply: bool = False
    replies: tuple[Any, ...] | None = None
    fail: str | None = None
    latency: float = 0.0
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, label: str, prompt: str) -> bool:
        if self.label is not None and not glob_match(self.label, label):
            return False
        return self.regex is None or self.regex.search(prompt) is not None


@dataclass(frozen=True)
class FakeSpec:
    rules: tuple[FakeRule, ...] = ()
    default: str = "schema"  # "schema" | "fail" | "reply"
    default_reply: Any = None
    fail_one_in: int | None = None
    validate: bool = True  # false: replies are handed over unvalidated (a lenient host)


def _err(source: str, where: str, problem: str) -> FakeFileError:
    return FakeFileError(f"fake file {source}: {where}: {problem}")


def _describe(value: Any) -> str:
    return _json_type(value) + ("" if isinstance(value, (dict, list)) else f" {js_json(value)}")


def _check_keys(obj: Mapping[str, Any], allowed: tuple[str, ...], source: str, where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _err(source, where, f'unknown key "{key}" (allowed: {", ".join(allowed)})')


def common_regex_problem(pattern: str) -> str | None:
    """Why `pattern` is outside the subset that Python `re` and a flagless JS RegExp read
    alike, or None. Both implementations run exactly this scan."""
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
        if ch == "\\":
            if nxt.isascii() and nxt.isalpha() and nxt not in _COMMON_ESCAPE_LETTERS:
                return f"the escape \\{nxt} is not in the common subset"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(" and nxt == "?":
            kind, then = pattern[i + 2:i + 3], pattern[i + 3:i + 4]
            if not (kind in (":", "=", "!") or (kind == "<" and then in ("=", "!"))):
                return f"the group syntax (?{kind} is not in the common subset"
        i += 1
    return None


def _parse_rule(raw: Any, index: int, source: str) -> FakeRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise _err(source, where, f"expected an object, got {_describe(raw)}")
    _check_keys(raw, RULE_KEYS, source, where)
    for key in ("label", "prompt", "comment"):
        if key in raw and not isinstance(raw[key], str):
            raise _err(source, f"{where}.{key}", f"expected a string, got {_describe(raw[key])}")
    answers = [k for k in ("reply", "replies", "fail") if k in raw]
    if len(answers) > 1:
        raise _err(source, where, f"give at most one of reply, replies, fail (got {', '.join(answers)})")
    regex = None
    if "prompt" in raw:
        regex = _compile_prompt(raw["prompt"], source, f"{where}.prompt")
    replies = raw.get("replies")
    if "replies" in raw and (not isinstance(replies, list) or not replies):
        raise _err(source, f"{where}.replies", f"expected a non-empty array, got {_describe(replies)}")
    fail = raw.get("fail")
    if "fail" in raw and (not isinstance(fail, str) or not fail):
        raise _err(source, f"{where}.fail", f"expected a non-empty string (the failure message), got {_describe(fail)}")
    latency = raw.get("latency", 0)
    if _as_num(latency) is None or latency < 0:
        raise _err(source, f"{where}.latency", f"expected a number of seconds >= 0, got {_describe(latency)}")
    return FakeRule(
        index=index, label=raw.get("label"), prompt=raw.get("prompt"), reply=raw.get("reply"),
        has_reply="reply" in raw, replies=tuple(replies) if replies is not None else None,
        fail=fail, latency=_seconds(latency), regex=regex,
    )


def _seconds(latency: int | float) -> float:
    try:
        return float(latency)
    except OverflowError:  # an integer too large for a double: JS reads it as Infinity
        return math.inf


def _compile_prompt(pattern: str, source: str, where: str) -> re.Pattern[str]:
    problem = common_regex_problem(pattern)
    if problem is not None:
        raise _err(source, where, f"regular expression {js_json(pattern)}: {problem}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _err(source, where, f"invalid regular expression {js_json(pattern)}: {exc}") from None


def parse_fake(data: Any, source: str = "<dict>") -> FakeSpec:
    """Check a decoded fake file and build its spec; raises FakeFileError."""
    if not isinstance(data, dict):
        raise _err(source, "top level", f"expected an object, got {_describe(data)}")
    _check_keys(data, TOP_KEYS, source, "top level")
    if "comment" in data and not isinstance(data["comment"], str):
        raise _err(source, "comment", f"expected a string, got {_describe(data['comment'])}")
    rules_raw = data.get("rules", [])
    if not isinstance(rules_raw, list):
        raise _err(source, "rules", f"expected an array, got {_describe(rules_raw)}")
    rules = tuple(_parse_rule(raw, i, source) for i, raw in enumerate(rules_raw))
    default, default_reply = _parse_default(data.get("default", "schema"), source)
    fail_one_in = None
    if "fail_one_in" in data:
        fail_one_in = _as_int(data["fail_one_in"])
        if fail_one_in is None or fail_one_in < 1:
            raise _err(source, "fail_one_in", f"expected an integer >= 1, got {_describe(data['fail_one_in'])}")
    validate = data.get("validate", True)
    if not isinstance(validate, bool):
        raise _err(source, "validate", f"expected true or false, got {_describe(validate)}")
    return FakeSpec(rules=rules, default=default, default_reply=default_reply, fail_one_in=fail_one_in,
                    validate=validate)


def _parse_default(raw: Any, source: str) -> tuple[str, Any]:
    if raw in ("schema", "fail"):
        return raw, None
    if isinstance(raw, dict) and list(raw) == ["reply"]:
        return "reply", raw["reply"]
    raise _err(source, "default", f'expected "schema", "fail" or {{"reply": <value>}}, got {_describe(raw)}')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_fake_text(text: str, source: str) -> FakeSpec:
    try:
        from wflang.dsl import jsonread  # 100,000 nested lists: a located JSON error, not a crash

        data = jsonread.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise FakeFileError(
            f"fake file {source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise FakeFileError(f"fake file {source}: invalid JSON: {exc}") from None
    return parse_fake(data, source)


# ------------------------------------------------------------------ the backend


class FakeAnswer(NamedTuple):
    """What the fake decided for one call: wait `latency` seconds, then return `value`
    with `usage`, or fail with `error`. Immutable; a NamedTuple, not a frozen dataclass,
    whose __init__ costs several times as much (one per agent)."""

    latency: float
    value: Any = None
    error: str | None = None
    usage: Usage | None = None


class FakeBackend:
    """A `Backend` that answers from a fake-answer file (docs/fake-answers.md)."""

    def __init__(self, spec: FakeSpec | Mapping[str, Any], *, source: str = "<dict>", record: bool = True) -> None:
        if not isinstance(spec, FakeSpec):
            spec = parse_fake(dict(spec) if isinstance(spec, Mapping) else spec, source)
        self.spec = spec
        self.source = source
        if spec.validate and (spec.default == "reply" or any(r.has_reply or r.replies for r in spec.rules)):
            # Replies are validated: load the validator now, not inside the first agent
            # (importing jsonschema would stall the event loop ~0.1 s mid-run).
            _subset_validator()
        self._lock = threading.RLock()
        self._reply_counts = [0] * len(self.spec.rules)
        self._checks: dict[tuple[int, int], tuple[Any, Any, str | None, int]] = {}  # see _checked
        # Every call in start order, in the node host's record shape (for differential tests
        # and `wf fake init`); `wf run` reads none of it and passes record=False.
        self.calls: list[dict[str, Any]] = []
        self.record = record

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any], *, record: bool = True) -> FakeBackend:
        """From a path to a JSON file, or from an already decoded dict."""
        if isinstance(source, Mapping):
            return cls(source, record=record)
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FakeFileError(f"fake file {path}: cannot read it: {exc}") from None
        return cls(load_fake_text(text, str(path)), source=str(path), record=record)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> FakeBackend:
        return cls(load_fake_text(text, source), source=source)

    def decide(self, request: AgentRequest) -> FakeAnswer:
        """The answer to one call. Synchronous, so `replies` advance in call order."""
        label, prompt = request.label, _normalize(request.prompt)
        n = self.spec.fail_one_in
        if n is not None and fails_by_hash(label, prompt, n):
            return FakeAnswer(0.0, error=f"fake: fail_one_in={n} fails this call")
        for rule in self.spec.rules:  # the first rule that matches
            if rule.matches(label, prompt):
                break
        else:
            return self._default(request, 0.0)
        if rule.fail is not None:
            return FakeAnswer(rule.latency, error=rule.fail)
        if rule.replies is not None:
            with self._lock:
                k = self._reply_counts[rule.index]
                self._reply_counts[rule.index] = k + 1
            return self._explicit(request, rule.replies[min(k, len(rule.replies) - 1)],
                                  f"rules[{rule.index}]", rule.latency)
        if rule.has_reply:
            return self._explicit(request, rule.reply, f"rules[{rule.index}]", rule.latency)
        return self._default(request, rule.latency)  # a rule with only matchers and latency

    def _default(self, request: AgentRequest, latency: float) -> FakeAnswer:
        if self.spec.default == "fail":
            return FakeAnswer(latency, error=f'fake: no rule answers the call labelled "{request.label}"')
        if self.spec.default == "reply":
            return self._explicit(request, self.spec.default_reply, "default", latency)
        try:
            value, plan = _shaped(request.schema, request.label, request.prompt)
        except SchemaValueError as exc:
            return FakeAnswer(latency, error=f"fake: cannot build a schema-shaped value: {exc}")
        # A value its plan proves fitting is not checked again: the check could only pass.
        if plan is not None and not plan.proven and (problem := subset_error(request.schema, value)) is not None:
            return FakeAnswer(latency, error=f"fake: the schema-shaped value does not match the schema {problem}")
        return FakeAnswer(latency, value=value, usage=_usage(request.prompt, value, plan is None or plan.plain))

    def _explicit(self, request: AgentRequest, reply: Any, where: str, latency: float) -> FakeAnswer:
        if request.schema is None:
            if not isinstance(reply, str):
                return FakeAnswer(latency, error=(
                    f"fake: {where} gives {_with_article(_json_type(reply))} reply to a text agent, which needs a string"))
            return FakeAnswer(latency, value=reply, usage=fake_usage(request.prompt, reply))
        value = shape_reply(request.schema, reply)
        problem, output_tokens = self._checked(request.schema, reply, value)
        if problem is not None:
            return FakeAnswer(latency, error=f"fake: {where} gives a reply that does not match the schema {problem}")
        usage = Usage(input_tokens=_tokens(request.prompt), output_tokens=output_tokens)
        return FakeAnswer(latency, value=value, usage=usage)

    def _checked(self, schema: Any, reply: Any, value: Any) -> tuple[str | None, int]:
        """For `value` = shape_reply(schema, reply): validate_value's problem (None when
        replies are not validated) and the output tokens, worked out once per (schema,
        reply). A site's schema and a rule's reply are the same objects call after call, and
        neither figure reads anything else (jsonschema alone costs some 15 us a call). An
        entry keeps both objects alive, so their ids cannot be reused while it is kept."""
        key = (id(schema), id(reply))
        hit = self._checks.get(key)
        if hit is not None and hit[0] is schema and hit[1] is reply:
            return hit[2], hit[3]
        problem = validate_value(schema, value) if self.spec.validate else None
        output_tokens = _output_tokens(value, _plain(value))
        if len(self._checks) >= 4096:  # schemas made per call (a test's, a script's): start over
            self._checks.clear()
        self._checks[key] = (schema, reply, problem, output_tokens)
        return problem, output_tokens

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        with self._lock:  # one step, so `calls` is in the order `replies` were handed out
            answer = self.decide(request)
            record = self._record(request) if self.record else None
        if answer.latency > 0:
            await trio.sleep(answer.latency)  # simulated time: instant under MockClock
        if answer.error is not None:
            if record is not None:
                record.update(failed=True, error=answer.error)
            raise AgentFailure(answer.error)
        if record is not None:
            record.update(result=_copy(answer.value), usage=answer.usage.as_dict() if answer.usage else None)
        return AgentResult(value=answer.value, usage=answer.usage or Usage(), model_id="fake")

    def _record(self, request: AgentRequest) -> dict[str, Any]:
        record: dict[str, Any] = {
            "prompt": request.prompt, "schema": request.schema, "model": request.model,
            "effort": request.effort, "agent_type": request.agent_type, "label": request.label,
            "phase": request.phase, "isolation": request.isolation,
            # the capabilities the agent holds (the node host reads them off disallowedTools)
            "grants": sorted(p for p in request.permissions if p in ("edit", "shell")),
            # the text sent as the prompt's own cached block (dsl/shared_head.py), or None
            "shared_head": (split(request.prompt, request.shared_head) or (None,))[0],
            "result": None, "failed": False, "error": None, "usage": None,
        }
        with self._lock:
            self.calls.append(record)
        return record
