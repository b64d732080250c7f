"""Values of a running workflow, exactly as docs/semantics.md defines them.

Python values stand for `.wf` values: None, bool, int/float (one number type, as in JS:
an integral result is an int), str, list, dict (insertion order kept). Everything here is
pure and part of the language: the builtins (wflang/dsl/builtins) and the interpreter call
these, and so do the tests that hold the runtime to the same contract as the emitted
JavaScript.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

Value = Any
KeyFn = Callable[[Value], Value]
Orders = Sequence[Sequence[str] | None] | None

MAX_SAFE_INTEGER = 2**53 - 1


class ValueError_(Exception):
    """A value of the wrong kind reached an operation (the checker should have caught it);
    the interpreter turns it into a run error with a source location."""


# ---------------------------------------------------------------- kinds and numbers


def is_number(v: Value) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def num(x: int | float) -> int | float:
    """One number type: an integral float becomes an int (JS prints `4 / 2` as `2`)."""
    if isinstance(x, float) and x.is_integer() and abs(x) <= MAX_SAFE_INTEGER:
        return int(x)
    return x


def normalize(v: Value) -> Value:
    """Integral floats to ints, deeply: what JSON from an agent or the arguments means.
    An int beyond 2**53 becomes the double JavaScript reads for it."""
    # The exact JSON types first (every agent's answer passes here): one type test each.
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is int:
        return v if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER else _big(v)
    # A member that is already normal (a str, bool, None or safe int) is kept without a
    # call of its own: an agent's answer is mostly such members.
    if t is dict:
        out: dict[str, Value] = {}
        for k, x in v.items():
            tx = type(x)
            plain = tx is str or tx is bool or x is None or (tx is int and -MAX_SAFE_INTEGER <= x <= MAX_SAFE_INTEGER)
            out[k] = x if plain else normalize(x)
        return out
    if t is list:
        items: list[Value] = []
        for x in v:
            tx = type(x)
            plain = tx is str or tx is bool or x is None or (tx is int and -MAX_SAFE_INTEGER <= x <= MAX_SAFE_INTEGER)
            items.append(x if plain else normalize(x))
        return items
    return _normalize_other(v)


def _big(v: int) -> float:
    """An int beyond 2**53 as the double JavaScript reads for it."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _normalize_other(v: Value) -> Value:
    """`normalize` of a float or of a subclass of a JSON type (as before the fast path)."""
    if isinstance(v, float):
        return num(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_SAFE_INTEGER:
        return _big(v)
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items()}
    return v


_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")


def js_key_order(v: Value) -> Value:
    """A `json` value's objects, deeply, with their keys in the order a JavaScript object
    holds them: array-index keys ("0", "7", "10") first, ascending, then the others as
    they came. The compiled script keeps a json value as the object JSON.parse built, so
    `"{j}"`, `json(j)` and a run's result read alike in both targets."""
    if isinstance(v, list):
        return [js_key_order(x) for x in v]
    if not isinstance(v, dict):
        return v
    index = sorted((k for k in v if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1), key=int)
    first = set(index)
    rest = [k for k in v if k not in first]
    return {k: js_key_order(v[k]) for k in index + rest}


def js_number(x: int | float) -> str:
    """`String(x)` of JavaScript: shortest round-trip digits, exponent form from 1e21 up
    and below 1e-6 (`1e+21`, `1e-7`)."""
    if isinstance(x, int) and abs(x) <= MAX_SAFE_INTEGER:
        return str(x)
    if isinstance(x, int):
        try:
            x = float(x)  # JS holds a double; precision beyond 2**53 is gone there too
        except OverflowError:
            return "Infinity" if x > 0 else "-Infinity"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"  # also -0, as in JS
    sign = "-" if x < 0 else ""
    # repr() gives the shortest round-trip digits, as JS does; value = 0.digits × 10^n.
    _, dtuple, exponent = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, dtuple)).lstrip("0")
    assert isinstance(exponent, int)
    exponent += len(digits) - len(digits.rstrip("0"))
    digits = digits.rstrip("0")
    n = len(digits) + exponent
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        esign = "+" if e >= 0 else "-"
        out = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + esign + str(abs(e))
    return sign + out


