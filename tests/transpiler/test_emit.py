"""The JavaScript back end (`wflang/transpiler/emit.py`, `wf compile`).

- golden files: one small `.wf` per construct plus the design example, each with the JS it
  compiles to (`WF_UPDATE_GOLDEN=1 pytest tests/transpiler -k golden` rewrites them);
- the shape of every compiled script (goldens and examples): meta at byte 0 and a pure
  literal without backticks, every phase listed, the source comment, no banned constructs,
  two-space indentation; node loads each one the way Claude Code does;
- behaviour under the node host (wflang/transpiler/host.mjs): every example and golden runs
  to completion with schema-shaped answers and with every third agent failing, never
  starting more agents than the checker's bound; hand-computed expectations for tallies,
  labels, logs and arguments (docs/semantics.md);
- the JS helpers against the Python values module, on random values;
- `wf compile` (exit codes, -o, --install, --force).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wflang.dsl import ast
from wflang.dsl import values as V
from wflang.dsl.arguments import sizes, validate_args
from wflang.dsl.builtins import REGISTRY
from wflang.dsl.loader import Loaded, load
from wflang.runtime.fit import NOT_FIT, fit
from wflang.transpiler.compile_cli import compile_command
from wflang.transpiler.emit import compile_js

BUILTIN = {name: b.py for name, b in REGISTRY.items()}  # each builtin's Python meaning

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
PRELUDE = ROOT / "wflang" / "transpiler" / "prelude.js"
NODE = shutil.which("node")
UPDATE = os.environ.get("WF_UPDATE_GOLDEN") == "1"

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: compiled scripts cannot be run here")

GOLDEN_WF = sorted(GOLDEN.glob("*.wf"))  # golden/child/ holds workflows that others `run`
EXAMPLES = sorted((ROOT / "examples").glob("*/*.wf"))
ALL_WF = GOLDEN_WF + EXAMPLES

# Arguments the goldens run with (the examples bring their own args.json).
GOLDEN_ARGS: dict[str, Any] = {
    "fanout": {"files": ["a.py", "b.py", "c.py", "dd.py", "eeeee.py"]},
    "pipeline": {"files": ["a.py", "b.py", "c.py"]},
    "review": {"claims": ["c1", "c2", "c3"]},
    "vote": {"question": "is it?"},
    "tournament": {"plans": ["p1", "p2", "p3", "p4", "p5"]},
    "run": {"docs": ["d1", "d2"]},
    "arguments": {"targets": [{"path": "a", "weight": 1.5}], "count": 3},
    "pr-review": {"files": ["a.py", "b.py"]},
    "control": {"files": ["a.py", "b.py", "c.py"]},
    "early_exit": {"files": ["a.py", "b.py"], "deep": True},
}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@cache
def compiled(path: Path) -> tuple[str, Loaded]:
    loaded = load(str(path))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return compile_js(loaded.program, bound=loaded.result.bound, source_name=path.name), loaded  # type: ignore[union-attr]


def args_for(path: Path) -> Any:
    if path.parent == GOLDEN:
        return GOLDEN_ARGS.get(path.stem)
    f = path.parent / "args.json"
    return json.loads(f.read_text()) if f.exists() else None


def compile_source(source: str, name: str = "t.wf") -> str:
    loaded = load(name, source)
    assert loaded.ok, [(d.message, d.span) for d in loaded.diagnostics]
    return compile_js(loaded.program, bound=loaded.result.bound, source_name=name)  # type: ignore[union-attr]


def run_host(tmp_path: Path, script: str, fake: dict[str, Any] | None = None, args: Any = None,
             may_fail: bool = False) -> dict[str, Any]:
    (tmp_path / "s.js").write_text(script, encoding="utf-8")
    (tmp_path / "f.json").write_text(json.dumps(fake if fake is not None else {}))
    cmd = [str(NODE), str(HOST), "--script", str(tmp_path / "s.js"), "--fake", str(tmp_path / "f.json")]
    if args is not None:
        (tmp_path / "a.json").write_text(json.dumps(args))
        cmd += ["--args", str(tmp_path / "a.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode in ((0, 1) if may_fail else (0,)), proc.stderr
    report = json.loads(proc.stdout)
    assert may_fail or report["error"] is None, report["error"] + "\n" + proc.stderr
    return report


# ---------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("wf", GOLDEN_WF, ids=_id)
def test_golden(wf: Path) -> None:
    js, _ = compiled(wf)
    expected = wf.with_suffix(".js")
    if UPDATE or not expected.exists():
        expected.write_text(js, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{expected.name} did not exist; written now, review it and run again")
    assert js == expected.read_text(encoding="utf-8"), \
        f"{wf.name} compiles differently from {expected.name}; if intended, rerun with WF_UPDATE_GOLDEN=1"


def test_every_golden_js_has_its_wf() -> None:
    orphans = [p.name for p in GOLDEN.glob("*.js") if not p.with_suffix(".wf").exists()]
    assert not orphans


def test_goldens_cover_every_construct() -> None:
    text = "\n".join(p.read_text() for p in GOLDEN_WF)
    for word in ("fanout", "for ", "concurrency=", "stop when", "review", "keep if all", "by lens in",
                 "vote", "quorum", "tournament", "repeat max", "fix max", "stall", "until agent",
                 "check ", "run \"", "if ", "else:", "log ", "lambda", " for x in ", "-> list[", "-> bool",
                 "-> Note?", "agent_type=", "isolation=", "phase=", "label=", "fail ", "else {"):
        assert word in text, word


# ---------------------------------------------------------------------------- the shape of every script


def meta_text(js: str) -> str:
    assert js.startswith("export const meta = {\n"), "meta must be at byte 0"
    return js[: js.index("\n}\n") + 2]


def code_only(js: str) -> str:
    """The script without comments and without the text of string and template literals
    (the code inside `${...}` stays): what a scan for banned constructs should read."""
    out: list[str] = []
    i, n = 0, len(js)
    stack: list[str] = []  # open template literals / interpolations
    while i < n:
        ch = js[i]
        if stack and stack[-1] == "`":
            if ch == "\\":
                i += 2
            elif ch == "`":
                stack.pop()
                out.append("``")
                i += 1
            elif js.startswith("${", i):
                stack.append("{")
                out.append(" ")
                i += 2
            else:
                i += 1
            continue
        if js.startswith("//", i):
            end = js.find("\n", i)
            i = n if end < 0 else end
        elif ch in "'\"":
            j = i + 1
            while j < n and js[j] != ch:
                j += 2 if js[j] == "\\" else 1
            out.append("''")
            i = j + 1
        elif ch == "`":
            stack.append("`")
            i += 1
        elif ch == "/" and re.search(r"[(,=:]\s*$", "".join(out[-3:])):  # a regex literal
            j = i + 1
            while j < n and js[j] != "/":
                j += 2 if js[j] == "\\" else 1
            out.append("/re/")
            i = j + 1
        else:
            if stack and ch == "{":
                stack.append("{")
            elif stack and ch == "}":
                stack.pop()
                if stack and stack[-1] == "`":  # the end of a `${...}`: back in the template's text
                    out.append(" ")
                    i += 1
                    continue
            out.append(ch)
            i += 1
    return "".join(out)


BANNED = [r"\bDate\s*\.\s*now\b", r"\bMath\s*\.\s*random\b", r"\bnew\s+Date\s*\(\s*\)", r"\bimport\b",
          r"\brequire\b", r"\beval\b", r"\bFunction\b", r"\bwith\b", r"\bclass\b", r"\bthis\b",
          r"\bglobalThis\b", r"__wRg\$", r"\bsetInterval\b", r"\bprocess\b"]


@pytest.mark.parametrize("wf", ALL_WF, ids=_id)
def test_script_shape(wf: Path) -> None:
    js, loaded = compiled(wf)
    meta = meta_text(js)
    assert "`" not in meta, "the static meta reader rejects any backtick in meta"
    assert "${" not in code_only(meta)
    assert re.search(r"^  name: '[a-z0-9]+(-[a-z0-9]+)*',$", meta, re.M)
    assert re.search(r"^  description: '.*',$", meta, re.M)
    assert re.search(r"^  whenToUse: '.*',$", meta, re.M)
    listed = re.findall(r"^    \{ title: ('(?:[^'\\]|\\.)*')(?:, detail: '[^']*')?(?:, model: '[^']*')? \},$",
                        meta, re.M)
    assert len(listed) == meta.count("{ title:"), "each meta.phases entry is {title, detail?, model?}"
    titles = [json.loads(_js_to_json(t)) for t in listed]
    body = js[len(meta):]
    assert body.startswith(f"\n// Compiled by wflang from {wf.name}.")
    assert f"// Worst case: {loaded.result.bound.total} agent" in body  # type: ignore[union-attr]
    entered = [json.loads(_js_to_json(t)) for t in re.findall(r"\bphase\(('(?:[^'\\]|\\.)*')\)", body)]
    assert titles == list(dict.fromkeys(entered)), "meta.phases lists exactly the titles passed to phase()"
    assert [p.title for p in loaded.program.phases()] == titles
    code = code_only(js)
    for pattern in BANNED:
        assert not re.search(pattern, code), f"banned construct {pattern} in {wf.name}"
    for line in js.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"odd indentation: {line!r}"
        assert "\t" not in line[:indent]


def _js_to_json(literal: str) -> str:
    """A single-quoted JS string literal as emitted (JSON escapes) → a JSON string."""
    inner = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
    return '"' + inner + '"'


def test_code_only_scanner() -> None:
    js = "const a = 'this `x` ${y}' + `t ${f('class')} with` // import\nlog(`a${`b${c}`}`, /this/)"
    code = code_only(js)
    assert re.findall(r"\w+", code) == ["const", "a", "f", "log", "c", "re"]


SYNTAX_CHECK = r"""
const fs = require('fs'), vm = require('vm')
const out = {}
for (const file of process.argv.slice(1)) {
  const text = fs.readFileSync(file, 'utf8')
  try {
    if (!text.startsWith('export const meta = ')) throw new Error('meta is not at byte 0')
    const body = 'const meta =' + text.slice('export const meta ='.length)
    // As Claude Code checks it, and as it runs it: the body of a strict-mode async function.
    new vm.Script("(async function(){'use strict';\n" + body + "\n})", { filename: file })
    const ctx = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } })
    const end = text.indexOf('\n}\n')
    vm.runInContext('(' + text.slice('export const meta = '.length, end + 2) + ')', ctx)
    out[file] = null
  } catch (e) { out[file] = String(e) }
}
console.log(JSON.stringify(out))
"""


@needs_node
def test_every_script_loads_like_claude_code_loads_it(tmp_path: Path) -> None:
    files = []
    for wf in ALL_WF:
        js, _ = compiled(wf)
        f = tmp_path / f"{wf.parent.name}-{wf.stem}.js"
        f.write_text(js, encoding="utf-8")
        files.append(str(f))
    proc = subprocess.run([str(NODE), "-e", SYNTAX_CHECK, *files], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    problems = {k: v for k, v in json.loads(proc.stdout).items() if v}
    assert not problems


@needs_node
def test_the_prelude_parses_on_its_own(tmp_path: Path) -> None:
    proc = subprocess.run([str(NODE), "--check", str(PRELUDE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------- running under the host


@needs_node
@pytest.mark.parametrize("mode", ["schema", "fail_one_in_3"])
@pytest.mark.parametrize("wf", ALL_WF, ids=_id)
def test_runs_within_its_bound(wf: Path, mode: str, tmp_path: Path) -> None:
    js, loaded = compiled(wf)
    args = args_for(wf)
    values, diags = validate_args(loaded.program, args)
    assert not diags
    bound = loaded.result.bound.evaluate(sizes(loaded.program, values))  # type: ignore[union-attr]
    fake = {} if mode == "schema" else {"fail_one_in": 3}
    report = run_host(tmp_path, js, fake, args)
    assert report["agents_started"] <= bound
    assert not (isinstance(report["result"], dict) and "error" in report["result"] and len(report["result"]) == 1)
    meta_phases = [p["title"] for p in report["meta"]["phases"]]
    named = {o.value.text for o in ast.walk([loaded.program.defaults, loaded.program.body])
             if isinstance(o, ast.Option) and o.name == "phase" and isinstance(o.value, ast.StrLit)}
    for call in report["calls"]:  # a phase block's title, or one a `phase=` option names
        assert call["label"] and call["phase"] in meta_phases + [None] + sorted(named)
    entered = list(dict.fromkeys(report["phases"]))
    early_exit = any(isinstance(n, (ast.Return, ast.Fail)) and n not in loaded.program.body
                     for n in ast.walk(loaded.program.body))
    if all(ph in loaded.program.body for ph in loaded.program.phases()) and not early_exit:
        assert entered == meta_phases, "meta.phases: exactly the phases entered"
    else:  # a phase in an `if`, or after an early exit, is entered only when the run gets there: in order, a subsequence
        assert set(entered) <= set(meta_phases) and entered == [p for p in meta_phases if p in entered]
    if mode == "schema":  # every schema-shaped answer passes, so the worst case is reached where it can be
        assert report["agents_started"] > 0


# ---------------------------------------------------------------------------- semantics, by hand


def labels(report: dict[str, Any]) -> list[str]:
    return sorted(c["label"] for c in report["calls"])


@needs_node
def test_review_tallies_abstentions_and_dropped(tmp_path: Path) -> None:
    js = compile_source("""workflow r:
    description: "d"
