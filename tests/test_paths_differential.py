"""basename, dirname, extension, stem, url and hash mean the same in both targets: each JS
helper of prelude.js against its Python meaning (wflang/dsl/builtins/paths.py) on random
strings (astral characters, lone surrogates, runs of `/` and `.`), random URLs built
from the grammar's parts and random mutations of them; plus outside oracles where one
exists: Node's path.posix, Python's posixpath.splitext and urllib.parse.urlsplit, Node's
Buffer UTF-8 encoder and published FNV-1a test vectors. And a whole program through the
node host and the Python runtime."""

from __future__ import annotations

import json
import posixpath
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_differential import assert_same, run_both
from wflang.dsl.builtins import get
from wflang.dsl.builtins.paths import utf8
from wflang.dsl.loader import load

ROOT = Path(__file__).resolve().parent.parent
PRELUDE = ROOT / "wflang" / "transpiler" / "prelude.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the JS target cannot be run here")

# Each case: [function, argument]; the harness answers [value, oracle] per case.
HARNESS = r"""
const fs = require('fs'), vm = require('vm'), posix = require('path').posix
const input = JSON.parse(fs.readFileSync(0, 'utf8'))
const ctx = vm.createContext({})
vm.runInContext(input.prelude + '\n;globalThis.__h = { basename: baseName, dirname: dirName,' +
  ' extension: extensionOf, stem: stemOf, url: urlParts, hash: hashText }', ctx)
const h = ctx.__h
const oracle = { basename: (p) => posix.basename(p), dirname: (p) => posix.dirname(p),
  utf8: (s) => Buffer.from(s, 'utf8').toString('hex') }
const out = input.cases.map(([fn, arg]) => {
  try {
    if (fn === 'utf8') return [null, oracle.utf8(arg)]
    const v = h[fn](arg)
    return [v === undefined ? '<undefined>' : JSON.parse(JSON.stringify(v)),
      typeof arg === 'string' && oracle[fn] ? oracle[fn](arg) : null]
  } catch (e) { return ['<error ' + e + '>', null] }
})
process.stdout.write(JSON.stringify(out))
"""

PATH_CHARS = "/./.a b_-é😀\ud800\udc00"
paths = st.text(st.sampled_from(PATH_CHARS), max_size=12) | st.text(max_size=6)
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d\ude00"]
texts = (st.lists(st.sampled_from(SURROGATES) | st.text(max_size=4), max_size=5).map("".join)
         | st.text(st.characters(), max_size=10))

_SCHEME = st.sampled_from(["http", "HTTPS", "git+ssh", "a.b-c", "x1", "1x", "", "ht tp"])
_HOST = st.sampled_from(["example.com", "GitHub.COM", "a-b.c_d~e", "h%2Fx", "h%zz", "", "[::1]", "[FE80::1%]",
                         "[::1", "é.com", "a:b", "x!$&'()*+,;=y"])
_PORT = st.sampled_from([None, "", "80", "0", "65535", "65536", "007", "123456", "8a"])
_USER = st.sampled_from([None, "", "user", "u:p", "a@b", "%41", "u p"])
_PIECE = st.text(st.sampled_from("/abc.-_%?#=&😀é ;\\"), max_size=8)


@st.composite
def urls(draw: st.DrawFn) -> str:
    user, port = draw(_USER), draw(_PORT)
    u = draw(_SCHEME) + draw(st.sampled_from(["://", ":", ":/", "://"]))
    u += "" if user is None else user + "@"
    u += draw(_HOST) + ("" if port is None else ":" + port)
    u += draw(st.sampled_from(["", "/", "/a/b", "//x"])) + draw(_PIECE)
    if draw(st.booleans()):  # a random edit anywhere
        i = draw(st.integers(0, len(u)))
        u = u[:i] + draw(st.text(st.sampled_from(":/@[]#?%\t\\x"), max_size=2)) + u[i + 1:]
    return u


