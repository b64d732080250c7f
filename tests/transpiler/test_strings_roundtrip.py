"""Every character of every prompt, label, phase title and constant survives `wf compile`.

Random strings (backticks, `${`, backslashes, quotes, newlines, U+2028, unicode, lone
surrogates) go into a workflow's description, `when`, phase title, a constant, an
interpolated and a plain prompt, a label and the returned value; the compiled script runs
in node, loaded as Claude Code loads it, and everything must come back equal. One node
process serves every example (line-delimited JSON), so hypothesis can try many.

Not representable, so not generated: a high surrogate immediately followed by a low one
inside one string. Python keeps them as two code points; any JS string holding them is the
single astral character they encode.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wflang.dsl import labels
from wflang.dsl.loader import load
from wflang.transpiler.emit import compile_js
from wflang.transpiler.js_strings import js_string, js_template, template_text

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: compiled scripts cannot be run here")

SERVER = r"""
const vm = require('vm')
const readline = require('readline')
const run = async (req) => {
  if (req.literals) {  // evaluate JS literals, one by one
    const ctx = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } })
    return req.literals.map((lit) => {
      try { return { value: vm.runInContext('(' + lit + '\n)', ctx) } } catch (e) { return { error: String(e) } }
    })
  }
  const text = req.script
  const end = text.indexOf('\n}\n')
  const ctx = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } })
  const meta = vm.runInContext('(' + text.slice('export const meta = '.length, end + 2) + ')', ctx)
  const calls = []
  let current = null
  Object.assign(ctx, {
    agent: async (prompt, opts) => { calls.push({ prompt, label: opts.label, phase: opts.phase ?? current }); return 'ok' },
    parallel: async (thunks) => Promise.all(thunks.map((t) => Promise.resolve().then(t).catch(() => null))),
    pipeline: async (items, ...stages) => Promise.all(items.map(async (item, i) => {
      let carry = item
      for (const stage of stages) { if (carry === null) break; carry = await stage(carry, item, i) }
      return carry
    })),
    phase: (title) => { current = title },
    log: () => {},
    args: req.args,
    budget: Object.freeze({ total: null, spent: () => 0, remaining: () => Infinity }),
  })
  const body = 'const meta =' + text.slice('export const meta ='.length)
  const result = await new vm.Script("(async function(){'use strict';\n" + body + "\n})()").runInContext(ctx)
  return { meta, calls, result }
}
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  run(JSON.parse(line)).then((out) => out, (e) => ({ error: String(e && e.stack || e) }))
    .then((out) => process.stdout.write(JSON.stringify(out) + '\n'))
})
"""


class Node:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([str(NODE), "-e", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8")

    def ask(self, request: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")  # ensure_ascii: lone surrogates travel as \udxxx
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the node process died"
        return json.loads(line)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    if NODE is None:
        pytest.skip("node is not installed: compiled scripts cannot be run here")
    server = Node()
    yield server
    server.close()


def _no_pairs(s: str) -> bool:
    return not re.search("[\ud800-\udbff][\udc00-\udfff]", s)


# Every code point, lone surrogates included, weighted towards the characters JS treats
# specially.
SPECIAL = list("`$\\{}'\"\n\r\t\0\b\f\v") + ["${", "\u2028", "\u2029", "\ufeff", "\x85", "\x7f", "\ud800",
                                            "\udfff", "\U0001f600", "é", "\u0060", "*/", "//"]
chars = st.characters(codec=None, exclude_categories=()) | st.sampled_from(SPECIAL)
texts = st.lists(chars, max_size=12).map("".join).filter(_no_pairs)


def wf_literal(s: str) -> str:
    """`s` as a .wf string literal: printable text as is, the rest as \\U escapes."""
    out = []
    for ch in s:
        if ch in '"\\{}':
            out.append("\\" + ch)
        elif ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(ch)
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def one_line(s: str) -> str:
    """What meta's description becomes: one line (line breaks and the spaces around them
    collapse to one space)."""
    return re.sub(r"\s*[\r\n\u2028\u2029\x85]+\s*", " ", s).strip()


@needs_node
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=8, max_size=8))
def test_every_character_survives_compilation(node: Node, s: list[str]) -> None:
    description = "d" + s[0].replace("\n", "")  # the checker wants one line; other breaks collapse
    source = f"""workflow round-trip:
    description: {wf_literal(description)}
    when: {wf_literal(s[1])}