# ---------------------------------------------------------------- JSON as JS writes it


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_lone_surrogates(json_text: str) -> str:
    """JSON text from `json.dumps(..., ensure_ascii=False)` as well-formed JSON.stringify
    (ES2019) writes it: a lone surrogate as `\\udxxx`, not raw. json.dumps escapes
    everything else exactly as JSON.stringify does (same short forms, lowercase `\\u00xx`)."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def json_string(s: str) -> str:
    """A string as `JSON.stringify` writes it."""
    return escape_lone_surrogates(json.dumps(s, ensure_ascii=False))


def json_number(x: int | float) -> str:
    """A number as `JSON.stringify` writes it: `String(x)`, and `null` when it is not
    finite (also an integer too large for a double, which JS reads as Infinity)."""
    if isinstance(x, int) and abs(x) > MAX_SAFE_INTEGER:
        try:
            x = float(x)  # what JS holds
        except OverflowError:
            return "null"
    return js_number(x) if math.isfinite(x) else "null"


def to_json(v: Value, indent: int | None = 2, sort_keys: bool = False) -> str:
    """`JSON.stringify(v, null, indent)`; with `indent=None` the compact form."""
    parts: list[str] = []
    _emit(v, indent, sort_keys, 0, parts)
    return "".join(parts)


def _emit(v: Value, indent: int | None, sort_keys: bool, depth: int, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif is_number(v):
        out.append(json_number(v))
    elif isinstance(v, str):
        out.append(json_string(v))
    elif isinstance(v, (list, tuple)):
        if not v:
            out.append("[]")
            return
        if indent is None:
            out.append("[")
            for i, x in enumerate(v):
                if i:
                    out.append(",")
                _emit(x, indent, sort_keys, depth + 1, out)
            out.append("]")
            return
        pad = "\n" + " " * (indent * (depth + 1))
        out.append("[")
        for i, x in enumerate(v):
            out.append(("," if i else "") + pad)
            _emit(x, indent, sort_keys, depth + 1, out)
        out.append("\n" + " " * (indent * depth) + "]")
    elif isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        keys = sorted(v) if sort_keys else list(v)
        sep = ":" if indent is None else ": "
        pad = "" if indent is None else "\n" + " " * (indent * (depth + 1))
        out.append("{")
        for i, k in enumerate(keys):
            out.append(("," if i else "") + pad + json_string(str(k)) + sep)
            _emit(v[k], indent, sort_keys, depth + 1, out)
        out.append("}" if indent is None else "\n" + " " * (indent * depth) + "}")
    elif callable(v):
        out.append("null")  # a key function has no JSON form (JS drops functions too)
    else:
        raise ValueError_(f"not a workflow value: {type(v).__name__}")


# ---------------------------------------------------------------- the core functions


def text(v: Value) -> str:
    """Interpolation, `log`, `join` and `str`."""
    if isinstance(v, str):
        return v
    if type(v) is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
        return str(v)  # js_number's first case, without its calls (a loop index in every prompt)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if is_number(v):
        return js_number(v)
    return to_json(v, 2)


def truthy(v: Value) -> bool:
    """False for None, false, 0, "", [] and {} (Python's rule, also in the JS helper)."""
    if v is None or v is False:
        return False
    if is_number(v):
        return v != 0 and not (isinstance(v, float) and math.isnan(v))
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def equal(a: Value, b: Value) -> bool:
    """Deep structural equality; numbers by value; a boolean is never a number."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) or is_number(b):
        return is_number(a) and is_number(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a is b


def canonical(v: Value) -> str:
    """JSON with sorted keys and no spaces: the identity used to group and dedupe."""
    return to_json(v, indent=None, sort_keys=True)


def _rank(v: Value) -> int:
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1
    if is_number(v):
        return 2
    if isinstance(v, str):
        return 3
    if isinstance(v, (list, tuple)):
        return 4
    return 5


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def compare(a: Value, b: Value) -> int:
    """A total order: None < booleans < numbers < strings < lists < records."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return _sign(ra - rb)
    if ra == 0:
        return 0
    if ra in (1, 2):
        return (a > b) - (a < b)
    if ra == 3:
        return (a > b) - (a < b)  # Python compares str by code point
    if ra == 4:
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c:
                return c
        return _sign(len(a) - len(b))
    ca, cb = canonical(a), canonical(b)
    return (ca > cb) - (ca < cb)


def compare_in_order(a: Value, b: Value, order: Sequence[str] | None) -> int:
    """compare() with a string union's declared ranking: listed values by position,
    values not in the list after them, by natural order."""
    if order is None:
        return compare(a, b)
    ia = order.index(a) if isinstance(a, str) and a in order else None
    ib = order.index(b) if isinstance(b, str) and b in order else None
    if ia is not None and ib is not None:
        return _sign(ia - ib)
    if ia is not None:
        return -1
    if ib is not None:
        return 1
    return compare(a, b)


def compare_keys(a: Value, b: Value, orders: Orders, compound: bool) -> int:
    """Compare two key values; `compound` keys (`by=(.a, .b)`) are lists compared
    component by component, each with its own order."""
    if compound and isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            c = compare_in_order(x, y, orders[i] if orders and i < len(orders) else None)
            if c:
                return c
        return _sign(len(a) - len(b))
    return compare_in_order(a, b, orders[0] if orders else None)


# ---------------------------------------------------------------- operators


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise ValueError_(what)


def kind(v: Value) -> str:
    return ["none", "bool", "number", "str", "list", "record"][_rank(v)]


def arith(op: str, a: Value, b: Value) -> Value:
    if a is None or b is None:
        return None
    if op == "+":
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if isinstance(a, list) and isinstance(b, list):
            return a + b
    if is_number(a) and is_number(b):
        if op == "+":
            return num(a + b)
        if op == "-":
            return num(a - b)
        if op == "*":
            return num(a * b)
        if op == "/":
            return None if b == 0 else num(a / b)
        if op == "%":
            return None if b == 0 else num(a % b)
    raise ValueError_(f"`{op}` does not apply to a {kind(a)} and a {kind(b)}")


def negate(v: Value) -> Value:
    if v is None:
        return None
    _need(is_number(v), f"`-` does not apply to a {kind(v)}")
    return num(-v)


def merge(a: Value, b: Value) -> Value:
    """`a | b`: keys of a, then new keys of b; b wins; None acts as {}."""
    a = {} if a is None else a
    b = {} if b is None else b
    _need(isinstance(a, dict) and isinstance(b, dict), f"`|` merges records, not a {kind(a)} and a {kind(b)}")
    return {**a, **b}


def contains(container: Value, x: Value) -> bool:
    """`x in container`."""
    if container is None:
        return False
    if isinstance(container, list):
        return any(equal(x, y) for y in container)
    if isinstance(container, str):
        return isinstance(x, str) and x in container
    if isinstance(container, dict):
        return isinstance(x, str) and x in container
    return False  # a number or a bool (a json value may be one) holds nothing, as in JS


def compare_op(op: str, a: Value, b: Value) -> bool:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if op == "in":
        return contains(b, a)
    if op == "not in":
        return not contains(b, a)
    c = compare(a, b)
    return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]