type V:
    refuted: bool
    why: str
phase "Check":
    kept, dropped = review x in ["a", "b", "c"] by 3 keep if 2:
        agent "judge {x}" -> V
        accept when not refuted
return {kept: kept, dropped: dropped}
""")
    ok = {"refuted": False, "why": "fine"}
    bad = {"refuted": True, "why": "wrong"}
    fake = {"rules": [
        {"label": "kept · x 1 · reviewer 1", "fail": "down"}, {"label": "kept · x 1 · *", "reply": ok},  # a: 2 accept, 1 abstains
        {"label": "kept · x 2 · reviewer 1", "reply": ok}, {"label": "kept · x 2 · *", "fail": "down"},  # b: 1 accept, 2 abstain
        {"label": "kept · x 3 · reviewer 1", "reply": ok}, {"label": "kept · x 3 · *", "reply": bad},  # c: 1 accept, 2 reject
    ]}
    report = run_host(tmp_path, js, fake)
    assert labels(report) == [f"kept · x {i} · reviewer {k}" for i in (1, 2, 3) for k in (1, 2, 3)]
    assert report["result"]["kept"] == ["a"]
    assert report["result"]["dropped"] == [
        {"item": "b", "status": "undecided", "accepts": 1, "rejects": 0, "abstained": 2, "verdicts": [ok, None, None]},
        {"item": "c", "status": "rejected", "accepts": 1, "rejects": 2, "abstained": 0, "verdicts": [ok, bad, bad]},
    ]
    assert report["logs"] == ["review (line 7): 1 kept, 1 rejected, 1 undecided of 3"]


@needs_node
def test_vote_ties_quorum_and_copy_labels(tmp_path: Path) -> None:
    js = compile_source("""workflow v:
    description: "d"
