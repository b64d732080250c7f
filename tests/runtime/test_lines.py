"""`LineConsole` writes what rich's `Console` writes on a stream it does not style."""

from __future__ import annotations

import io
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from wflang.runtime.lines import LineConsole, Literal, RichLines, console_for, styled

OPTIONS = {"highlight": False, "soft_wrap": True}
# the characters a run's lines are made of, and the ones rich treats specially
text = st.text(st.one_of(st.characters(codec="utf-8", exclude_categories=["Cs"]),
                         st.sampled_from(list("[]:/\\\t\r\x1b\x07 \n@#-emojismile"))), max_size=40)


def _pair(**options: object) -> tuple[io.StringIO, LineConsole, io.StringIO, Console]:
    a, b = io.StringIO(), io.StringIO()
    return a, LineConsole(a, **options), b, Console(file=b, **options)


@settings(max_examples=300, deadline=None)
@given(text, st.sampled_from([None, False, True]), st.sampled_from(["\n", "", " "]))
def test_a_str_prints_as_rich_prints_it(s: str, markup: bool | None, end: str) -> None:
    a, lines, b, rich = _pair(**OPTIONS)
    kwargs = {} if markup is None else {"markup": markup}
    try:
        rich.print(s, end=end, **kwargs)
    except Exception as exc:  # bad markup: rich raises, so must we (rich does the work)
        try:
            lines.print(s, end=end, **kwargs)
        except Exception as mine:
            assert type(mine) is type(exc)
            return
        raise AssertionError("rich raised, LineConsole did not") from exc
    lines.print(s, end=end, **kwargs)
    assert a.getvalue() == b.getvalue()


@settings(max_examples=300, deadline=None)
@given(text, text, st.sampled_from(["bold", "red", "dim cyan", ""]))
def test_literal_and_styled_print_as_text_does(s: str, t: str, style: str) -> None:
    a, lines, b, rich = _pair(**OPTIONS)
    lines.print(Literal(s))
    rich.print(Text(s))
    lines.print(styled(("phase ", "bold"), (s, style), ": ", t), soft_wrap=True)
    rich.print(Text.assemble(("phase ", "bold"), (s, style), ": ", t), soft_wrap=True)
    assert a.getvalue() == b.getvalue()


def test_wrapping_and_tables_are_left_to_rich() -> None:
    long = "word " * 40
    a, lines, b, rich = _pair(highlight=False, width=30)  # no soft_wrap: rich wraps at the width
    lines.print(long)
    rich.print(long)
    table = Table("a", "b")
    table.add_row("1", "2")
    lines.print(table)
    rich.print(table)
    assert a.getvalue() == b.getvalue() and a.getvalue().count("\n") > 5


def test_a_terminal_or_forced_colour_gets_rich(monkeypatch: object) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(console_for(Tty(), **OPTIONS), RichLines)
    assert isinstance(console_for(io.StringIO(), **OPTIONS), LineConsole)
    monkeypatch.setenv("FORCE_COLOR", "1")  # type: ignore[attr-defined]
    out = io.StringIO()
    forced = console_for(out, **OPTIONS)
    assert isinstance(forced, RichLines)
    forced.print(styled(("x", "red")), Literal("[b]y[/b]"))
    assert "\x1b[" in out.getvalue() and "[b]y[/b]" in out.getvalue()


def test_a_run_without_agents_on_a_pipe_does_not_import_rich(tmp_path: object) -> None:
    from pathlib import Path

    ws = Path(str(tmp_path))
    (ws / "w.wf").write_text('workflow w:\n    description: "no agent"\nreturn 1\n')
    (ws / "fake.json").write_text('{"rules": [], "default": "schema"}')
    code = ("import sys; from wflang.cli import main; rc = main(['run', 'w.wf', '--fake', 'fake.json', '--yes']); "
            "print('RICH' if any(m.startswith('rich') for m in sys.modules) else 'PLAIN', rc, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ws, capture_output=True, text=True, timeout=60)
    assert proc.stderr.strip().endswith("PLAIN 0"), proc.stderr
