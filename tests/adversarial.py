"""The adversarial soundness suite: random programs × hostile arguments × hostile answers
× failure patterns, run in the Python runtime and under the node host.

For one program (`tests/strategies.py`) it builds `Case`s: an argument object (the
generator's own, every list at its maximum, empty lists, ints at their extremes and
beyond, huge strings, undeclared fields and names, wrong types) and a fake-answer file
(schema-shaped answers; per-agent replies with extra properties, over-long lists,
negative and huge numbers, wrong types, nulls, missing fields; validating like a strict
host, or not, like a lenient one; failures by `fail_one_in` and by label). Each case runs
in both targets; `compare` lists every way the two disagree or a run goes past its bound:

- both refuse the arguments before any agent, with the same messages, or both run;
- both make the same multiset of agent calls and return the same result;
- neither starts more agents than `wf check` proves for those arguments, and neither's
  live guard fires (a guard trip is a bound that the checker got wrong).

Used by tests/test_adversarial.py (a fast slice in CI) and bench/bench_soundness.py
(10,000+ programs).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from wflang.dsl import ast
from wflang.dsl import values as V
from wflang.dsl.arguments import ARGS_PROBLEM, sizes, validate_args
from wflang.dsl.loader import Loaded, load
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import BoundExceeded, Limits, RunError, Scheduler
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
HUGE = 6000  # characters of a "huge" string: long enough to matter, small enough for 10k runs
EXTRA_KEYS = ["extra", "__proto__", "constructor", "7", "toString", "zz\u00e9"]


@dataclass
class Case:
    name: str
    args: Any
    fake: dict[str, Any]


@dataclass
class Outcome:
    """What one target did with one case."""

    refused: list[str] | None = None  # argument messages, when the arguments were refused
    error: str | None = None  # a run error (not a refusal)
    guard: str | None = None  # the live guard fired: a bound the checker got wrong
    calls: list[dict[str, Any]] = field(default_factory=list)
    value: Any = None
    started: int = 0


# ---------------------------------------------------------------- hostile arguments


def argument_cases(program: ast.Program, own: dict[str, Any], rng: random.Random) -> list[tuple[str, Any]]:
    records = {d.name: d for d in program.types}
    out: list[tuple[str, Any]] = [("own arguments", own)]
    out.append(("lists at their maxima, huge strings",
                {d.name: _value(d.type, records, rng, "max") for d in program.inputs}))
    out.append(("empty lists, ints at their minima",
                {d.name: _value(d.type, records, rng, "min") for d in program.inputs}))
    out.append(("full lists, ints at their minima",
                {d.name: _value(d.type, records, rng, "min" if _is_int(d.type) else "max") for d in program.inputs}))
    ints = [d for d in program.inputs if _is_int(d.type)]
    for d in ints:
        bad = rng.choice([-1, -30, -(2**53), -(10**18), 10**18, 2**64 + 1, 1e300, 2.5, "3", True])
        out.append((f"int {d.name} = {bad!r}", {**own, d.name: bad}))
    lists = [d for d in program.inputs if isinstance(d.type, ast.ListType)]
    if lists:
        d = rng.choice(lists)
        assert isinstance(d.type, ast.ListType) and isinstance(d.type.max, ast.IntLit)
        over = [_value(d.type.item, records, rng, "max") for _ in range(d.type.max.value + 1)]
        out.append((f"{d.name}: one item too many", {**own, d.name: over}))
        rec = _record_item(d.type, records)
        if rec is not None:
            item = {**_value(rec, records, rng, "max"), rng.choice(EXTRA_KEYS): 1}
            out.append((f"{d.name}: an item with an undeclared field", {**own, d.name: [item]}))
        out.append((f"{d.name}: a wrong item", {**own, d.name: [rng.choice([None, 5, [], {}])]}))
    out.append(("an undeclared argument", {**own, rng.choice(EXTRA_KEYS): "x"}))
    return out


def _is_int(t: ast.TypeExpr) -> bool:
    t = t.inner if isinstance(t, ast.OptionalType) else t
    return isinstance(t, ast.NamedType) and t.name == "int"


def _record_item(t: ast.ListType, records: dict[str, ast.TypeDecl]) -> ast.TypeExpr | None:
    item = t.item.inner if isinstance(t.item, ast.OptionalType) else t.item
    return item if isinstance(item, ast.NamedType) and item.name in records else None


def _value(t: ast.TypeExpr, records: dict[str, ast.TypeDecl], rng: random.Random, mode: str) -> Any:
    """A value that fits `t`: at its largest (`max`: lists full, ints at max, long strings)
    or smallest (`min`)."""
    if isinstance(t, ast.OptionalType):
        return None if mode == "min" else _value(t.inner, records, rng, mode)
    if isinstance(t, ast.UnionType):
        return t.options[-1] if mode == "max" else t.options[0]
    if isinstance(t, ast.ListType):
        n = t.max.value if isinstance(t.max, ast.IntLit) and mode == "max" else 0
        return [_value(t.item, records, rng, mode) for _ in range(n)]
    assert isinstance(t, ast.NamedType)
    if t.name == "int":
        lo = t.min.value if isinstance(t.min, ast.IntLit) else 0
        hi = t.max.value if isinstance(t.max, ast.IntLit) else lo + 1000
        return hi if mode == "max" else lo
    if t.name == "float":
        return 1e300 if mode == "max" else -0.5
    if t.name == "bool":
        return mode == "max"
    if t.name == "str":
        return _huge(rng) if mode == "max" else ""
    decl = records[t.name]
    return {f.name: _value(f.type, records, rng, mode) for f in decl.fields}


def _huge(rng: random.Random) -> str:
    unit = rng.choice(["a", "é", "\U0001f600", "`${x}`", "\\n", '"', "{braces}"])
    return (unit * (HUGE // len(unit) + 1))[:HUGE]


# ---------------------------------------------------------------- hostile answers


def answer_fakes(program: ast.Program, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Fake files: schema-shaped answers with failures, and per-agent hostile replies,
    validated (a strict host) and not (a lenient one)."""
    records = {d.name: d for d in program.types}
    sites = _agent_sites(program)
    out: list[tuple[str, dict[str, Any]]] = [
        ("schema-shaped, every third fails", {"default": "schema", "fail_one_in": 3}),
    ]
    for validate in (False, True):
        rules: list[dict[str, Any]] = []
        for globs, result in sites:
            roll = rng.random()
            for g in globs:
                if roll < 0.1:
                    rules.append({"label": g, "fail": "simulated outage"})
                elif roll < 0.85:
                    rules.append({"label": g, "reply": _hostile(result, records, rng)})
        fake: dict[str, Any] = {"rules": rules, "default": "schema", "validate": validate}
        if rng.random() < 0.3:
            fake["fail_one_in"] = rng.choice([2, 4, 5])
        out.append((f"hostile replies, {'validated' if validate else 'unvalidated'}", fake))
    return out


