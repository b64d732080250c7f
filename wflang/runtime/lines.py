"""What `wf run` writes to stderr when it is not a terminal, without importing rich.

On a pipe, a file or a captured stream, rich draws no colour and (with `soft_wrap`) no
wrapping: a line it prints is the line's plain text. Importing rich (`rich.console`,
`rich.text`) costs about a seventh of a `wf run` that starts no agent, for nothing there.
`console_for(stream)` gives a `LineConsole` in that case and a rich `Console` otherwise
(a terminal, or `FORCE_COLOR` / `TTY_COMPATIBLE` / `TTY_INTERACTIVE` set, which make rich
style a pipe). Both take `print(...)` the same way, with `Literal` and `styled` for what
the rich code spelled `Text(...)` and `Text.assemble(...)`.

`LineConsole` writes only what rich would write the same: anything else (markup, an
emoji code, tabs and control characters, rich renderables such as tables) is handed to a
rich `Console` made on first use, so the output is rich's, byte for byte.
"""

from __future__ import annotations

import os
import re
from typing import Any, TextIO

# rich's markup tags and emoji codes (rich.markup, rich._emoji_replace): a plain str that
# could hold one is rendered by rich itself.
_EMOJI = re.compile(r":\S*?:")
# What rich's Text expands or strips (tabs; BEL, BS, VT, FF, CR; escapes) and the
# characters it may measure differently: left to rich.
_NOT_PLAIN = re.compile(r"[\t\x07\x08\x0b\x0c\r\x1b]")
_STYLING_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


class Literal(str):
    """A line printed exactly as written: no markup, no emoji codes (rich's `Text(s)`)."""


class Styled:
    """Parts of one line, each plain text or (text, style): rich's `Text.assemble`."""

    __slots__ = ("parts",)

    def __init__(self, *parts: str | tuple[str, str]) -> None:
        self.parts = parts

    @property
    def plain(self) -> str:
        return "".join(p if isinstance(p, str) else p[0] for p in self.parts)

    def to_rich(self) -> Any:
        from rich.text import Text

        return Text.assemble(*self.parts)


def styled(*parts: str | tuple[str, str]) -> Styled:
    return Styled(*parts)


def _styles(stream: TextIO) -> bool:
    """Whether rich would draw colour or a live view on `stream`."""
    if any(os.environ.get(name) for name in _STYLING_ENV):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console_for(stream: TextIO, **options: Any) -> Any:
    """A console for `stream` with rich's `Console(file=stream, **options)` behaviour."""
    if _styles(stream):
        return RichLines(stream, **options)
    return LineConsole(stream, **options)


def lines_of(console: Any) -> Any:
    """`console` as one of ours: a rich `Console` given by a caller is wrapped."""
    return console if isinstance(console, (LineConsole, RichLines)) else RichLines(console=console)


def _rich_form(obj: Any) -> Any:
    from rich.text import Text

    if isinstance(obj, Literal):
        return Text(str(obj))
    if isinstance(obj, Styled):
        return obj.to_rich()
    return obj


class RichLines:
    """A rich `Console` that also takes `Literal` and `Styled`."""

    def __init__(self, stream: TextIO | None = None, *, console: Any = None, **options: Any) -> None:
        if console is None:
            from rich.console import Console

            console = Console(file=stream, **options)
        self.rich = console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.rich.print(*(_rich_form(o) for o in objects), **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)


class LineConsole:
    """Plain lines on a stream rich would not style; rich itself for anything else."""

    def __init__(self, stream: TextIO, **options: Any) -> None:
        self.file = stream
        self._options = options
        self._rich: Any = None
        self.is_terminal = False

    @property
    def rich(self) -> Any:
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(file=self.file, **self._options)
        return self._rich

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", **kwargs: Any) -> None:
        texts = [self._plain(o, kwargs.get("markup")) for o in objects]
        wraps = not kwargs.get("soft_wrap", self._options.get("soft_wrap", False))
        if wraps or None in texts or set(kwargs) - {"highlight", "markup", "soft_wrap"} or _NOT_PLAIN.search(end):
            # rich's own rendering (markup, emoji, wrapping, a table): let rich do it
            self.rich.print(*(_rich_form(o) for o in objects), sep=sep, end=end, **kwargs)
            return
        self.file.write(sep.join(texts) + end)  # type: ignore[arg-type]
        self.file.flush()

    @staticmethod
    def _plain(obj: Any, markup: bool | None) -> str | None:
        if isinstance(obj, Literal):
            text = str(obj)
        elif isinstance(obj, Styled):
            text = obj.plain
        elif isinstance(obj, str):
            # emoji codes are replaced even with markup=False
            if _EMOJI.search(obj) or (markup is not False and "[" in obj):
                return None
            text = obj
        else:
            return None
        return None if _NOT_PLAIN.search(text) else text