a = vote 4:
    agent "pick" with label="voter"
b = vote 3 quorum 2:
    agent "other"
return {a: a, b: b}
""")
    fake = {"rules": [
        {"label": "voter · voter 1", "reply": "x"}, {"label": "voter · voter 2", "reply": "y"},
        {"label": "voter · voter 3", "reply": "y"}, {"label": "voter · voter 4", "reply": "x"},
        {"label": "b · voter 1", "reply": "p"}, {"label": "b · voter 2", "reply": "q"},
        {"label": "b · voter 3", "fail": "down"},
    ]}
    report = run_host(tmp_path, js, fake)
    assert report["result"] == {"a": "x", "b": None}  # a tie goes to the group voter 1 started
    assert labels(report) == ["b · voter 1", "b · voter 2", "b · voter 3", "voter · voter 1", "voter · voter 2",
                              "voter · voter 3", "voter · voter 4"]
    assert report["logs"] == ["vote (line 5): 1 of 3 voters failed", "vote (line 5): no answer reached the quorum of 2"]


@needs_node
def test_tournament_bracket_bye_and_failed_judge(tmp_path: Path) -> None:
    js = compile_source("""workflow t:
    description: "d"
type P:
    second: bool
w = tournament a vs b in ["p1", "p2", "p3", "p4", "p5"]:
    agent "{a} or {b}?" -> P
    pick b when second
