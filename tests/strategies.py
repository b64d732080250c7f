"""Hypothesis strategies for random well-formed `.wf` programs, with matching arguments.

`programs()` draws a `GeneratedProgram`: the source of a small workflow that always
passes `wf check` (inputs with maxima, record types, phases, fanout/for/review/vote/
tournament/repeat/fix/if, builtins on lists, interpolated prompts, agent results of
record/list/bool/str/union types), an argument object that fits its inputs, and the
worst-case agent count computed independently of the checker, construct by construct,
with the bound rules of docs/language.md.

The runtime and JS back ends use it for their differential test (same fake answers ⇒
same agent calls, never more than the bound), so programs stay small (worst case at most
`AGENT_LIMIT` agents), the output is a pure function of the draw, and `print(program)`
reads like a hand-written workflow:

    from hypothesis import given
    from tests.strategies import programs

    @given(programs())
    def test_something(p):
        loaded = load("gen.wf", p.source)
        ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

AGENT_LIMIT = 60  # the worst case of every generated program stays at or under this

# ---------------------------------------------------------------- the types the generator tracks


@dataclass(frozen=True)
class T:
    """A value type, with what the generator needs: a list's maximum, a record's name."""

    kind: str  # "str" | "int" | "bool" | "union" | "record" | "list"
    options: tuple[str, ...] = ()  # union
    record: str = ""  # record
    item: T | None = None  # list
    max: int = 0  # list
    fields: tuple[tuple[str, T], ...] = ()  # a record built in the program, not declared
    max_name: str = ""  # list: an int input written as its max (`list[str] max rounds`)

    def src(self) -> str:
        """How the type is written in a .wf file."""
        if self.kind == "union":
            return " | ".join(f'"{o}"' for o in self.options)
        if self.kind == "record":
            return self.record
        if self.kind == "list":
            assert self.item is not None
            return f"list[{self.item.src()}] max {self.max_name or self.max}"
        return self.kind


STR, INT, BOOL = T("str"), T("int"), T("bool")


def union(*options: str) -> T:
    return T("union", options=options)


def record(name: str) -> T:
    return T("record", record=name)


def list_of(item: T, n: int) -> T:
    return T("list", item=item, max=n)


def anonymous(**fields: T) -> T:
    return T("record", record="", fields=tuple(fields.items()))


def fields_of(t: T) -> dict[str, T]:
    return RECORDS[t.record] if t.record else dict(t.fields)


SEVERITY = union("low", "medium", "high")

CHECK = T("record", fields=(("passed", BOOL), ("details", STR)))

# Record types a program may declare; fields are what prompts, keys and conditions use.
RECORDS: dict[str, dict[str, T]] = {
    "Finding": {"file": STR, "line": INT, "severity": SEVERITY},
    "Verdict": {"refuted": BOOL, "why": STR},
    "Idea": {"title": STR, "score": INT},
    "Choice": {"winner": union("first", "second"), "reason": STR},
    "Summary": {"text": STR, "risky": BOOL, "tags": list_of(STR, 3)},
    "Task": {"name": STR, "priority": union("low", "high")},
}

# Words the grammar or the checker reserves: never used as a variable name.
RESERVED = {
    "agent", "check", "run", "fanout", "for", "review", "vote", "tournament", "repeat", "fix", "if", "elif",
    "else", "log", "return", "stop", "accept", "pick", "phase", "input", "type", "defaults", "budget",
    "workflow", "max", "keep", "by", "quorum", "as", "stall", "until", "with", "in", "vs", "lambda", "not",
    "and", "or", "true", "false", "none", "when", "answer", "all", "len", "flatten", "take", "top", "sort",
    "unique", "join", "lower", "upper", "strip", "min", "sum", "any", "json", "str", "int", "range",
    "chunks", "keys", "float", "bool", "list", "reply",
}


@dataclass
class GeneratedProgram:
    source: str
    args: dict[str, Any]  # fits the inputs; optional inputs are sometimes left out
    worst_case: int  # the agent bound at the inputs' maxima, computed by the generator
    phases: dict[str, int] = field(default_factory=dict)  # worst case per phase title

    def __str__(self) -> str:
        return self.source

    def args_json(self) -> str:
        return json.dumps(self.args, indent=2)


@dataclass
class _Stmt:
    """Generated lines (indented relative to their block), their worst-case agents, and
    the value the statement leaves (for a block's value)."""

    lines: list[str]
    cost: int
    value: T | None = None


@dataclass
class _Input:
    name: str
    type: T
    default: str | None  # source text of the default
    optional: bool = False


# ---------------------------------------------------------------- vocabulary

_LIST_INPUTS = [("files", "file"), ("topics", "topic"), ("claims", "claim"), ("modules", "module")]
_PHASES = ["Scan", "Find", "Verify", "Judge", "Explore", "Fix", "Report", "Plan", "Review"]
_NOUNS = {
    "Finding": "findings", "Verdict": "verdicts", "Idea": "ideas", "Choice": "choices",
    "Summary": "summaries", "Task": "tasks", "str": "notes", "bool": "checks", "union": "labels",
    "int": "counts",
}
_ASKS = {
    "Finding": "Find problems in {x} and report each with file and line.",
    "Verdict": "Try hard to refute this: {x}. Set refuted=true if unsure.",
    "Idea": "Suggest one improvement for {x}, with a score from 1 to 10.",
    "Choice": "Compare the two options in {x} and pick the better one.",
    "Summary": "Summarise {x} in two sentences and flag anything risky.",
    "str": "Describe {x} briefly.",
    "bool": "Is {x} ready to ship? Answer true or false.",
    "union": "Classify {x}.",
    "int": "How many problems does {x} have?",
}


# ---------------------------------------------------------------- the builder


class _Builder:
    """Draws one program. Every choice goes through `draw`, so the output is a function
    of the draw; every statement's cost is computed with the bound rules as it is made."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.used: set[str] = set(RESERVED)
        self.scope: dict[str, T] = {}  # top-level variables, usable by later statements
        self.inputs: list[_Input] = []
        self.int_inputs: dict[str, int] = {}  # name → declared max
        self.int_mins: dict[str, int] = {}  # name → declared min, when it declares one
        self.offsets: dict[str, tuple[int, int]] = {}  # int inputs that may be negative: (min, max)
        self.records: list[str] = []
        self.constants: list[str] = []
        self.lenses: tuple[str, T] | None = None

    # ---- small helpers

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self) -> bool:
        return self.draw(st.booleans())

    def fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}{n}", n + 1
        self.used.add(name)
        return name

    def use_record(self, name: str) -> T:
        if name not in self.records:
            self.records.append(name)
            for t in RECORDS[name].values():
                if t.kind == "record":
                    self.use_record(t.record)
        return record(name)

    def lists(self, scope: dict[str, T], at_most: int, min_max: int = 1) -> list[tuple[str, T]]:
        return [(n, t) for n, t in scope.items() if t.kind == "list" and min_max <= t.max <= at_most]

    def size(self, at_most: int) -> tuple[str, int]:
        """A count: a literal, or an int input whose max fits (the bound is then in its name)."""
        ints = [(n, m) for n, m in self.int_inputs.items() if 1 <= m <= at_most]
        if ints and self.chance():
            return self.pick(ints)
        n = self.draw(st.integers(1, max(1, min(at_most, 4))))
        return str(n), n

    # ---- declarations

    def declare_inputs(self) -> None:
        for name, _ in self.draw(st.lists(st.sampled_from(_LIST_INPUTS), min_size=1, max_size=2,
                                          unique=True)):
            item = STR
            if name == "modules" and self.chance():
                item = self.use_record("Task")
                name = "tasks"
            t = list_of(item, self.draw(st.integers(1, 5)))
            self.add_input(_Input(self.fresh(name), t, None))
        if self.chance():
            m = self.draw(st.integers(1, 3))
            name = self.fresh(self.pick(["rounds", "attempts", "voters"]))
            self.int_inputs[name] = m
            if self.draw(st.integers(0, 3)) == 0:
                self.int_mins[name] = self.draw(st.integers(0, 1))  # `int min 0|1 max m`: still a size
            self.add_input(_Input(name, INT, str(self.draw(st.integers(self.int_mins.get(name, 1), m)))))
        if self.draw(st.integers(0, 3)) == 0:
            # an int that may be negative: it can start a range, never size anything
            lo, hi = -self.draw(st.integers(1, 3)), self.draw(st.integers(0, 2))
            name = self.fresh("offset")
            self.offsets[name] = (lo, hi)
            self.add_input(_Input(name, INT, "0"))
        if self.draw(st.integers(0, 3)) == 0:
            self.add_input(_Input(self.fresh("settings"), self.use_record("Task"), None))
        if self.chance():
            self.add_input(_Input(self.fresh("focus"), STR, '"correctness"'))
        if self.chance():
            self.add_input(_Input(self.fresh("mode"), union("quick", "thorough"), '"quick"'))
        if self.chance():
            self.add_input(_Input(self.fresh("strict"), BOOL, "false"))

    def add_input(self, inp: _Input) -> None:
        self.inputs.append(inp)
        self.scope[inp.name] = inp.type

    def declare_constants(self) -> None:
        if self.chance():
            lenses = self.draw(st.lists(st.sampled_from(["security", "speed", "clarity", "tests"]),
                                        min_size=1, max_size=3, unique=True))
            name = self.fresh("LENSES")
            self.constants.append(f"{name} = [{', '.join(json.dumps(x) for x in lenses)}]")
            self.lenses = (name, list_of(STR, len(lenses)))
            self.scope[name] = list_of(STR, len(lenses))

    # ---- expressions

    def mention(self, scope: dict[str, T], local: list[str]) -> str:
        """An interpolation for a prompt: a local item first, else any variable."""
        names = local or [n for n in scope if not n.isupper()]
        if not names:
            return "the repository"
        name = self.pick(names)
        t = scope[name]
        if t.kind == "record" and self.chance():
            fld = self.pick(list(fields_of(t)))
            return f"{{{name}.{fld}}}"
        if t.kind == "list" and self.chance():
            return f"{{len({name})}} items of {{{name}}}"
        return f"{{{name}}}"

    def prompt(self, ask: str, scope: dict[str, T], local: list[str]) -> str:
        text = ask.replace("{x}", self.mention(scope, local))
        extra = [n for n in scope if scope[n] == STR and n in {i.name for i in self.inputs}]
        if extra and self.chance():
            text += f" Focus on {{{self.pick(extra)}}}."
        if self.draw(st.integers(0, 7)) == 0:
            lines = [text, "Keep it short; {{braces}} are literal here."]
            return '"""\n' + "\n".join(lines) + '\n"""'
        return f'"{text}"'  # the vocabulary has no quotes or backslashes to escape

    def result_type(self, allow_lists: bool = True) -> T | None:
        """An agent's declared result: None (text), bool, a union, a record, or a list of either."""
        kind = self.pick(["text", "bool", "union", "record", "record", "list"] if allow_lists
                         else ["text", "bool", "union", "record"])
        if kind == "text":
            return None
        if kind == "bool":
            return BOOL
        if kind == "union":
            return union("keep", "drop", "unsure")
        if kind == "record":
            return self.use_record(self.pick(["Finding", "Verdict", "Idea", "Summary"]))
        item = self.pick([STR, self.use_record("Finding"), self.use_record("Idea")])
        sized = [(n, m) for n, m in self.int_inputs.items() if m <= 4]
        if sized and self.draw(st.integers(0, 2)) == 0:
            name, m = self.pick(sized)
            return T("list", item=item, max=m, max_name=name)  # `-> list[T] max rounds`
        return list_of(item, self.draw(st.integers(1, 4)))

    def agent(self, result: T | None, scope: dict[str, T], local: list[str], label: str | None = None,
              ask: str | None = None) -> list[str]:
        """`agent "..." [-> T] [with ...]`, the type and options sometimes on continuation lines."""
        prompt = self.prompt(ask or _ASKS[_ask_key(result)], scope, local)
        options = []
        if label is not None and self.chance():
            options.append(f'label="{label}"')
        if self.draw(st.integers(0, 3)) == 0:
            options.append(self.pick(['model="haiku"', 'effort="low"', "max_output_tokens=2000"]))
        arrow = f"-> {result.src()}" if result is not None else ""
        with_ = f"with {', '.join(options)}" if options else ""
        if prompt.startswith('"""'):
            text = prompt[3:-3].strip("\n").split("\n")
            lines = ['agent """', *("    " + t for t in text), '    """' + (f" {arrow}" if arrow else "")]
            return lines + ([f"    {with_}"] if with_ else [])
        if self.chance():
            return [" ".join(x for x in (f"agent {prompt}", arrow, with_) if x)]
        return [f"agent {prompt}"] + [f"    {x}" for x in (arrow, with_) if x]

    # ---- statements of a phase

    def phase_statement(self, budget: int) -> tuple[_Stmt, str | None]:
        """One top-level statement of a phase, costing at most `budget` agents."""
        # Weighted by repetition: fan-outs and reviews are most of real workflows.
        makers = [self.data_step, self.data_step]
        if budget >= 1:
            makers += [self.single_agent, self.check_stmt]
        if budget >= 1 and self.lists(self.scope, budget):
            makers += [self.fanout] * 4 + [self.review] * 2 + [self.tournament]
        if budget >= 1 and self.derived_iterables(budget):
            makers += [self.derived_fanout] * 2
        if budget >= 2:
            makers += [self.vote, self.repeat, self.if_stmt]
        if budget >= 3:
            makers += [self.fix]
        return self.pick(makers)(budget)

    def single_agent(self, budget: int) -> tuple[_Stmt, str | None]:
        result = self.result_type()
        kind = result.kind if result is not None else "text"
        name = self.fresh(_NOUNS[result.record] if result is not None and result.kind == "record"
                          else {"list": "items", "text": "summary", "bool": "ready", "union": "label"}[kind])
        lines = self.agent(result, self.scope, [])
        lines[0] = f"{name} = {lines[0]}"
        return _Stmt(lines, 1, result or STR), name

    def check_stmt(self, budget: int) -> tuple[_Stmt, str | None]:
        name = self.fresh("status")
        lines = [f'{name} = check "Run the test suite and report whether every test passed."']
        return _Stmt(lines, 1, CHECK), name

    def data_step(self, budget: int) -> tuple[_Stmt, str | None]:
        """A pure step over a list in scope: no agents, a derived maximum."""
        made = self.draw(st.integers(0, 5))
        if made == 0:
            recs = [(n, t) for n, t in self.scope.items() if t.kind == "record" and fields_of(t)]
            if recs:  # the field names of a record: an input's, an answer's or a built one
                src, t = self.pick(recs)
                return self.assign(self.fresh("fields_of_" + src), f"keys({src})", list_of(STR, len(fields_of(t))))
        if made == 1:
            k = self.draw(st.integers(1, 3))
            if self.offsets and self.chance():  # range(offset, k) has k − offset items, up to k − min
                name = self.pick(list(self.offsets))
                return self.assign(self.fresh("steps"), f"range({name}, {k})",
                                   list_of(INT, k - self.offsets[name][0]))
            text, n = self.size(3)
            start = self.pick(["", "0, ", "1, ", "max(-2, 0), "])
            # range(1, n) has n − 1 items, none when n ≤ 1, whether n is a literal or an input
            size = n if start != "1, " else max(n - 1, 0)
            return self.assign(self.fresh("steps"), f"range({start}{text})", list_of(INT, size))
        options = self.lists(self.scope, 10_000)
        if not options:
            name = self.fresh("started")
            return _Stmt(['log "starting"', f"{name} = true"], 0, BOOL), name
        src, t = self.pick(options)
        item = t.item
        assert item is not None
        steps = ["take", "sort", "unique", "comprehension", "plus", "chunks", "len"]
        if item.kind == "list":
            steps += ["flatten", "flatten", "flatten"]
        if item.kind == "record" and any(f.kind == "union" for f in fields_of(item).values()):
            steps += ["top", "top"]
        step = self.pick(steps)
        if step == "flatten":
            return self.assign(self.fresh("all_" + src), f"flatten({src})",
                               list_of(item.item, t.max * item.max))  # type: ignore[arg-type]
        if step in ("take", "top"):
            text, n = self.size(6)
            if step == "top":
                key = next(f for f, ft in fields_of(item).items() if ft.kind == "union")
                expr = f"top({src}, {text}, by=.{key})"
            else:
                expr = f"take({src}, {text})"
            return self.assign(self.fresh(step + "_" + src), expr, list_of(item, min(t.max, n)))
        if step == "sort":
            if item.kind == "record":
                key = self.pick(list(fields_of(item)))
                by = self.pick([f"by=.{key}", f"by=lambda x: x.{key}"])
                return self.assign(self.fresh("sorted_" + src), f"sort({src}, {by}, reverse=true)", t)
            return self.assign(self.fresh("sorted_" + src), f"sort({src})", t)
        if step == "unique":
            by = f", by=.{self.pick(list(fields_of(item)))}" if item.kind == "record" else ""
            return self.assign(self.fresh("unique_" + src), f"unique({src}{by})", t)
        if step == "comprehension":
            if item.kind == "record":
                fld, ft = self.pick(list(fields_of(item).items()))
                cond = ""
                if ft == INT:
                    cond = f" if x.{fld} > 2"
                elif ft == BOOL:
                    cond = f" if not x.{fld}"
                plural = f"{fld}_flags" if ft == BOOL else f"{fld}s"
                return self.assign(self.fresh(plural), f"[x.{fld} for x in {src}{cond}]", list_of(ft, t.max))
            return self.assign(self.fresh("labelled_" + src), f'[lower(str(x)) for x in {src}]',
                               list_of(STR, t.max))
        if step == "plus":
            same = [(n, u) for n, u in self.scope.items() if u.kind == "list" and u.item == item]
            other, u = self.pick(same)
            return self.assign(self.fresh("both"), f"{src} + {other}", list_of(item, t.max + u.max))
        if step == "chunks":
            k = self.draw(st.integers(1, 3))
            batches = -(-t.max // k)
            return self.assign(self.fresh("batches"), f"chunks({src}, {k})", list_of(list_of(item, min(t.max, k)),
                                                                                      batches))
        return self.assign(self.fresh("count"), f"len({src})", INT)

    def assign(self, name: str, expr: str, t: T) -> tuple[_Stmt, str | None]:
        return _Stmt([f"{name} = {expr}"], 0, t), name

    # ---- block constructs

    def item_body(self, budget: int, scope: dict[str, T], local: list[str], label: str,
                  allow_guard: bool) -> _Stmt:
        """The body of a fan-out: an optional guard, one or two agents, and a value."""
        lines: list[str] = []
        if allow_guard and self.draw(st.integers(0, 3)) == 0:
            lines.append("stop when budget.total != none and budget.remaining < 20000")
        cost = 0
        if budget >= 2 and self.draw(st.integers(0, 2)) == 0:
            first = self.result_type(allow_lists=False)
            name = self.fresh(_NOUNS[first.record] if first is not None and first.kind == "record" else "draft")
            agent = self.agent(first, scope, local)
            agent[0] = f"{name} = {agent[0]}"
            lines += agent
            scope = {**scope, name: first or STR}
            local = [*local, name]
            cost += 1
        if budget - cost >= 2 and self.draw(st.integers(0, 3)) == 0:
            inner = self.vote_block(budget - cost, scope, local)
            return _Stmt(lines + inner.lines, cost + inner.cost, inner.value)
        result = self.result_type()
        agent = self.agent(result, scope, local, label=label)
        if self.chance() and local:
            # end on a record built from the answer: a block's value is its last line
            name = self.fresh("answer_" + local[0])
            agent[0] = f"{name} = {agent[0]}"
            lines += agent
            lines.append(f"{{{local[0]}: {local[0]}, reply: {name}}}")
            return _Stmt(lines, cost + 1, anonymous(**{local[0]: scope[local[0]], "reply": result or STR}))
        return _Stmt(lines + agent, cost + 1, result or STR)

    def fanout(self, budget: int) -> tuple[_Stmt, str | None]:
        src, t = self.pick(self.lists(self.scope, budget))
        var = self.fresh(_singular(src))
        scope = {**self.scope, var: t.item}  # type: ignore[dict-item]
        sequential = self.draw(st.integers(0, 3)) == 0
        body = self.item_body(budget // t.max, scope, [var], f"{_singular(src)} {{{var}}}",
                              allow_guard=True)
        head = f"for {var} in {src}:" if sequential else f"fanout {var} in {src}:"
        if not sequential and self.draw(st.integers(0, 3)) == 0:
            head = f"fanout {var} in {src} with concurrency={self.draw(st.integers(1, 4))}:"
        value = body.value if body.value is not None else STR
        name = self.fresh("results" if value.kind in ("str", "bool", "union") else
                          _NOUNS.get(value.record, "results") if value.kind == "record" else "reports")
        lines = [f"{name} = {head}", *_indent(body.lines)]
        return _Stmt(lines, t.max * body.cost, list_of(value, t.max)), name

    def derived_iterables(self, budget: int) -> list[tuple[str, int, T]]:
        """Lists a fan-out can iterate without naming them: the fields of a record in
        scope, a range from an int that may be negative, a range of a count."""
        out: list[tuple[str, int, T]] = []
        for n, t in self.scope.items():
            if t.kind == "record" and 1 <= len(fields_of(t)) <= budget:
                out.append((f"keys({n})", len(fields_of(t)), STR))
        for name, (lo, _) in self.offsets.items():
            for k in (1, 2):
                if k - lo <= budget:
                    out.append((f"range({name}, {k})", k - lo, INT))
        for name, m in self.int_inputs.items():
            if m <= budget:
                out.append((f"range({name})", m, INT))
        return out

    def derived_fanout(self, budget: int) -> tuple[_Stmt, str | None]:
        src, n, item = self.pick(self.derived_iterables(budget))
        var = self.fresh("field" if src.startswith("keys") else "step")
        scope = {**self.scope, var: item}
        body = self.item_body(budget // n, scope, [var], f"{var} {{{var}}}", allow_guard=False)
        value = body.value if body.value is not None else STR
        name = self.fresh("per_" + var)
        lines = [f"{name} = fanout {var} in {src}:", *_indent(body.lines)]
        return _Stmt(lines, n * body.cost, list_of(value, n)), name

    def review(self, budget: int) -> tuple[_Stmt, str | None]:
        src, t = self.pick(self.lists(self.scope, budget))
        var = self.fresh(_singular(src))
        per_item = budget // t.max
        lens = None
        if self.lenses is not None and 1 <= self.lenses[1].max <= per_item and self.chance():
            lens = self.lenses
            reviewers, by = lens[1].max, f"by lens in {lens[0]}"
            keep = self.pick(["", " keep if all", " keep if 1"])
        else:
            n_text, reviewers = self.size(min(per_item, 3))
            by = f"by {n_text}"
            keep = "" if not n_text.isdigit() or self.chance() else f" keep if {self.draw(st.integers(1, reviewers))}"
        scope = {**self.scope, var: t.item}  # type: ignore[dict-item]
        local = [var] + (["lens"] if lens else [])
        if lens:
            scope["lens"] = STR
            self.used.add("lens")
        kind = self.pick(["bool", "verdict", "union"])
        if kind == "bool":
            agent, accept = self.agent(BOOL, scope, local), "accept when answer"
        elif kind == "verdict":
            agent, accept = self.agent(self.use_record("Verdict"), scope, local), "accept when not refuted"
        else:
            agent, accept = self.agent(union("keep", "drop", "unsure"), scope, local), 'accept when answer == "keep"'
        kept = self.fresh("kept_" + src)
        target = kept
        if self.chance():
            target = f"{kept}, {self.fresh('dropped_' + src)}"
        lines = [f"{target} = review {var} in {src} {by}{keep}:", *_indent(agent), "    " + accept]
        return _Stmt(lines, t.max * reviewers, t), kept

    def vote_block(self, budget: int, scope: dict[str, T], local: list[str]) -> _Stmt:
        n_text, n = self.size(min(budget, 3))
        quorum = f" quorum {self.draw(st.integers(1, n))}" if n_text.isdigit() and self.chance() else ""
        answer = self.pick([BOOL, union("keep", "drop", "unsure"), None])
        agent = self.agent(answer, scope, local)
        return _Stmt([f"vote {n_text}{quorum}:", *_indent(agent)], n, answer or STR)

    def vote(self, budget: int) -> tuple[_Stmt, str | None]:
        block = self.vote_block(budget, self.scope, [])
        name = self.fresh("decision")
        block.lines[0] = f"{name} = {block.lines[0]}"
        return block, name

    def tournament(self, budget: int) -> tuple[_Stmt, str | None]:
        src, t = self.pick(self.lists(self.scope, budget + 1))
        a, b = self.fresh("first"), self.fresh("second")
        scope = {**self.scope, a: t.item, b: t.item}  # type: ignore[dict-item]
        if self.chance():
            answer, pick = union("A", "B"), f'pick {a} when answer == "A"'
        else:
            answer, pick = self.use_record("Choice"), f'pick {b} when winner == "second"'
        lines = self.agent(answer, scope, [], ask=f"Which is better? A: {{{a}}} B: {{{b}}}")
        name = self.fresh("best_" + _singular(src))
        out = [f"{name} = tournament {a} vs {b} in {src}:", *_indent(lines), "    " + pick]
        return _Stmt(out, max(t.max - 1, 0), t.item), name

    def repeat(self, budget: int) -> tuple[_Stmt, str | None]:
        k_text, k = self.size(min(budget, 4))
        var = self.fresh("round") if self.chance() else None
        scope = dict(self.scope)
        lines: list[str] = []
        if var is not None:
            scope[var] = INT
            if self.chance():
                lines.append(f"stop when {var} >= 2")
        result = self.result_type(allow_lists=False)
        note = self.fresh("latest")
        agent = self.agent(result, scope, [var] if var else [])
        agent[0] = f"{note} = {agent[0]}"
        lines += agent
        name = self.fresh("explored")
        head = f"{name} = repeat max {k_text}" + (f" as {var}" if var else "") + ":"
        return _Stmt([head, *_indent(lines)], k, result or STR), name

    def fix(self, budget: int) -> tuple[_Stmt, str | None]:
        k_text, k = self.size(min((budget - 1) // 2, 3))
        body_budget = (budget - (k + 1)) // k
        n_body = 2 if body_budget >= 2 and self.chance() else 1
        lines = []
        for i in range(n_body):
            step = "Fix the failing tests without changing behaviour." if i == 0 else \
                "Review the last change and tidy it up."
            lines.append(f'agent "{step}"')
        stall = f" stall {self.draw(st.integers(1, 2))}" if self.chance() else ""
        name = self.fresh("outcome")
        check = 'until check "Run the tests and report whether every one passed."'
        if self.chance():
            check += ' with model="haiku"'
        out = [f"{name} = fix max {k_text}{stall}:", *_indent(lines), check]
        return _Stmt(out, k * n_body + (k + 1), anonymous(passed=BOOL, attempts=INT, last=CHECK)), name

    def if_stmt(self, budget: int) -> tuple[_Stmt, str | None]:
        conds = [f"{n}" for n, t in self.scope.items() if t == BOOL]
        conds += [f'{n} == "thorough"' for n, t in self.scope.items() if t.kind == "union" and "thorough" in t.options]
        conds += [f"len({n}) > 1" for n, t in self.scope.items() if t.kind == "list"]
        conds += [f"{n}.passed" for n, t in self.scope.items() if t.kind == "record" and "passed" in fields_of(t)]
        cond = self.pick(conds) if conds else "true"
        then = self.block_of_agents(budget)
        lines = [f"if {cond}:", *_indent(then.lines)]
        cost = then.cost
        if self.chance():
            other = self.block_of_agents(budget)
            lines += ["else:", *_indent(other.lines)]
            cost = max(cost, other.cost)
        return _Stmt(lines, cost), None

    def block_of_agents(self, budget: int) -> _Stmt:
        """Statements inside an `if` branch: a log and up to two agents whose names stay local."""
        n = self.draw(st.integers(0, min(2, budget)))
        lines = [f'log "branch with {n} agent{"s" if n != 1 else ""}"']
        for _ in range(n):
            name = self.fresh("extra")
            agent = self.agent(self.result_type(allow_lists=False), self.scope, [])
            agent[0] = f"{name} = {agent[0]}"
            lines += agent
        return _Stmt(lines, n)

    # ---- the program

    def build(self) -> GeneratedProgram:
        self.declare_inputs()
        self.declare_constants()
        n_phases = self.draw(st.integers(1, 3))
        titles = self.draw(st.lists(st.sampled_from(_PHASES), min_size=n_phases, max_size=n_phases, unique=True))
        remaining = AGENT_LIMIT
        body: list[str] = []
        per_phase: dict[str, int] = {}
        for title in titles:
            body += ["", f'phase "{title}":']
            spent = 0
            for _ in range(self.draw(st.integers(1, 3))):
                stmt, name = self.phase_statement(remaining)
                body += _indent(stmt.lines)
                remaining -= stmt.cost
                spent += stmt.cost
                if name is not None and stmt.value is not None:
                    self.scope[name] = stmt.value
            per_phase[title] = spent
        results = [n for n in self.scope if n not in {i.name for i in self.inputs} and not n.isupper()]
        if results and self.chance():
            chosen = self.draw(st.lists(st.sampled_from(results), min_size=1, max_size=3, unique=True))
            body += ["", "return {" + ", ".join(f"{n}: {n}" for n in chosen) + "}"]
        worst = AGENT_LIMIT - remaining
        source = "\n".join(self.header(worst) + body) + "\n"
        return GeneratedProgram(source, self.arguments(), worst, per_phase)

    def header(self, worst: int) -> list[str]:
        name = self.pick(["scan-and-fix", "review-claims", "explore-ideas", "triage", "audit"])
        out = [f"workflow {name}:", f'    description: "{self.pick(_DESCRIPTIONS)}"']
        if self.draw(st.integers(0, 2)) == 0:
            out.append('    when: "when a change needs more than one pair of eyes"')
        if self.chance():
            out.append(f"    permissions: {self.pick(['edit', 'shell', 'edit, shell'])}")
        out.append("")
        for inp in self.inputs:
            default = f" = {inp.default}" if inp.default is not None else ""
            max_ = f" max {self.int_inputs[inp.name]}" if inp.name in self.int_inputs else ""
            if inp.name in self.int_mins:
                max_ = f" min {self.int_mins[inp.name]}" + max_
            if inp.name in self.offsets:
                lo, hi = self.offsets[inp.name]
                max_ = f" min {lo} max {hi}"
            out.append(f"input {inp.name}: {inp.type.src()}{max_}{default}")
        defaults = []
        if self.chance():
            defaults.append('model="sonnet"')
        tokens = self.chance()
        if tokens:
            defaults.append("max_output_tokens=4000")
        if defaults or self.chance():
            out += ["", f"defaults {', '.join(defaults or ['effort=' + chr(34) + 'medium' + chr(34)])}"]
        if self.chance():
            limit = worst + self.draw(st.integers(0, 20))
            extra = ", output_tokens <= 1000000" if tokens and self.chance() else ""
            out.append(f"budget agents <= {max(limit, 1)}{extra}")
        for name in self.records:
            out += ["", f"type {name}:"] + [f"    {f}: {t.src()}" for f, t in RECORDS[name].items()]
        if self.constants:
            out += [""] + self.constants
        return out

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for inp in self.inputs:
            if inp.default is not None and self.chance():
                continue  # leave it to its default
            if inp.name in self.offsets:
                args[inp.name] = self.draw(st.integers(*self.offsets[inp.name]))
                continue
            args[inp.name] = self.value(inp.type, self.int_inputs.get(inp.name), self.int_mins.get(inp.name, 0))
        return args

    def value(self, t: T, int_max: int | None = None, int_min: int = 0) -> Any:
        if t.kind == "list":
            assert t.item is not None
            n = self.draw(st.integers(0, t.max))
            return [self.value(t.item) if t.item.kind != "str" else f"item_{i}.py" for i in range(n)]
        if t.kind == "int":
            return self.draw(st.integers(int_min, int_max if int_max is not None else 10))
        if t.kind == "bool":
            return self.chance()
        if t.kind == "union":
            return self.pick(list(t.options))
        if t.kind == "record":
            return {f: self.value(ft) for f, ft in fields_of(t).items()}
        return self.pick(["correctness", "speed", "security"])


_DESCRIPTIONS = [
    "Scan the inputs, let skeptics check what was found, and fix what survives",
    "Explore a few ideas in rounds and keep the best",
    "Review every item and report what needs attention",
    "Triage the work and try a bounded number of fixes",
]


def _singular(name: str) -> str:
    """`files` → `file`, `summaries` → `summary`, `LENSES` → `lens`, `batches` → `batch`."""
    base = name.rstrip("0123456789").lower()
    for plural, single in (("ies", "y"), ("ches", "ch"), ("ses", "s"), ("s", "")):
        if base.endswith(plural) and len(base) > len(plural):
            return base[: -len(plural)] + single
    return base + "_item"


def _ask_key(result: T | None) -> str:
    """Which request fits an agent with this result type."""
    if result is None:
        return "str"
    if result.kind == "list":
        assert result.item is not None
        return result.item.record if result.item.kind == "record" else "str"
    return result.record if result.kind == "record" else result.kind


def _indent(lines: list[str]) -> list[str]:
    return ["    " + ln if ln else ln for ln in lines]


@st.composite
def programs(draw: Any) -> GeneratedProgram:
    """A random well-formed program with matching arguments and its worst case."""
    return _Builder(draw).build()


def program_sources() -> st.SearchStrategy[str]:
    """Just the source text."""
    return programs().map(lambda p: p.source)