def _agent_sites(program: ast.Program) -> list[tuple[list[str], ast.TypeExpr | str | None]]:
    """Each agent with the label globs that match only its calls, and its result type
    ("check" for a check, None for text)."""
    out: list[tuple[list[str], ast.TypeExpr | str | None]] = []
    for phase, stmt in _statements(program):
        for n in ast.walk(stmt):
            if not isinstance(n, (ast.Agent, ast.Check)):
                continue
            options = {o.name: o.value for o in n.options}
            result: ast.TypeExpr | str | None = "check" if isinstance(n, ast.Check) else n.result
            label = options.get("label")
            if isinstance(label, ast.StrLit):
                glob = "".join(p if isinstance(p, str) else "*" for p in label.parts)
                out.append(([glob, glob + " #*"], result))
            else:
                where = phase if phase is not None else program.header.name
                out.append(([f"{where}:{n.span.line}", f"{where}:{n.span.line}.*"], result))
    return out


def _statements(program: ast.Program) -> list[tuple[str | None, ast.Stmt]]:
    out: list[tuple[str | None, ast.Stmt]] = []
    for s in program.body:
        if isinstance(s, ast.Phase):
            out.extend((s.title, x) for x in s.body)
        else:
            out.append((None, s))
    return out


def _hostile(t: ast.TypeExpr | str | None, records: dict[str, ast.TypeDecl], rng: random.Random,
             depth: int = 0) -> Any:
    """A reply for an agent of result type `t`: often almost right, sometimes wrong."""
    if t is None:
        return rng.choice(["ok", _huge(rng), "", "null"])
    if t == "check":
        fields = {"passed": rng.choice([True, False, None, "yes"]), "details": rng.choice(["d", 3])}
        return _extra(fields, rng) if rng.random() < 0.5 else fields
    assert isinstance(t, ast.TypeExpr)
    if isinstance(t, ast.OptionalType):
        return None if rng.random() < 0.3 else _hostile(t.inner, records, rng, depth)
    if rng.random() < 0.08:  # the wrong kind of value altogether
        return rng.choice([None, "text", 7, -1, [], {}, True])
    if isinstance(t, ast.UnionType):
        return rng.choice([*t.options, "not-an-option", ""])
    if isinstance(t, ast.ListType):
        n = t.max.value if isinstance(t.max, ast.IntLit) else 3
        k = rng.choice([0, n, n + 1, n + 7, 3 * n + 2])
        items = [_hostile(t.item, records, rng, depth + 1) for _ in range(k)]
        return {"items": items, "extra": 1} if depth == 0 and rng.random() < 0.2 else items
    assert isinstance(t, ast.NamedType)
    if t.name == "int":
        return rng.choice([0, 3, -1, -(2**31), 2**53 + 1, 10**18, 2.0, 2.5, "4", None])
    if t.name == "float":
        return rng.choice([0.5, -1e300, 3, "x"])
    if t.name == "bool":
        return rng.choice([True, False, 0, "true", None])
    if t.name == "str":
        return rng.choice(["s", "", _huge(rng), 12, None])
    decl = records[t.name]
    rec: dict[str, Any] = {}
    for f in decl.fields:
        if rng.random() < 0.05:
            continue  # a missing field
        rec[f.name] = _hostile(f.type, records, rng, depth + 1)
    if rng.random() < 0.5:
        rec = dict(reversed(list(rec.items())))  # declared order is not the answer's order
    return _extra(rec, rng) if rng.random() < 0.6 else rec