return w
""")
    # round 1: (p1,p2) m1 b wins, (p3,p4) m2 judge fails -> p3, p5 bye; round 2: (p2,p3) m3 b wins; final (p3,p5) m4 a
    fake = {"rules": [
        {"label": "w · match 1", "reply": {"second": True}}, {"label": "w · match 2", "fail": "down"},
        {"label": "w · match 3", "reply": {"second": True}}, {"label": "w · match 4", "reply": {"second": False}},
    ]}
    report = run_host(tmp_path, js, fake)
    assert [c["prompt"] for c in report["calls"]] == ["p1 or p2?", "p3 or p4?", "p2 or p3?", "p3 or p5?"]
    assert report["result"] == "p3"
    assert report["logs"] == ["tournament (line 5): 1 of 4 judges failed (their first contestant advanced)"]


@needs_node
def test_fix_attempt_labels_and_stall(tmp_path: Path) -> None:
    js = compile_source("""workflow f:
    description: "d"
phase "Fix":
    out = fix max 5 stall 2:
        agent "fix it"
    until check "test it"
return out
""")
    report = run_host(tmp_path, js, {"rules": [{"label": "out · check *",
                                                "reply": {"passed": False, "details": "1 failing"}}]})
    # checks 0, 1, 2 are equal: stall 2 stops after attempt 2
    assert [c["label"] for c in report["calls"]] == ["out · check 0", "out · attempt 1", "out · check 1",
                                                     "out · attempt 2", "out · check 2"]
    assert report["result"] == {"passed": False, "attempts": 2, "last": {"passed": False, "details": "1 failing"}}


@needs_node
def test_fanout_steps_none_ends_the_item(tmp_path: Path) -> None:
    js = compile_source("""workflow p:
    description: "d"
input xs: list[str] max 5
phase "Go":
    out = fanout x in xs:
        stop when x == "skip"
        a = agent "first {x}"
        b = agent "second {a}"
        {x: x, b: b}
return out
""")
    fake = {"rules": [{"prompt": "^first bad$", "fail": "down"}, {"prompt": "^first", "reply": "A"},
                      {"prompt": "^second", "reply": "B"}]}
    report = run_host(tmp_path, js, fake, {"xs": ["ok", "bad", "skip", "ok2"]})
    assert "await runPipeline(" in js
    assert sorted(c["prompt"] for c in report["calls"]) == ["first bad", "first ok", "first ok2", "second A", "second A"]
    assert report["result"] == [{"x": "ok", "b": "B"}, {"x": "ok2", "b": "B"}]
    assert report["logs"] == ['fanout x in xs (line 5): 1 of 4 items skipped (stop when x == "skip")',
                              "fanout x in xs (line 5): 1 of 4 items failed"]  # a skipped item is no failure
    assert labels(report) == ["a · x 1", "a · x 2", "a · x 4", "b · x 1", "b · x 4"]


@needs_node
def test_list_results_are_cut_to_their_max_with_a_log_line(tmp_path: Path) -> None:
    js = compile_source("""workflow c:
    description: "d"
