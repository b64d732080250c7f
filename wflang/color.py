"""Colour for diagnostics: on a terminal by default, never when `NO_COLOR` is set (and
not empty, https://no-color.org), and as `--color never|auto|always` says.

Diagnostics are rendered as plain text first (so tests, files and pipes see exactly the
documented form); `paint` then adds ANSI colour to the parts a reader scans for: the
severity and code, the `-->` location, the gutter, the caret and the hint.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

MODES = ("never", "auto", "always")
_mode = "auto"

_RESET = "\x1b[0m"
_STYLE = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "gutter": "\x1b[1;34m", "caret": "\x1b[1;31m",
          "hint": "\x1b[36m", "ok": "\x1b[32m"}

# Compiled on first use (re's own cache keeps them): only output to a terminal is painted.
_HEAD = r"^(error|warning)(\[WF\d+\])?:"
_ARROW = r"^(\s*-->)( .*)$"
_GUTTER = r"^(\s*\d*\s*\|)(.*)$"
_NOTE = r"^(\s*=) (hint:)?(.*)$"
_OK = r"^(\S.*: )(ok)$"


def set_mode(mode: str) -> None:
    global _mode
    if mode not in MODES:
        raise ValueError(f"--color takes never, auto or always, not {mode}")
    _mode = mode


def get_mode() -> str:
    return _mode


def enabled(stream: TextIO) -> bool:
    if _mode == "always":
        return True
    if _mode == "never" or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, stream: TextIO) -> str:
    """`text` (rendered diagnostics or a check report) coloured for `stream`, or as is."""
    if not enabled(stream):
        return text
    return "\n".join(_line(line) for line in text.split("\n"))


def _wrap(style: str, s: str) -> str:
    return f"{_STYLE[style]}{s}{_RESET}" if s else s


def _line(line: str) -> str:
    m = re.match(_HEAD, line)
    if m:
        return _wrap(m.group(1), line[: m.end()]) + line[m.end():]
    m = re.match(_ARROW, line)
    if m:
        return _wrap("gutter", m.group(1)) + m.group(2)
    m = re.match(_GUTTER, line)
    if m:
        rest = m.group(2)
        if rest.strip() and set(rest.strip()) == {"^"}:
            return _wrap("gutter", m.group(1)) + _wrap("caret", rest)
        return _wrap("gutter", m.group(1)) + rest
    m = re.match(_NOTE, line)
    if m:
        return _wrap("gutter", m.group(1)) + " " + (_wrap("hint", m.group(2)) + m.group(3) if m.group(2)
                                                   else m.group(3))
    m = re.match(_OK, line)
    if m:
        return m.group(1) + _wrap("ok", m.group(2))
    return line