def _node(cases: list[list[Any]]) -> list[list[Any]]:
    payload = json.dumps({"prelude": PRELUDE.read_text(encoding="utf-8"), "cases": cases})
    proc = subprocess.run([str(NODE), "-e", HARNESS], input=payload, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _same(cases: list[list[Any]]) -> list[list[Any]]:
    """Node's answers, after asserting each equals the Python meaning."""
    answers = _node(cases)
    for (fn, arg), (js, _) in zip(cases, answers, strict=True):
        if fn != "utf8":
            # as a value reaches a .wf program (JSON): two surrogate code points that make a
            # pair are one character, in Python as in JS
            py = get(fn).py(json.loads(json.dumps(arg)))  # type: ignore[union-attr]
            assert js == py, f"{fn}({arg!r}): JS {js!r}, Python {py!r}"
    return answers


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(paths, min_size=10, max_size=10))
def test_path_parts_agree_and_follow_node_path_posix(ps: list[str]) -> None:
    cases = [[fn, p] for p in ps for fn in ("basename", "dirname", "extension", "stem")]
    for (fn, p), (value, oracle) in zip(cases, _same(cases), strict=True):
        if fn == "basename":
            assert value == oracle, p  # Node's basename, always
        elif fn == "dirname" and "//" not in p:
            assert value == oracle, p  # Node keeps a doubled `/` ("a//b" → "a/"); we drop it
        elif fn == "extension":  # (p as JSON brings it: a surrogate pair is one character)
            b = get("basename").py(json.loads(json.dumps(p)))  # type: ignore[union-attr]
            assert value == posixpath.splitext(b)[1], p
    for p in (json.loads(json.dumps(p)) for p in ps):
        assert get("stem").py(p) + get("extension").py(p) == get("basename").py(p)  # type: ignore[union-attr]


def test_path_rules_by_hand() -> None:
    table = {  # p: (basename, dirname, extension, stem)
        "": ("", ".", "", ""), "/": ("", "/", "", ""), "//": ("", "/", "", ""), "a": ("a", ".", "", "a"),
        "a/b/": ("b", "a", "", "b"), "/a": ("a", "/", "", "a"), "//a": ("a", "/", "", "a"),
        "a//b": ("b", "a", "", "b"), ".env": (".env", ".", "", ".env"), "..": ("..", ".", "", ".."),
        "..x": ("..x", ".", "", "..x"), "a.": ("a.", ".", ".", "a"), "a.tar.gz": ("a.tar.gz", ".", ".gz", "a.tar"),
        "src/.env.local": (".env.local", "src", ".local", ".env"), "x.y/": ("x.y", ".", ".y", "x"),
        "d/😀.t\ud800": ("😀.t\ud800", "d", ".t\ud800", "😀"),
    }
    cases = [[fn, p] for p in table for fn in ("basename", "dirname", "extension", "stem")]
    got = [v for v, _ in _same(cases)]
    assert got == [x for row in table.values() for x in row]
    assert [get(f).py(None) for f in ("basename", "dirname", "extension", "stem")] == [None] * 4  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(urls() | texts, min_size=20, max_size=20))
def test_url_parts_agree(us: list[str]) -> None:
    _same([["url", u] for u in us])


_SIMPLE = st.builds(lambda s, h, p, path, q, f: f"{s}://{h}{p}{path}{q}{f}",
                    st.sampled_from(["http", "https", "ftp", "git+ssh"]),
                    st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,8}[a-z0-9])?", fullmatch=True),
                    st.sampled_from(["", ":1", ":8080", ":65535"]),
                    st.from_regex(r"(/[A-Za-z0-9._~-]{0,5}){0,3}", fullmatch=True),
                    st.from_regex(r"(\?[A-Za-z0-9=&]{0,6})?", fullmatch=True),
                    st.from_regex(r"(#[A-Za-z0-9/?]{0,6})?", fullmatch=True))