xs = agent "list" -> list[int] max 2 with label="lister"
return xs
""")
    assert "maxItems: 2" in js
    # the host validates against maxItems, so a long answer fails there; drive the cut by hand instead
    report = run_host(tmp_path, js.replace("maxItems: 2", "maxItems: 9"), {"rules": [{"reply": [1, 2, 3, 4]}]})
    assert report["result"] == [1, 2]
    assert report["logs"] == ["lister: kept 2 of 4 items (declared max 2)"]


@needs_node
@pytest.mark.parametrize("args, expected", [
    (None, "missing argument `files`"),
    ({"files": "a.py"}, "args.files: expected a list, got a string"),
    ({"files": ["a"] * 4}, "args.files: 4 items, the workflow declares max 3"),
    ({"files": [], "level": 9}, "args.level: 9 is more than the declared max 5"),
    ({"files": [], "level": 1.5}, "args.level: expected a whole number, got 1.5"),
    ({"files": [], "mode": "slow"}, 'args.mode: expected one of "fast", "deep", got "slow"'),
    ({"files": [], "extra": 1}, "unknown argument `extra`"),
    ('["a", "b"]', "arguments must be an object, not a list"),
])
def test_bad_arguments_stop_before_any_agent(args: Any, expected: str, tmp_path: Path) -> None:
    js = compile_source("""workflow a:
    description: "d"
input files: list[str] max 3
input level: int max 5 = 1
input mode: "fast" | "deep" = "fast"
out = agent "go {files} {level} {mode}"
return out
""")
    report = run_host(tmp_path, js, {}, args, may_fail=True)
    assert report["agents_started"] == 0
    # the run fails (a throw), with the words `wf run` uses
    assert report["error"].startswith("Error: the arguments do not fit the workflow's inputs: ")
    assert expected in report["error"]


@needs_node
@pytest.mark.parametrize("args", [{"files": ["a"]}, '{"files": ["a"]}', '  {"files": ["a"], "mode": null}'])
def test_arguments_as_object_json_text_and_defaults(args: Any, tmp_path: Path) -> None:
    js = compile_source("""workflow a:
    description: "d"
input files: list[str] max 3
input mode: "fast" | "deep" = "deep"
out = agent "go {files} {mode}"
return out
""")
    report = run_host(tmp_path, js, {}, args)
    assert [c["prompt"] for c in report["calls"]] == ['go [\n  "a"\n] deep']


@needs_node
@pytest.mark.parametrize("args", [["x.py", "y.py"], '["x.py", "y.py"]', {"files": ["x.py", "y.py"]}])
def test_one_input_takes_its_bare_value(args: Any, tmp_path: Path) -> None:
    js = compile_source("""workflow a:
    description: "d"
    when: "when needed"
input files: list[str] max 3
out = fanout f in files:
    agent "read {f}"
return out
""")
    assert "whenToUse: 'when needed'" in js
    report = run_host(tmp_path, js, {}, args)
    assert sorted(c["prompt"] for c in report["calls"]) == ["read x.py", "read y.py"]


@needs_node
def test_wf_names_that_are_js_words_or_helpers(tmp_path: Path) -> None:
    js = compile_source("""workflow n:
    description: "d"
input text: str = "t"
phase "P":
    new = agent "one {text}"
    A = [new]
    delete = fanout i in A:
        notFailed = agent "two {i}"
        callAgent = agent "three {notFailed}"
        callAgent
    let = repeat max 2 as round:
        round
return {text: text, new: new, delete: delete, let: let}
""")
    assert "let new_ = " in js or "const new_ = " in js
    report = run_host(tmp_path, js, {"rules": [{"prompt": "^one", "reply": "N"}, {"reply": "R"}]})
    assert report["result"] == {"text": "t", "new": "N", "delete": ["R"], "let": 2}


NO_SHORT_CIRCUIT = r"""
const fs = require('fs'), vm = require('vm')
const text = fs.readFileSync(process.argv[1], 'utf8')
const body = 'const meta =' + text.slice('export const meta ='.length)
const logs = []
const ctx = vm.createContext({
  // a failed first step; a pipeline that runs later stages with prev = null (UCX, opencode)
  agent: async (prompt) => { if (prompt.startsWith('first')) throw new Error('down'); return 'ok' },
  parallel: async (thunks) => Promise.all(thunks.map((t) => Promise.resolve().then(t).catch(() => null))),
  pipeline: async (items, ...stages) => Promise.all(items.map(async (item, i) => {
    let carry = item
    for (const stage of stages) {
      try { carry = await stage(carry, item, i) } catch (e) { logs.push(String(e)); return null }
    }
    return carry
  })),
  phase: () => {}, log: (m) => logs.push(m), args: { xs: ['a', 'b'] }, budget: { total: null },
})
vm.runInContext("(async function(){'use strict';\n" + body + "\n})()", ctx)
  .then((result) => console.log(JSON.stringify({ result, logs })))
