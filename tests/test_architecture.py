"""The two back ends (wflang/transpiler = JS, wflang/runtime = Python) meet only through the
language (wflang/dsl): neither imports the other, and the language imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wflang"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in sorted(_imports(path)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return out


def test_runtime_does_not_import_the_transpiler() -> None:
    assert _offenders("runtime", ("wflang.transpiler",)) == []


def test_transpiler_does_not_import_the_runtime() -> None:
    assert _offenders("transpiler", ("wflang.runtime",)) == []


def test_schema_mapping_belongs_to_the_language() -> None:
    assert (PACKAGE / "dsl" / "schema.py").is_file()
    assert not (PACKAGE / "transpiler" / "schema.py").exists()


def test_the_language_imports_neither_back_end() -> None:
    assert _offenders("dsl", ("wflang.runtime", "wflang.transpiler")) == []