def field(obj: Value, name: str) -> Value:
    return obj.get(name) if isinstance(obj, dict) else None


def _bound(i: Value) -> int:
    _need(is_number(i) and math.isfinite(i), f"a slice bound must be a number, not {text(i)}")
    return int(i)  # truncated, as JS slice() does


def index(obj: Value, i: Value) -> Value:
    """`xs[i]`: negative from the end, out of range → None; None[i] → None."""
    if obj is None or i is None:
        return None
    if isinstance(obj, dict):
        return obj.get(i) if isinstance(i, str) else None
    if not isinstance(obj, (list, str)) or not is_number(i) or not float(i).is_integer():
        return None  # nothing at a fractional index, nor inside a number
    n = int(i)
    if n < -len(obj) or n >= len(obj):
        return None
    return obj[n]


def slice_(obj: Value, lo: Value, hi: Value) -> Value:
    if obj is None:
        return None
    _need(isinstance(obj, (list, str)), f"cannot slice a {kind(obj)}")
    a = None if lo is None else _bound(lo)
    b = None if hi is None else _bound(hi)
    return obj[a:b]


def iterate(v: Value) -> list[Value]:
    """What fan-outs and comprehensions iterate: a list; a string's code points; a
    record's keys; None yields nothing."""
    if v is None:
        return []
    if isinstance(v, list):
        return v
    if isinstance(v, str):
        return list(v)
    if isinstance(v, dict):
        return list(v)
    return []  # a number or a boolean: nothing, as the JS helper does