@settings(max_examples=200, deadline=None)
@given(_SIMPLE)
def test_url_agrees_with_urlsplit_on_plain_urls(u: str) -> None:
    """Where RFC 3986 readers cannot disagree, ours reads what urllib reads."""
    got = get("url").py(u)  # type: ignore[union-attr]
    want = urlsplit(u)
    assert got == {"scheme": want.scheme, "host": want.hostname or "", "port": want.port, "path": want.path,
                   "query": want.query, "fragment": want.fragment}


def test_url_rules_by_hand() -> None:
    table: dict[str, Any] = {
        "https://Example.COM:8080/a/b?x=1&y#top": ("https", "example.com", 8080, "/a/b", "x=1&y", "top"),
        "http://user:pw@h/": ("http", "h", None, "/", "", ""),
        "file:///etc/hosts": ("file", "", None, "/etc/hosts", "", ""),
        "https://[::1]:443": ("https", "[::1]", 443, "", "", ""),
        "https://ex.com/é?q=😀#a#b": ("https", "ex.com", None, "/é", "q=😀", "a#b"),
        "https://h?a/b": ("https", "h", None, "", "a/b", ""),
        "mailto:x@y": None, "https://h:": None, "https://h:65536": None, "https://a@b@c": None,
        "http://h/a b": None, "http://h\\x": None, "https://é.com": None, "https://h%zz": None,
        "://x": None, "1a://x": None, "x://h:1:2": None, "https://[::1]x": None, "": None,
    }
    got = [v for v, _ in _same([["url", u] for u in table])]
    keys = ("scheme", "host", "port", "path", "query", "fragment")
    assert got == [None if row is None else dict(zip(keys, row, strict=True)) for row in table.values()]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(texts, min_size=20, max_size=20))
def test_hash_agrees_and_utf8_is_nodes(ss: list[str]) -> None:
    _same([["hash", s] for s in ss])
    answers = _node([["utf8", s] for s in ss])
    assert [utf8(s).hex() for s in ss] == [hex_ for _, hex_ in answers]


def test_hash_vectors_and_surrogates() -> None:
    """FNV-1a 64 test vectors (Fowler, Noll, Vo), and lone surrogates hash as U+FFFD does."""
    table = {"": "cbf29ce484222325", "a": "af63dc4c8601ec8c", "foobar": "85944171f73967e8",
             "\ud800": get("hash").py("\ufffd"), "a\udc00b": get("hash").py("a\ufffdb"),  # type: ignore[union-attr]
             "\ud83d\ude00": get("hash").py("😀")}  # type: ignore[union-attr]
    got = [v for v, _ in _same([["hash", s] for s in table])]
    assert got == list(table.values())
    assert get("hash").py(None) is None  # type: ignore[union-attr]


PROGRAM = '''workflow parts:
    description: "paths, URLs and hashes"
input file: str
input link: str
where = url(link)
return {b: basename(file), d: dirname(file), e: extension(file), s: stem(file), u: where,
        h: where.host, p: where.port, hash: hash(file), scratch: "/tmp/wf-{hash(link)[:8]}"}
'''


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(file=paths.filter(lambda p: p.strip() != "" and "\ud800" not in p and "\udc00" not in p),
       link=urls() | st.sampled_from(["https://github.com/acme/tools/pull/12?tab=files#top"]))
def test_a_program_of_parts_means_the_same_in_both_targets(
        file: str, link: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not link.strip():
        link = "x"  # "" is no argument (WF403)
    work = tmp_path_factory.mktemp("parts")
    wf = work / "parts.wf"
    wf.write_text(PROGRAM, encoding="utf-8")
    assert_same(run_both(wf, {"file": file, "link": link}, {"rules": []}, work))


def test_the_program_checks_with_no_agents() -> None:
    loaded = load("parts.wf", PROGRAM)
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    assert loaded.result.bound.total == 0  # type: ignore[union-attr]