def _extra(rec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    for _ in range(rng.choice([1, 2, 40])):
        rec[rng.choice(EXTRA_KEYS) + str(rng.randrange(100))] = rng.choice([1, "x", None, [1, 2, 3]])
    return rec


# ---------------------------------------------------------------- running both targets


def python_outcome(loaded: Loaded, case: Case, work: Path) -> tuple[Outcome, int | None]:
    """(what the Python runtime did, the bound for the case's arguments when accepted)."""
    assert loaded.program is not None and loaded.result is not None and loaded.result.bound is not None
    values, diags = validate_args(loaded.program, case.args)
    if diags:
        return Outcome(refused=[d.message for d in diags]), None
    bound = loaded.result.bound.evaluate(sizes(loaded.program, values))
    backend = FakeBackend(case.fake)
    sched = Scheduler(backend, str(work), Limits(bound=bound))
    out = Outcome()
    try:
        out.value = trio.run(run_program, loaded.program, values, sched).value
    except BoundExceeded as exc:
        out.guard = str(exc)
    except RunError as exc:
        out.error = str(exc)
    out.calls = backend.calls
    out.started = len(backend.calls)
    return out, bound


def node_outcomes(jobs: list[dict[str, Any]], work: Path) -> list[Outcome]:
    """Run many (script, fake, args) jobs in one node process (host.mjs --batch)."""
    batch = work / "jobs.json"
    batch.write_text(json.dumps(jobs), encoding="utf-8")
    out_file = work / "reports.json"
    proc = subprocess.run(["node", str(HOST), "--batch", str(batch), "--out", str(out_file)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"host --batch failed: {proc.stderr[-2000:]}")
    outcomes = []
    for r in json.loads(out_file.read_text(encoding="utf-8")):
        o = Outcome(calls=r["calls"], value=r["result"], started=r["agents_started"])
        err = r["error"]
        if err is not None and err.startswith("Error: " + ARGS_PROBLEM):
            o.refused = [err[len("Error: " + ARGS_PROBLEM):]]
        elif err is not None and err.startswith("WflangBoundError"):
            o.guard = err
        elif err is not None:
            o.error = err
        outcomes.append(o)
    return outcomes


def _call_key(call: dict[str, Any]) -> str:
    return json.dumps([call.get("prompt"), call.get("schema"), call.get("model"), call.get("effort"),
                       call.get("agent_type"), call.get("label"), call.get("phase")], sort_keys=True)


def compare(py: Outcome, js: Outcome, bound: int | None) -> list[str]:
    """Every disagreement, and every run over its bound; [] when the case is sound."""
    problems: list[str] = []
    if py.guard or js.guard:
        problems.append(f"the live guard fired (a bound the checker got wrong): {py.guard or js.guard}")
    if py.refused is not None or js.refused is not None:
        if py.refused is None or js.refused is None:
            problems.append(f"only one target refused the arguments: python {py.refused}, js {js.refused}")
        else:
            # The JS adds the hint of these two to the message (wf run prints it after it too).
            joined = re.sub(r" \((this workflow's inputs are: [^)]*|pass \{[^}]*\})\)", "", js.refused[0])
            if not all(m in joined for m in py.refused) or \
                    len(joined) != sum(map(len, py.refused)) + 2 * (len(py.refused) - 1):
                problems.append(f"different argument messages: python {py.refused}, js {joined!r}")
        if js.started or py.started:
            problems.append("agents started despite refused arguments")
        return problems
    if (py.error is None) != (js.error is None):
        problems.append(f"only one target failed: python {py.error!r}, js {js.error!r}")
    assert bound is not None
    if py.started > bound or js.started > bound:
        problems.append(f"over the bound: python {py.started}, js {js.started}, bound {bound}")
    only_js = Counter(map(_call_key, js.calls)) - Counter(map(_call_key, py.calls))
    only_py = Counter(map(_call_key, py.calls)) - Counter(map(_call_key, js.calls))
    if only_js or only_py:
        problems.append(f"different agent calls: only in JS {list(only_js)[:2]}, only in Python {list(only_py)[:2]}")
    # canonical(): sorted keys, numbers as JavaScript writes them (2**53 is 9007199254740992)
    if py.error is None and V.canonical(py.value) != V.canonical(V.normalize(js.value)):
        problems.append(f"different results: python {str(py.value)[:300]}, js {str(js.value)[:300]}")
    return problems


@dataclass
class Tally:
    programs: int = 0
    runs: int = 0
    refused: int = 0
    agents: int = 0
    max_ratio: float = 0.0  # the most agents any run started, as a fraction of its bound
    failures: list[str] = field(default_factory=list)


def check_programs(generated: list[Any], work: Path, seed: int, tally: Tally, keep: int = 20,
                   per_program: int | None = None) -> None:
    """Every program × its cases (or `per_program` of them, drawn at random), both targets
    (node in one batch); results into `tally`."""
    pending: list[tuple[str, Case, Outcome, int | None]] = []
    jobs: list[dict[str, Any]] = []
    for k, p in enumerate(generated):
        rng = random.Random(f"{seed}:{k}")
        path = work / f"p{k}.wf"
        loaded = load(str(path), p.source)
        if not loaded.ok:
            tally.failures.append(f"a generated program does not check: {loaded.diagnostics[0].message}\n{p.source}")
            continue
        assert loaded.program is not None and loaded.result is not None
        script = work / f"p{k}.js"
        script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=path.name),
                          encoding="utf-8")
        tally.programs += 1
        args_cases = argument_cases(loaded.program, p.args, rng)
        fakes = answer_fakes(loaded.program, rng)
        # every argument case with one answer file, every answer file with the worst arguments
        cases = [Case(a, args, rng.choice(fakes)[1]) for a, args in args_cases]
        cases += [Case(f"{args_cases[1][0]} / {f}", args_cases[1][1], fake) for f, fake in fakes]
        if per_program is not None and len(cases) > per_program:
            cases = rng.sample(cases, per_program)
        for case in cases:
            py, bound = python_outcome(loaded, case, work)
            pending.append((p.source, case, py, bound))
            jobs.append({"script": str(script), "fake": case.fake, "args": case.args})
    for (source, case, py, bound), js in zip(pending, node_outcomes(jobs, work), strict=True):
        tally.runs += 1
        if py.refused is not None:
            tally.refused += 1
        else:
            tally.agents += py.started + js.started
            if bound:
                tally.max_ratio = max(tally.max_ratio, py.started / bound, js.started / bound)
        problems = compare(py, js, bound)
        if problems and len(tally.failures) < keep:
            tally.failures.append(f"case {case.name!r}: {'; '.join(problems)}\nargs: {json.dumps(case.args)[:500]}\n"
                                  f"fake: {json.dumps(case.fake)[:800]}\n{source}")
        elif problems:
            tally.failures.append(f"case {case.name!r}: {problems[0][:200]}")
