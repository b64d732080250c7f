"""Secrets that must never be stored or shown: the API key a backend holds, and anything
shaped like an Anthropic key.

A backend registers the key it uses (`register_secret`); the journal, error messages and
logs pass what they store through `redact_text` / `redact_value`. The pattern catches keys
the process never held (a model echoing another key it saw in a file).
"""

from __future__ import annotations

import re
import threading
from typing import Any

REDACTED = "[redacted API key]"
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9_-]+")
_MIN_SECRET = 8  # shorter "secrets" would redact ordinary words

_KEY_PREFIX = "sk-ant-"  # every match of _KEY_SHAPE starts with it
_lock = threading.Lock()
_secrets: set[str] = set()
_known: tuple[str, ...] = ()  # longest first (no partial leftovers); replaced whole, read lock-free
# Whether a known secret holds a character JSON writes escaped (a quote, a backslash, a
# control character): such a secret is not found as is in JSON text (json_may_hold_secret).
_escaped = False
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def register_secret(value: str | None) -> None:
    """Redact `value` wherever it appears from now on, in this process."""
    global _known, _escaped
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.add(value)
            _known = tuple(sorted(_secrets, key=len, reverse=True))
            _escaped = any(_JSON_ESCAPED.search(s) for s in _known)


def redact_text(text: str) -> str:
    # Called for every string the journal stores (ten or more per agent): the substring
    # tests are the fast path, the regular expression runs only when a key may be there.
    for secret in _known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_SHAPE.sub(REDACTED, text) if _KEY_PREFIX in text else text


def redact_value(value: Any) -> Any:
    """`value` (plain JSON) with every string, keys included, redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {redact_text(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    return value


def redact_texts(texts: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """`texts` with each one redacted (None stays None): the same tuple, after one test of
    them all, when none may hold a secret (the journal stores eight texts per agent)."""
    joined = "\x00".join([t for t in texts if t is not None])
    if _KEY_PREFIX not in joined and not (_known and any(secret in joined for secret in _known)):
        return texts
    return tuple(None if t is None else redact_text(t) for t in texts)


def json_may_hold_secret(text: str) -> bool:
    """Whether `text`, the JSON of a value, may hold a secret that `redact_value` would
    remove from the value. False: the value's strings hold none, so encoding the redacted
    value gives this very text. (JSON writes a string's characters as they are but for
    quotes, backslashes and control characters; a secret holding one of those is assumed
    to be there.)"""
    return _escaped or _KEY_PREFIX in text or bool(_known and any(secret in text for secret in _known))
