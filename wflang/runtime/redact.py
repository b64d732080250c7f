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


def register_secret(value: str | None) -> None:
    """Redact `value` wherever it appears from now on, in this process."""
    global _known
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.add(value)
            _known = tuple(sorted(_secrets, key=len, reverse=True))


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
