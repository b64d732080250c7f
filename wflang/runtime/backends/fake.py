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
import functools
import json
import math
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from wflang.dsl.shared_head import split
from wflang.dsl.values import escape_lone_surrogates, json_number, json_string
from wflang.runtime.backend import AgentFailure, AgentRequest, AgentResult, Usage

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


def _utf16_units(text: str) -> array.array | bytes:
    if text.isascii():  # one unit per character, the same number (most prompts)
        return text.encode("ascii")
    # 'surrogatepass' keeps lone surrogates as themselves, exactly like JS charCodeAt.
    units = array.array("H", text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    return units


def utf16_len(text: str) -> int:
    """The JavaScript `.length` of `text`: its number of UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _normalize(text: str) -> str:
    """Join surrogate pairs written as two Python code points into one code point, so that
    code-point counts agree with JavaScript's (JSON-decoded strings are already joined)."""
    if text.isascii():  # nothing to join
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def fnv1a32(text: str, state: int = FNV_OFFSET) -> int:
    """FNV-1a, 32 bits, over the UTF-16 code units of `text` (one XOR per 16-bit unit).
    Pass a previous result as `state` to continue hashing (hash(a + b) == fnv1a32(b,
    fnv1a32(a)))."""
    h = state
    for unit in _utf16_units(text):
        h = ((h ^ unit) * FNV_PRIME) & 0xFFFFFFFF
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


def js_json(value: Any) -> str:
    """Exactly what JavaScript's `JSON.stringify(value)` returns for a JSON value."""
    if _plain(value):  # the common case, at C speed
        return escape_lone_surrogates(_normalize(json.dumps(value, ensure_ascii=False, separators=(",", ":"))))
    return _js_json_slow(value)


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
    text = value if isinstance(value, str) else js_json(value)
    return Usage(input_tokens=utf16_len(prompt) // 4 + 1, output_tokens=utf16_len(text) // 4 + 1)


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


@dataclass
class _GenContext:
    root: Any
    label: str
    prompt: str
    _seed: int | None = None

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
    label, prompt = _normalize(label), _normalize(prompt)
    if schema is None:
        return _string_value({}, "text", (), label)
    ctx = _GenContext(schema, label, prompt)
    return _gen(ctx, schema, "value", (), 0)


def _at(path: tuple[str | int, ...]) -> str:
    return _pointer(path) or "/"


def _gen(ctx: _GenContext, s: Any, name: str, path: tuple[str | int, ...], depth: int) -> Any:
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaValueError(
            f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels at {_at(path)} (a recursive $ref?)")
    if s is True:
        s = {}
    if s is False:
        raise SchemaValueError(f"the schema at {_at(path)} is false and admits no value")
    if not isinstance(s, Mapping):
        raise SchemaValueError(f"the schema at {_at(path)} is not an object")
    if "$ref" in s:
        return _gen(ctx, _resolve_ref(ctx.root, s["$ref"]), name, path, depth + 1)
    if "const" in s:
        return _copy(s["const"])
    enum = s.get("enum")
    if isinstance(enum, list) and enum:
        return _copy(enum[_pick(ctx, path, len(enum))])
    kind = _type_of(s)
    if kind is None:
        for key in ("anyOf", "oneOf"):
            alternatives = s.get(key)
            if isinstance(alternatives, list) and alternatives:
                return _gen(ctx, _first_non_null(alternatives), name, path, depth + 1)
        kind = "object" if "properties" in s else "array" if "items" in s else "string"
    if kind == "null":
        return None
    if kind == "boolean":
        return False
    if kind == "integer":
        return _integer_value(ctx, s, path)
    if kind == "number":
        return _number_value(ctx, s, path)
    if kind == "string":
        return _string_value(s, name, path, ctx.label)
    if kind == "array":
        return _array_value(ctx, s, name, path, depth)
    if kind == "object":
        return _object_value(ctx, s, path, depth)
    raise SchemaValueError(f"the schema at {_at(path)} has an unsupported type {js_json(kind)}")


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


def _pick(ctx: _GenContext, path: tuple[str | int, ...], n: int) -> int:
    site, index = _site(path)
    return (fnv1a32(site, ctx.seed) + index) % n


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


def _integer_value(ctx: _GenContext, s: Mapping[str, Any], path: tuple[str | int, ...]) -> int:
    lo, hi = _default_range(*_int_bounds(s))
    if lo > hi:
        return lo  # contradictory bounds: validation reports it
    return lo + _pick(ctx, path, hi - lo + 1)


def _number_value(ctx: _GenContext, s: Mapping[str, Any], path: tuple[str | int, ...]) -> int | float:
    lo, hi = _default_range(*_int_bounds(s))
    if lo <= hi:
        return lo + _pick(ctx, path, hi - lo + 1)
    # No integer fits (e.g. 0.1..0.9): the midpoint of the raw bounds.
    lows = [v for k in ("minimum", "exclusiveMinimum") if (v := _as_num(s.get(k))) is not None]
    highs = [v for k in ("maximum", "exclusiveMaximum") if (v := _as_num(s.get(k))) is not None]
    return (max(lows) + min(highs)) / 2


def _string_value(s: Mapping[str, Any], name: str, path: tuple[str | int, ...], label: str) -> str:
    indices = ".".join(str(seg) for seg in path if isinstance(seg, int)) or "0"
    points = list(f"{name} for {label} #{indices}")
    longest = _as_int(s.get("maxLength"))
    if longest is not None and len(points) > longest:
        points = points[:max(longest, 0)]
    shortest = _as_int(s.get("minLength"))
    if shortest is not None and len(points) < shortest:
        points += ["."] * (shortest - len(points))
    return "".join(points)


def _array_value(ctx: _GenContext, s: Mapping[str, Any], name: str,
                 path: tuple[str | int, ...], depth: int) -> list[Any]:
    most, least = _as_int(s.get("maxItems")), _as_int(s.get("minItems"))
    n = most if most is not None else max(2, least or 0)
    n = min(max(n, 0), MAX_ARRAY_ITEMS)
    items = s.get("items", True)
    if not isinstance(items, (Mapping, bool)):
        items = True  # tuple-form `items` is not supported: treat as unconstrained
    return [_gen(ctx, items, name, path + (i,), depth + 1) for i in range(n)]


def _object_value(ctx: _GenContext, s: Mapping[str, Any], path: tuple[str | int, ...],
                  depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    props = s.get("properties")
    if isinstance(props, Mapping):
        for key, sub in props.items():
            out[key] = _gen(ctx, sub, key, path + (key,), depth + 1)
    required = s.get("required")
    if isinstance(required, list):
        for key in required:
            if isinstance(key, str) and key not in out:
                out[key] = _gen(ctx, {}, key, path + (key,), depth + 1)
    extra = s.get("additionalProperties")
    if isinstance(extra, Mapping):  # a map: keys "1".."n", n = maxProperties (else 2)
        most = _as_int(s.get("maxProperties"))
        for i in range(1, min(max(most if most is not None else 2, 0), MAX_ARRAY_ITEMS) + 1):
            if str(i) not in out:
                out[str(i)] = _gen(ctx, extra, str(i), path + (str(i),), depth + 1)
    return out


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


_validator_cache: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def _validator(schema: Mapping[str, Any]) -> Any:
    # Keyed by identity (schemas are usually shared constants); the entry keeps the
    # schema alive so its id cannot be reused while cached.
    with _cache_lock:
        hit = _validator_cache.get(id(schema))
        if hit is not None and hit[0] is schema:
            _validator_cache.move_to_end(id(schema))
            return hit[1]
        validator = _subset_validator()(schema)
        _validator_cache[id(schema)] = (schema, validator)
        if len(_validator_cache) > 256:
            _validator_cache.popitem(last=False)
        return validator


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


@dataclass(frozen=True)
class FakeAnswer:
    """What the fake decided for one call: wait `latency` seconds, then return `value`
    with `usage`, or fail with `error`."""

    latency: float
    value: Any = None
    error: str | None = None
    usage: Usage | None = None


class FakeBackend:
    """A `Backend` that answers from a fake-answer file (docs/fake-answers.md)."""

    def __init__(self, spec: FakeSpec | Mapping[str, Any], *, source: str = "<dict>") -> None:
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
        # Every call in start order, in the node host's record shape (for differential tests).
        self.calls: list[dict[str, Any]] = []

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> FakeBackend:
        """From a path to a JSON file, or from an already decoded dict."""
        if isinstance(source, Mapping):
            return cls(source)
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FakeFileError(f"fake file {path}: cannot read it: {exc}") from None
        return cls(load_fake_text(text, str(path)), source=str(path))

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> FakeBackend:
        return cls(load_fake_text(text, source), source=source)

    def decide(self, request: AgentRequest) -> FakeAnswer:
        """The answer to one call. Synchronous, so `replies` advance in call order."""
        label, prompt = request.label, _normalize(request.prompt)
        n = self.spec.fail_one_in
        if n is not None and fails_by_hash(label, prompt, n):
            return FakeAnswer(0.0, error=f"fake: fail_one_in={n} fails this call")
        rule = next((r for r in self.spec.rules if r.matches(label, prompt)), None)
        if rule is None:
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
            value = schema_value(request.schema, request.label, request.prompt)
        except SchemaValueError as exc:
            return FakeAnswer(latency, error=f"fake: cannot build a schema-shaped value: {exc}")
        if request.schema is not None and (problem := subset_error(request.schema, value)) is not None:
            return FakeAnswer(latency, error=f"fake: the schema-shaped value does not match the schema {problem}")
        return FakeAnswer(latency, value=value, usage=fake_usage(request.prompt, value))

    def _explicit(self, request: AgentRequest, reply: Any, where: str, latency: float) -> FakeAnswer:
        if request.schema is None:
            if not isinstance(reply, str):
                return FakeAnswer(latency, error=(
                    f"fake: {where} gives {_with_article(_json_type(reply))} reply to a text agent, which needs a string"))
            return FakeAnswer(latency, value=reply, usage=fake_usage(request.prompt, reply))
        value = shape_reply(request.schema, reply)
        problem = validate_value(request.schema, value) if self.spec.validate else None
        if problem is not None:
            return FakeAnswer(latency, error=f"fake: {where} gives a reply that does not match the schema {problem}")
        return FakeAnswer(latency, value=value, usage=fake_usage(request.prompt, value))

    async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
        with self._lock:  # one step, so `calls` is in the order `replies` were handed out
            answer = self.decide(request)
            record = self._record(request)
        if answer.latency > 0:
            await trio.sleep(answer.latency)  # simulated time: instant under MockClock
        if answer.error is not None:
            record.update(failed=True, error=answer.error)
            raise AgentFailure(answer.error)
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
