"""Every ```wf block in the docs checks: a whole file (it starts with `workflow`) as it
stands, a fragment inside CONTEXT, which declares the names the reference's fragments
use (a declaration the fragment makes itself is left out of the context)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wflang.dsl.loader import load

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*/README.md"))]
BLOCK = re.compile(r"^```wf\n(.*?)^```", re.S | re.M)

HEADER = ('workflow doc-example:\n    description: "The context of the reference\'s fragments"\n'
          '    permissions: edit, shell\n')
# name -> declaration; each is left out when the fragment declares that name itself
CONTEXT: dict[str, str] = {
    "files": "input files: list[str] max 200",
    "doc": 'input doc: str = "a document"',
    "plan": 'input plan: str = "a migration plan"',
    "goal": 'input goal: str = "a fast build"',
    "drafts": "input drafts: list[str] max 8",
    "Finding": 'type Finding:\n    file: str\n    line: int\n    issue: str\n    severity: "low" | "medium" | "high"',
    "Verdict": "type Verdict:\n    refuted: bool\n    why: str",
    "Choice": "type Choice:\n    ship: bool\n    why: str",
    "Pick": 'type Pick:\n    winner: "A" | "B"',
    "findings": "input findings: list[Finding] max 60",
    "confirmed": "input confirmed: list[Finding] max 60",
    "finding": "input finding: Finding",
    "kept": "input kept: list[str] max 20",
    "LENSES": 'LENSES = ["security", "performance"]',
}
# child workflows a fragment runs, written beside it
CHILDREN = {"summarise.wf": ('workflow summarise:\n    description: "Summarise documents"\n'
                             'input docs: list[str] max 20\nreturn agent "Summarise {docs}"\n')}


def blocks() -> list[tuple[str, int, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            out.append((str(doc.relative_to(ROOT)), text[: m.start()].count("\n") + 2, m.group(1)))
    return out


def declared(fragment: str) -> set[str]:
    return set(re.findall(r"^(?:input|type)\s+(\w+)", fragment, re.M)) | set(
        re.findall(r"^([A-Z][A-Z0-9_]*)\s*=", fragment, re.M))


def as_file(fragment: str) -> str:
    if fragment.startswith("workflow "):
        return fragment
    own = declared(fragment)
    context = [decl for name, decl in CONTEXT.items() if name not in own]
    return HEADER + "\n".join(context) + "\n" + fragment


def test_the_docs_have_wf_blocks() -> None:
    found = blocks()
    assert len(found) >= 15 and any(f == "docs/language.md" for f, _, _ in found)


@pytest.mark.parametrize("doc, line, fragment", [pytest.param(*b, id=f"{b[0]}:{b[1]}") for b in blocks()])
def test_every_wf_block_in_the_docs_checks(doc: str, line: int, fragment: str, tmp_path: Path) -> None:
    for name, text in CHILDREN.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "block.wf"
    path.write_text(as_file(fragment), encoding="utf-8")
    loaded = load(str(path))
    errors = [f"{d.code} line {d.span.line if d.span else '?'}: {d.message}" for d in loaded.diagnostics
              if d.severity == "error"]
    assert not errors, f"{doc}:{line}: the wf block does not check: {errors}"