input given: str = {wf_literal(s[7])}

C = {wf_literal(s[3])}

phase {wf_literal(s[2])}:
    a = agent {wf_literal(s[4])[:-1]}|{{C}}|{wf_literal(s[4])[1:]} with label={wf_literal(s[5])}
    b = agent {wf_literal(s[6])}

return [C, {wf_literal(s[6])}, given, a]
"""
    loaded = load("round-trip.wf", source)
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    js = compile_js(loaded.program, bound=loaded.result.bound, source_name="round-trip.wf")  # type: ignore[union-attr]
    meta_src = js[: js.index("\n}\n")]
    assert "`" not in meta_src, "a backtick in meta"
    out = node.ask({"script": js, "args": {}})
    assert "error" not in out, out.get("error")
    assert out["meta"]["description"] == one_line(description)
    assert out["meta"]["whenToUse"] == s[1]
    assert [p["title"] for p in out["meta"]["phases"]] == [s[2]]
    assert out["calls"] == [
        {"prompt": s[4] + "|" + s[3] + "|" + s[4], "label": labels.normalize(s[5]), "phase": s[2]},
        {"prompt": s[6], "label": "b", "phase": s[2]},
    ]
    assert out["result"] == [s[3], s[6], s[7], "ok"]


@needs_node
@settings(max_examples=20, deadline=None)
@given(st.lists(texts, min_size=100, max_size=100))
def test_literals_evaluate_to_their_string(node: Node, strings: list[str]) -> None:
    literals: list[str] = []
    for s in strings:
        literals += [js_string(s), js_string(s, quote='"'), js_string(s, no_backtick=True),
                     "`" + template_text(s) + "`", js_template([("text", s), ("code", "'|'"), ("text", s)])]
    for lit in literals[2::5]:
        assert "`" not in lit
    got = node.ask({"literals": literals})
    expected = [v for s in strings for v in (s, s, s, s, s + "|" + s)]
    assert [g.get("value", g.get("error")) for g in got] == expected


def test_escapes_by_hand() -> None:
    assert js_string("a`b", no_backtick=True) == "'a\\u0060b'"  # six ASCII characters, no backtick
    assert js_string("it's\n") == "'it\\'s\\n'"
    assert js_string("\ud800\u2028\x00") == "'\\ud800\\u2028\\u0000'"
    assert template_text("`${x}` costs $5 \\") == "\\`\\${x}\\` costs $5 \\\\"
    assert js_template([("text", "a"), ("code", "b")]) == "`a${b}`"
    assert js_template([("text", "plain")]) == "'plain'"


@needs_node
def test_label_normalization_reads_white_space_as_javascript_does() -> None:
    # Claude Code shows String(label).replace(/\s+/g, " ").trim(); labels.normalize must
    # agree on every BMP character, so both targets' labels match what Claude Code shows.
    samples = [f"{chr(c)}a{chr(c)}{chr(c)}b{chr(c)}" for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    script = ("const xs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(xs.map((x) => x" + labels.JS_NORMALIZE + ")));")
    proc = subprocess.run([str(NODE), "-e", script], input=json.dumps(samples), capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    differ = [hex(ord(x[0])) for x, js in zip(samples, shown, strict=True) if labels.normalize(x) != js]
    assert differ == []
    assert labels.normalize(" a \u3000\t b\u2028") == "a b"