"""


@needs_node
def test_pipeline_stages_after_the_first_are_null_safe(tmp_path: Path) -> None:
    """js-target.md §10.8: on hosts whose pipeline runs later stages with prev = null, a
    failed step still just ends its item (no TypeError from reading a null prev)."""
    js = compile_source("""workflow p:
    description: "d"
input xs: list[str] max 3
out = fanout x in xs:
    a = agent "first {x}"
    b = agent "second {a}"
    b
return out
""")
    assert "await pipeline(" in js
    f = tmp_path / "s.js"
    f.write_text(js, encoding="utf-8")
    proc = subprocess.run([str(NODE), "-e", NO_SHORT_CIRCUIT, str(f)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"result": [], "logs": ["fanout x in xs (line 4): 2 of 2 items failed"]}


# ---------------------------------------------------------------------------- the helpers vs values.py

HELPER_HARNESS = r"""
const fs = require('fs'), vm = require('vm')
const input = JSON.parse(fs.readFileSync(0, 'utf8'))
const ctx = vm.createContext({ log: () => {}, budget: { total: null } })
vm.runInContext(input.prelude + '\n;globalThis.__h = { text, truthy, equal, canonical, compare, len, int, strip,' +
  ' lower, upper, itemAt, sliceOf, plus, minus, times, divide, modulo, flatten, join, sum, any, all, keys,' +
  ' sort, top, unique, min, max, ranked, rankedTuple, contains, merge, take, chunks, json, fitAnswer, range }', ctx)
