"""The stand-alone parser cache (wflang/dsl/lalr.py): made on first use, used only for the
grammar it was made from, and never a reason for a check to fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pr-review" / "pr-review.wf"

PROBE = """
import json, sys
from wflang.cli import main
code = main(["check", sys.argv[1]])
import wflang.dsl.parser as p
print(json.dumps({"code": code, "lark": "lark" in sys.modules, "standalone": p._lark.standalone}))
"""


def _check(cache: Path) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE, str(EXAMPLE)], env=env, capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cache_file(cache: Path) -> str:
    from wflang.dsl import lalr, parser

    env = dict(os.environ)
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        path = lalr.cache_path(parser._GRAMMAR)
    finally:
        os.environ.clear()
        os.environ.update(env)
    assert path is not None and path.startswith(str(cache))
    return path


def test_first_check_builds_the_cache_then_checks_run_without_lark(tmp_path: Path) -> None:
    first = _check(tmp_path)
    assert first == {"code": 0, "lark": True, "standalone": False}
    assert [f.name for f in (tmp_path / "wflang").iterdir()] == [Path(_cache_file(tmp_path)).name]
    assert _check(tmp_path) == {"code": 0, "lark": False, "standalone": True}


def test_a_damaged_or_foreign_cache_is_rebuilt(tmp_path: Path) -> None:
    _check(tmp_path)
    path = Path(_cache_file(tmp_path))
    path.write_bytes(b"not marshal data")
    assert _check(tmp_path) == {"code": 0, "lark": True, "standalone": False}
    assert _check(tmp_path)["standalone"] is True  # rebuilt by the run before


def test_a_cache_of_another_grammar_is_not_used(tmp_path: Path) -> None:
    import marshal

    _check(tmp_path)
    path = Path(_cache_file(tmp_path))
    fmt, grammar, *rest = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps((fmt, grammar + "\n// edited\n", *rest)))
    assert _check(tmp_path)["standalone"] is False


def test_an_unwritable_cache_directory_still_checks(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would go")
    assert _check(blocked) == {"code": 0, "lark": True, "standalone": False}


def test_each_grammar_has_its_own_file_so_checkouts_do_not_thrash(tmp_path: Path) -> None:
    """Two versions of wflang on one machine (two checkouts, two virtualenvs) once shared
    one file and rebuilt it with lark at every switch; now each keeps its own."""
    import marshal

    _check(tmp_path)
    mine = Path(_cache_file(tmp_path))
    folder = mine.parent
    fmt, grammar, *rest = marshal.loads(mine.read_bytes())
    tag = sys.implementation.cache_tag
    for i in range(10):  # other grammars' files, older than ours
        other = folder / f"lalr-{tag}-{i:08x}.marshal"
        other.write_bytes(marshal.dumps((fmt, grammar + f"\n// version {i}\n", *rest)))
        os.utime(other, (1_000_000 + i, 1_000_000 + i))
    assert _check(tmp_path) == {"code": 0, "lark": False, "standalone": True}  # ours is still there
    mine.unlink()
    legacy = folder / f"lalr-{tag}.marshal"  # earlier versions' one shared file
    legacy.write_bytes(b"old")
    assert _check(tmp_path)["standalone"] is False  # rebuilt, and the oldest others pruned
    assert not legacy.exists()
    names = sorted(f.name for f in folder.iterdir())
    assert mine.name in names and len(names) == 8
    assert f"lalr-{tag}-{9:08x}.marshal" in names and f"lalr-{tag}-{0:08x}.marshal" not in names
    assert _check(tmp_path)["standalone"] is True


TREES = """
import hashlib, json, sys
from pathlib import Path
import wflang.dsl.parser as p

def shape(node):
    if hasattr(node, "data") and hasattr(node, "children"):
        return [str(node.data), [shape(c) for c in node.children]]
    if node is None:
        return None
    return [node.type, str(node), node.line, node.column, node.end_line, node.end_column]

parser, indenter = p._get_parser()
digest = hashlib.sha256()
for path in sorted(Path(sys.argv[1]).glob("*/*.wf")):
    text = path.read_text(encoding="utf-8")
    indenter.text = text
    digest.update(json.dumps(shape(parser.parse(text, start="start"))).encode())
print(json.dumps({"standalone": p._lark.standalone, "lark": "lark" in sys.modules, "trees": digest.hexdigest()}))
"""


def test_the_cached_tables_parse_every_example_as_lark_does(tmp_path: Path) -> None:
    """The cache holds lark's tables as pickled objects of the stand-alone module's own
    classes; the trees (tokens and positions) are the ones lark itself builds."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))

    def trees() -> dict:
        out = subprocess.run([sys.executable, "-c", TREES, str(ROOT / "examples")], env=env, capture_output=True,
                             text=True, timeout=120, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    built = trees()  # parses with lark, and writes the cache
    cached = trees()
    assert (built["standalone"], cached["standalone"], cached["lark"]) == (False, True, False)
    assert cached["trees"] == built["trees"]