const h = ctx.__h
const key = (path) => (path === null ? null : (v) => v?.[path] ?? null)
const out = input.cases.map(([fn, args, opt]) => {
  try {
    if (fn === 'sort' || fn === 'top' || fn === 'min' || fn === 'max') {
      const cmp = opt.orders ? (opt.compound ? h.rankedTuple(opt.orders) : h.ranked(opt.orders[0])) : h.compare
      const by = opt.compound ? (v) => [v?.[0] ?? null, v?.[1] ?? null] : key(opt.path)
      if (fn === 'sort') return h.sort(args[0], by, cmp, opt.reverse)
      if (fn === 'top') return h.top('top', args[0], args[1], by, cmp)
      return h[fn](args[0], by, cmp)
    }
    if (fn === 'unique') return h.unique(args[0], key(opt.path))
    if (fn === 'take') return h.take('take', ...args)
    const v = h[fn](...args)
    return v === undefined ? '<undefined>' : v
  } catch (e) { return '<error ' + e + '>' }
})
process.stdout.write(JSON.stringify(out))
"""

# No digit-only keys (JS objects put them first, whatever the insertion order) and no lone
# surrogates (covered by test_strings_roundtrip; JSON text differs there, see the report).
_key = st.text(st.characters(exclude_categories=("Cs",)), max_size=4).filter(lambda k: not k.isdigit())
_scalar = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=False, allow_infinity=False, width=64)
           | st.text(st.characters(exclude_categories=("Cs",)), max_size=6))
values = st.recursive(_scalar, lambda c: st.lists(c, max_size=4) | st.dictionaries(_key, c, max_size=3),
                      max_leaves=8)
strings = st.text(st.sampled_from("ab \t\n\u00e9\U0001f600\u2028x1-+"), max_size=6)
numbers = st.integers(-20, 20) | st.floats(-50, 50, allow_nan=False).map(lambda f: round(f, 2))
ORDER = ["low", "mid", "high"]
ranks = st.sampled_from(ORDER + ["zzz", "aaa"]) | st.none()


@st.composite
def helper_cases(draw: st.DrawFn) -> list[tuple[str, list[Any], dict[str, Any], Any]]:
    """(fn, args, options, the Python result) for a batch of helper calls."""
    cases: list[tuple[str, list[Any], dict[str, Any], Any]] = []

    def add(fn: str, args: list[Any], expected: Any, **opt: Any) -> None:
        cases.append((fn, args, opt, expected))

    for _ in range(6):
        a, b = draw(values), draw(values)
        add("text", [a], V.text(a))
        add("truthy", [a], V.truthy(a))
        add("equal", [a, b], V.equal(a, b))
        add("equal", [a, a], True)
        add("canonical", [a], V.canonical(a))
        add("compare", [a, b], V.compare(a, b))
        add("len", [a], BUILTIN["len"](a) if isinstance(a, (list, str, dict)) or a is None else 0)
        add("json", [a], BUILTIN["json"](a))
    xs = draw(st.lists(values, max_size=6))
    add("sort", [xs], BUILTIN["sort"](xs), path=None, reverse=False)
    add("sort", [xs], BUILTIN["sort"](xs, reverse=True), path=None, reverse=True)
    add("unique", [xs], BUILTIN["unique"](xs), path=None)
    add("min", [xs], BUILTIN["min"](xs), path=None)
    add("max", [xs], BUILTIN["max"](xs), path=None)
    recs = [{"r": draw(ranks), "n": draw(st.integers(0, 3))} for _ in range(draw(st.integers(0, 7)))]

    def field_r(v: Any) -> Any:
        return V.field(v, "r")

    orders = [ORDER]
    add("sort", [recs], BUILTIN["sort"](recs, by=field_r, orders=orders), path="r", orders=orders, reverse=False)
    add("top", [recs, 3], BUILTIN["top"](recs, 3, by=field_r, orders=orders), path="r", orders=orders)
    add("max", [recs], BUILTIN["max"](recs, by=field_r, orders=orders), path="r", orders=orders)
    pairs = [[draw(ranks), draw(st.integers(0, 2))] for _ in range(draw(st.integers(0, 7)))]

    def pair_key(v: Any) -> Any:
        return [V.index(v, 0), V.index(v, 1)]

    both = [ORDER, None]
    rev = draw(st.booleans())
    add("sort", [pairs], BUILTIN["sort"](pairs, by=pair_key, orders=both, compound=True, reverse=rev),
        compound=True, orders=both, reverse=rev)
    add("unique", [recs], BUILTIN["unique"](recs, by=field_r), path="r")
    for _ in range(4):
        s = draw(strings)
        add("int", [s], BUILTIN["int"](s))
        add("strip", [s], BUILTIN["strip"](s))
        add("lower", [s], BUILTIN["lower"](s))
        add("upper", [s], BUILTIN["upper"](s))
        i, j = draw(st.integers(-8, 8) | st.none()), draw(st.integers(-8, 8) | st.none())
        add("sliceOf", [s, i, j], V.slice_(s, i, j))
        if i is not None:
            add("itemAt", [s, i], V.index(s, i))
            add("itemAt", [xs, i], V.index(xs, i))
        add("contains", [s, "a"], V.contains(s, "a"))
        x, y = draw(numbers), draw(numbers | st.none())
        add("int", [x], BUILTIN["int"](x))
        for fn, op in (("plus", "+"), ("minus", "-"), ("times", "*"), ("divide", "/"), ("modulo", "%")):
            add(fn, [x, y], V.arith(op, x, y))
    add("flatten", [[xs, None, 1, [xs]]], BUILTIN["flatten"]([xs, None, 1, [xs]]))
    add("join", [xs, ", "], BUILTIN["join"](xs, ", "))
    add("contains", [xs, xs[0] if xs else None], V.contains(xs, xs[0] if xs else None))
    nums = draw(st.lists(numbers | st.none(), max_size=5))
    add("sum", [nums], BUILTIN["sum"](nums))
    add("any", [xs], BUILTIN["any"](xs))
    add("all", [xs], BUILTIN["all"](xs))
    add("take", [xs, 2], BUILTIN["take"](xs, 2))
    add("chunks", [xs, 2], BUILTIN["chunks"](xs, 2))
    d1, d2 = draw(st.dictionaries(_key, values, max_size=3)), draw(st.dictionaries(_key, values, max_size=3))
    add("merge", [d1, d2], V.merge(d1, d2))
    add("keys", [d1], BUILTIN["keys"](d1))
    lo, hi = draw(numbers | st.none()), draw(numbers | st.none())
    add("range", [lo, hi], BUILTIN["range"](lo, hi))
    for schema in FIT_SCHEMAS:  # an answer fitted to its schema (runtime/fit.py, fitAnswer)
        for v in (draw(values), draw(almost(schema))):
            fitted = fit(v, schema)
            add("fitAnswer", [v, schema], "<undefined>" if fitted is NOT_FIT else fitted)
    return cases


_RECORD = {"type": "object", "required": ["a", "b", "c"], "additionalProperties": False, "properties": {
    "a": {"type": "integer"}, "b": {"anyOf": [{"type": "string", "enum": ["x", "y"]}, {"type": "null"}]},
    "c": {"type": "array", "maxItems": 2, "items": {"type": "object", "required": ["n"], "properties": {
        "n": {"type": "number"}}, "additionalProperties": False}}}}
FIT_SCHEMAS = [_RECORD, {"type": "array", "maxItems": 3, "items": {"type": "boolean"}}, {"type": "string"}]


@st.composite
def almost(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A value that nearly fits `schema`: extra keys, long lists, wrong leaves now and then."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    if "anyOf" in schema:
        return draw(almost(draw(st.sampled_from(schema["anyOf"]))))
    kind = schema.get("type")
    if kind == "object":
        out = {k: draw(almost(sub)) for k, sub in schema["properties"].items() if draw(st.integers(0, 9))}
        out.update(draw(st.dictionaries(_key | st.sampled_from(["__proto__", "constructor"]), values, max_size=3)))
        return out
    if kind == "array":
        return [draw(almost(schema["items"])) for _ in range(draw(st.integers(0, 5)))]
    return {"integer": draw(st.integers(-5, 5) | st.floats(-3, 3, allow_nan=False)), "number": draw(numbers),
            "boolean": draw(st.booleans()), "null": None,
            "string": draw(st.sampled_from(schema.get("enum", ["s", ""])))}[kind]


def _same(a: Any, b: Any) -> bool:
    """JSON equality where 1 and 1.0 are the same number (JS has one number type)."""
    def norm(v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v) + 0.0  # by value; -0 prints as 0 in JS
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(a), sort_keys=True) == json.dumps(norm(b), sort_keys=True)


@needs_node
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(helper_cases(), min_size=4, max_size=4))
def test_js_helpers_agree_with_the_python_values_module(batches: list[list[Any]]) -> None:
    cases = [c for batch in batches for c in batch]
    payload = json.dumps({"prelude": PRELUDE.read_text(), "cases": [[fn, args, opt] for fn, args, opt, _ in cases]})
    proc = subprocess.run([str(NODE), "-e", HELPER_HARNESS], input=payload, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for (fn, args, opt, expected), got in zip(cases, json.loads(proc.stdout), strict=True):
        if fn == "compare":
            got, expected = (got > 0) - (got < 0), (expected > 0) - (expected < 0)
        assert _same(got, expected), f"{fn}({args}, {opt}): JS {got!r}, Python {expected!r}"


# ---------------------------------------------------------------------------- wf compile


PR_REVIEW = ROOT / "examples" / "pr-review" / "pr-review.wf"


def _run_compile(*, file: str = str(PR_REVIEW), out: str | None = None, install: bool = False,
                 force: bool = False) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    rc = compile_command(file, out, install, force, stdout, stderr)
    return rc, stdout.getvalue(), stderr.getvalue()


def test_compile_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    rc, out, _ = _run_compile()
    assert rc == 0 and out.startswith("export const meta = {")
    rc, out2, err = _run_compile(out=str(tmp_path / "x.js"))
    assert rc == 0 and out2 == "" and "at most 387 agents" in err
    assert (tmp_path / "x.js").read_text() == out


def test_compile_errors_write_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wf"
    bad.write_text('workflow bad:\n    description: "x"\n\nreturn fils\n')
    rc, out, err = _run_compile(file=str(bad), out=str(tmp_path / "bad.js"))
    assert rc == 1 and out == "" and not (tmp_path / "bad.js").exists()
    assert "error[WF201]" in err and "bad.wf:4:8" in err and "nothing written" in err
    rc, _, err = _run_compile(file=str(tmp_path / "missing.wf"))
    assert rc == 2 and "no such file" in err


def test_compile_usage_errors() -> None:
    assert _run_compile(out="x.js", install=True)[0] == 2
    assert _run_compile(force=True)[0] == 2


def test_install_refuses_to_overwrite_a_different_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / ".claude" / "workflows" / "pr-review.js"
    rc, _, err = _run_compile(install=True)
    assert rc == 0 and target.exists() and "/pr-review" in err
    first = target.read_text()
    assert _run_compile(install=True)[0] == 0  # the same script: nothing to do
    target.write_text("// edited by hand\n")
    rc, _, err = _run_compile(install=True)
    assert rc == 1 and "--force" in err and target.read_text() == "// edited by hand\n"
    rc, _, _ = _run_compile(install=True, force=True)
    assert rc == 0 and target.read_text() == first
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_what_the_emitter_refuses_is_a_located_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text('workflow child:\n    description: "c"\n\nx = budget\nreturn x\n')
    (tmp_path / "parent.wf").write_text('workflow parent:\n    description: "p"\n\nr = run "child.wf"\nreturn r\n')
    rc, out, err = _run_compile(file=str(tmp_path / "parent.wf"))
    assert rc == 1 and out == ""
    # the checker refuses these before the emitter sees them, located in the parent's `run`
    assert "error[WF222]" in err and "`budget` alone is not a value" in err and "parent.wf:4:5" in err
    (tmp_path / "big.wf").write_text('workflow big:\n    description: "b"\n\nreturn 1e999\n')
    rc, _, err = _run_compile(file=str(tmp_path / "big.wf"))
    assert rc == 1 and "error[WF213]" in err and "big.wf:4:8" in err


def test_a_file_that_is_not_utf8_is_an_error_not_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin.wf"
    bad.write_bytes(b'workflow latin:\n    description: "caf\xe9"\n')
    rc, out, err = _run_compile(file=str(bad))
    assert rc == 1 and out == "" and "WF002" in err  # as `wf check` and `wf graph` (docs/cli.md)
