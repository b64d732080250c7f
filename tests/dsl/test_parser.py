"""The parser: every construct of docs/language.md sections 2-6 becomes the right node,
with source spans (spot-checked against the text they cover)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wflang.dsl import ast
from wflang.dsl.diagnostics import WfError
from wflang.dsl.loader import load
from wflang.dsl.parser import parse, parse_expression
from wflang.dsl.span import Span

HEADER = 'workflow t:\n    description: "test"\n\n'
HERE = Path(__file__).parent


def program(text: str) -> ast.Program:
    return parse(HEADER + textwrap.dedent(text), "t.wf")


def stmts(body: str) -> list[ast.Stmt]:
    """The statements of one phase whose body is `body` (dedented, then indented)."""
    text = textwrap.indent(textwrap.dedent(body), "    ")
    return program('phase "P":\n' + text).phases()[0].body


def value(line: str) -> ast.Expr:
    """The right-hand side of a one-line assignment `x = ...` in a phase."""
    s = stmts(f"x = {line}\n")[0]
    assert isinstance(s, ast.Assign)
    return s.value


def text_at(source: str, span: Span) -> str:
    """The source text a one-line span covers."""
    assert span.line == span.end_line
    return source.splitlines()[span.line - 1][span.col - 1:span.end_col - 1]


def span_of(source: str, needle: str, nth: int = 0) -> Span:
    """Where the nth occurrence of a one-line `needle` is."""
    lines = source.splitlines()
    seen = 0
    for n, line in enumerate(lines, 1):
        col = line.find(needle)
        while col >= 0:
            if seen == nth:
                return Span(n, col + 1, n, col + 1 + len(needle))
            seen += 1
            col = line.find(needle, col + 1)
    raise AssertionError(f"{needle!r} not in source")


# ---------------------------------------------------------------- header and declarations


def test_header() -> None:
    p = parse(textwrap.dedent('''\
        # leading comment
        workflow pr-review:
            description: "Review things"
            when: "when a PR is open"
            permissions: edit, shell
        '''), "h.wf")
    h = p.header
    assert (h.name, h.description, h.when, h.permissions) == ("pr-review", "Review things", "when a PR is open",
                                                               ["edit", "shell"])
    assert h.span == Span(2, 10, 2, 19)
    assert set(h.fields) == {"description", "when", "permissions"}
    assert h.fields["when"] == Span(4, 5, 4, 9)
    assert p.body == [] and p.inputs == []


def test_single_permission() -> None:
    p = parse('workflow t:\n    description: "d"\n    permissions: shell\n')
    assert p.header.permissions == ["shell"]


def test_inputs() -> None:
    src = HEADER + textwrap.dedent('''\
        input files: list[str] max 200   # a comment
        input rounds: int max 10 = 4
        input focus: str = "correctness"
        input mode: "fast" | "slow" = "fast"
        input note: str? = none
        input tasks: list[Task] max 3
        ''')
    inputs = parse(src).inputs
    assert [i.name for i in inputs] == ["files", "rounds", "focus", "mode", "note", "tasks"]
    files, rounds, focus, mode, note, tasks = inputs
    assert isinstance(files.type, ast.ListType) and isinstance(files.type.item, ast.NamedType)
    assert files.type.item.name == "str" and isinstance(files.type.max, ast.IntLit) and files.type.max.value == 200
    assert text_at(src, files.type.span) == "list[str] max 200"
    assert text_at(src, files.span) == "input files: list[str] max 200"  # the comment is not part of it
    assert isinstance(rounds.type, ast.NamedType) and rounds.type.name == "int"
    assert isinstance(rounds.type.max, ast.IntLit) and rounds.type.max.value == 10
    assert isinstance(rounds.default, ast.IntLit) and rounds.default.value == 4
    assert isinstance(focus.default, ast.StrLit) and focus.default.text == "correctness"
    assert isinstance(mode.type, ast.UnionType) and mode.type.options == ["fast", "slow"]
    assert isinstance(note.type, ast.OptionalType) and isinstance(note.default, ast.NoneLit)
    assert isinstance(tasks.type, ast.ListType) and tasks.type.item.name == "Task"  # type: ignore[attr-defined]
    assert files.default is None


def test_record_types() -> None:
    src = HEADER + textwrap.dedent('''\
        type Finding:
            file: str
            line: int
            severity: "low" | "medium" | "high"
            tags: list[str] max 3
            fixed: bool?
        ''')
    (t,) = parse(src).types
    assert t.name == "Finding"
    assert [f.name for f in t.fields] == ["file", "line", "severity", "tags", "fixed"]
    sev = t.fields[2].type
    assert isinstance(sev, ast.UnionType) and sev.options == ["low", "medium", "high"]  # order is the ranking
    assert text_at(src, sev.span) == '"low" | "medium" | "high"'
    assert isinstance(t.fields[3].type, ast.ListType)
    assert isinstance(t.fields[4].type, ast.OptionalType)
    assert t.span.line == 4


def test_defaults_budget_and_constants() -> None:
    p = program('''\
        defaults model="sonnet", effort="high", max_output_tokens=4000
        budget agents <= 800, output_tokens <= 2000000, concurrency <= 8
        DIMENSIONS = [{key: "security"}, {key: "speed"}]
        LIMIT = 3
        phase "P":
            x = 1
        late = 2
        ''')
    assert [o.name for o in p.defaults] == ["model", "effort", "max_output_tokens"]
    assert [(b.key, b.value.value) for b in p.budget] == [  # type: ignore[attr-defined]
        ("agents", 800), ("output_tokens", 2000000), ("concurrency", 8)]
    assert [c.targets for c in p.consts] == [["DIMENSIONS"], ["LIMIT"]]
    # after the first statement, a capitalised assignment is an ordinary statement
    assert isinstance(p.body[0], ast.Phase) and isinstance(p.body[1], ast.Assign)


def test_constant_only_before_statements() -> None:
    p = program('x = 1\nLATE = 2\n')
    assert p.consts == [] and len(p.body) == 2


def test_phase() -> None:
    src = HEADER + 'phase "Find things":\n    x = 1\n    y = 2\n'
    (ph,) = parse(src).phases()
    assert ph.title == "Find things"
    assert text_at(src, ph.title_span) == '"Find things"'
    assert ph.span == Span(4, 1, 6, 10)
    assert [s.targets for s in ph.body] == [["x"], ["y"]]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- statements


def test_assignment_and_reassignment() -> None:
    a, b, c = stmts("x = 1\nx = x + 1\nlog x\n")
    assert isinstance(a, ast.Assign) and isinstance(b, ast.Assign) and a.targets == b.targets == ["x"]
    assert isinstance(b.value, ast.BinOp) and b.value.op == "+"
    assert isinstance(c, ast.Log)


def test_agent_with_type_and_options() -> None:
    src = HEADER + 'phase "P":\n    r = agent "Review {f}" -> list[Finding] max 5 with model="haiku", label="find {f}"\n'
    (s,) = parse(src).phases()[0].body
    a = s.value  # type: ignore[attr-defined]
    assert isinstance(a, ast.Agent)
    assert isinstance(a.result, ast.ListType) and a.result.item.name == "Finding"  # type: ignore[attr-defined]
    assert [o.name for o in a.options] == ["model", "label"]
    assert isinstance(a.options[1].value, ast.StrLit) and not a.options[1].value.is_plain
    assert text_at(src, a.span) == 'agent "Review {f}" -> list[Finding] max 5 with model="haiku", label="find {f}"'
    assert text_at(src, a.result.span) == "list[Finding] max 5"
    assert text_at(src, a.options[0].span) == 'model="haiku"'


def test_continuation_lines() -> None:
    """`-> T` and `with ...` on lines of their own continue the agent line."""
    one = stmts('r = agent "Review {f}" -> list[Finding] max 5 with model="haiku"\n')[0]
    three = stmts('''\
        r = agent "Review {f}"
            -> list[Finding] max 5
            with model="haiku"
        log "after"
        ''')
    assert len(three) == 2 and isinstance(three[1], ast.Log)
    a1, a3 = one.value, three[0].value  # type: ignore[attr-defined]
    assert isinstance(a3, ast.Agent) and isinstance(a3.result, ast.ListType)
    assert [o.name for o in a3.options] == [o.name for o in a1.options] == ["model"]
    assert a3.span.line == 5 and a3.span.end_line == 7


def test_plain_agent_and_check() -> None:
    a, c = stmts('agent "Just text"\nstatus = check "Tests pass?" with model="haiku"\n')
    assert isinstance(a, ast.ExprStmt) and isinstance(a.value, ast.Agent)
    assert a.value.result is None and a.value.options == []
    assert isinstance(c, ast.Assign) and isinstance(c.value, ast.Check)
    assert [o.name for o in c.value.options] == ["model"]


def test_fanout_with_concurrency_and_stop() -> None:
    src = HEADER + textwrap.dedent('''\
        phase "P":
            reports = fanout f in files with concurrency=4:
                stop when budget.remaining < 25000
                agent "Review {f}"
            log "done"
        ''')
    assign, log = parse(src).phases()[0].body
    f = assign.value  # type: ignore[attr-defined]
    assert isinstance(f, ast.Fanout) and not f.sequential
    assert f.var == "f" and isinstance(f.iter, ast.Name) and f.iter.id == "files"
    assert [o.name for o in f.options] == ["concurrency"]
    assert isinstance(f.body[0], ast.StopWhen) and isinstance(f.body[1], ast.ExprStmt)
    stop = f.body[0].cond
    assert isinstance(stop, ast.Compare) and isinstance(stop.left, ast.Field) and stop.left.name == "remaining"
    assert f.span == Span(5, 15, 7, 27)  # from `fanout` to the end of its last line
    assert assign.span == Span(5, 5, 7, 27)
    assert isinstance(log, ast.Log)


def test_for_is_sequential_fanout() -> None:
    f = stmts('xs = for f in files:\n    agent "Look at {f}"\n')[0].value  # type: ignore[attr-defined]
    assert isinstance(f, ast.Fanout) and f.sequential and f.options == []


def test_review_by_count() -> None:
    src = HEADER + textwrap.dedent('''\
        phase "P":
            kept, dropped = review x in findings by 3 keep if 2:
                agent "Refute {x}" -> Verdict
                accept when not refuted
        ''')
    s = parse(src).phases()[0].body[0]
    assert isinstance(s, ast.Assign) and s.targets == ["kept", "dropped"]
    r = s.value
    assert isinstance(r, ast.Review)
    assert r.var == "x" and isinstance(r.count, ast.IntLit) and r.count.value == 3
    assert r.lens_var is None and r.lenses is None
    assert isinstance(r.keep, ast.IntLit) and r.keep.value == 2 and not r.keep_all
    assert len(r.body) == 1 and isinstance(r.accept, ast.UnaryOp)
    assert text_at(src, r.accept_span) == "accept when not refuted"
    assert text_at(src, r.accept.span) == "not refuted"


def test_review_by_lenses_keep_all_and_default_keep() -> None:
    r = stmts('''\
        kept = review x in items by lens in LENSES keep if all:
            agent "Judge {x} through {lens}" -> bool
            accept when answer
        ''')[0].value  # type: ignore[attr-defined]
    assert isinstance(r, ast.Review)
    assert r.count is None and r.lens_var == "lens" and isinstance(r.lenses, ast.Name)
    assert r.keep is None and r.keep_all
    r2 = stmts('k = review x in items by 3:\n    agent "ok?" -> bool\n    accept when answer\n')[0].value  # type: ignore[attr-defined]
    assert r2.keep is None and not r2.keep_all  # a majority


def test_vote() -> None:
    v = stmts('pick_one = vote 5 quorum 3:\n    agent "Which?" -> "a" | "b"\n')[0].value  # type: ignore[attr-defined]
    assert isinstance(v, ast.Vote) and v.count.value == 3 + 2 and v.quorum.value == 3  # type: ignore[attr-defined]
    v2 = stmts('choice = vote rounds:\n    agent "Which?"\n')[0].value  # type: ignore[attr-defined]
    assert isinstance(v2.count, ast.Name) and v2.quorum is None


def test_tournament() -> None:
    t = stmts('''\
        best = tournament a vs b in drafts:
            agent "A: {a}\\nB: {b}" -> "A" | "B"
            pick b when answer == "B"
        ''')[0].value  # type: ignore[attr-defined]
    assert isinstance(t, ast.Tournament)
    assert (t.a, t.b, t.pick) == ("a", "b", "b")
    assert isinstance(t.cond, ast.Compare) and len(t.body) == 1


def test_repeat() -> None:
    r = stmts('''\
        more = repeat max 4 as i:
            stop when len(ideas) >= 5
            ideas = ideas + [i]
        ''')[0].value  # type: ignore[attr-defined]
    assert isinstance(r, ast.Repeat) and r.var == "i" and r.max.value == 4  # type: ignore[attr-defined]
    assert isinstance(r.body[0], ast.StopWhen) and isinstance(r.body[1], ast.Assign)
    r2 = stmts('repeat max rounds:\n    agent "Again"\n')[0].value  # type: ignore[attr-defined]
    assert r2.var is None and isinstance(r2.max, ast.Name)


def test_fix() -> None:
    src = HEADER + textwrap.dedent('''\
        phase "P":
            outcome = fix max 3 stall 2:
                agent "Fix it"
                agent "Tidy up"
            until check "Do the tests pass?" with model="haiku"
            log "after"
        ''')
    s, log = parse(src).phases()[0].body
    f = s.value  # type: ignore[attr-defined]
    assert isinstance(f, ast.Fix) and f.max.value == 3 and f.stall.value == 2  # type: ignore[attr-defined]
    assert len(f.body) == 2
    assert isinstance(f.check, ast.Check) and [o.name for o in f.check.options] == ["model"]
    assert text_at(src, f.check.span) == 'check "Do the tests pass?" with model="haiku"'
    assert f.span.end_line == 8 and isinstance(log, ast.Log)
    f2 = stmts('o = fix max 2:\n    agent "Fix"\nuntil agent "Passed?" -> Status\n')[0].value  # type: ignore[attr-defined]
    assert f2.stall is None and isinstance(f2.check, ast.Agent)


def test_if_elif_else() -> None:
    (s,) = stmts('''\
        if a:
            log "a"
        elif b:
            log "b"
        elif c:
            log "c"
        else:
            log "d"
        ''')
    assert isinstance(s, ast.If) and isinstance(s.cond, ast.Name) and s.cond.id == "a"
    elif1 = s.orelse[0]
    assert isinstance(elif1, ast.If) and elif1.cond.id == "b"  # type: ignore[attr-defined]
    elif2 = elif1.orelse[0]
    assert isinstance(elif2, ast.If) and elif2.cond.id == "c"  # type: ignore[attr-defined]
    assert isinstance(elif2.orelse[0], ast.Log)
    assert s.span.line == 5 and s.span.end_line == 12
    (bare,) = stmts("if a:\n    log 1\n")
    assert bare.orelse == []  # type: ignore[attr-defined]


def test_run_log_return() -> None:
    p = program('''\
        phase "P":
            child = run "other.wf" with {items: xs, depth: 2}
            bare = run "other.wf"
            log "ran {child}"
        return {child: child}
        ''')
    run, bare, log = p.phases()[0].body
    assert isinstance(run.value, ast.RunWorkflow) and run.value.path == "other.wf"  # type: ignore[attr-defined]
    assert isinstance(run.value.args, ast.DictLit)  # type: ignore[attr-defined]
    assert bare.value.args is None  # type: ignore[attr-defined]
    assert isinstance(log, ast.Log)
    assert isinstance(p.body[-1], ast.Return) and isinstance(p.body[-1].value, ast.DictLit)


def test_return_of_a_construct() -> None:
    p = program('return fanout f in files:\n    agent "x {f}"\n')
    assert isinstance(p.body[0], ast.Return) and isinstance(p.body[0].value, ast.Fanout)


def test_comments_and_blank_lines_inside_blocks() -> None:
    body = stmts('''\
        # a comment at the block's indentation
        xs = fanout f in files:   # trailing

                # a comment deeper than the block

            agent "x {f}"
        # back out
        log "done"
        ''')
    assert [type(s).__name__ for s in body] == ["Assign", "Log"]


def test_backslash_continuation() -> None:
    (s,) = stmts("total = 1 + \\\n    2\n")
    assert isinstance(s.value, ast.BinOp)  # type: ignore[attr-defined]


def test_parenthesised_expression_spans_lines() -> None:
    (s,) = stmts("xs = [\n    1,\n    2,\n]\n")
    assert isinstance(s.value, ast.ListLit) and len(s.value.items) == 2  # type: ignore[attr-defined]


# ---------------------------------------------------------------- expressions


@pytest.mark.parametrize("text, node, check", [
    ("42", ast.IntLit, lambda e: e.value == 42),
    ("1_000", ast.IntLit, lambda e: e.value == 1000),
    ("-3", ast.IntLit, lambda e: e.value == -3),
    ("2.5", ast.FloatLit, lambda e: e.value == 2.5),
    ("1e3", ast.FloatLit, lambda e: e.value == 1000.0),
    ("true", ast.BoolLit, lambda e: e.value is True),
    ("False", ast.BoolLit, lambda e: e.value is False),
    ("none", ast.NoneLit, lambda e: True),
    ("None", ast.NoneLit, lambda e: True),
    ("'single'", ast.StrLit, lambda e: e.text == "single"),
    ("name", ast.Name, lambda e: e.id == "name"),
    ("a.b.c", ast.Field, lambda e: e.name == "c" and isinstance(e.obj, ast.Field)),
    (".severity", ast.Accessor, lambda e: e.path == ["severity"]),
    (".a.b", ast.Accessor, lambda e: e.path == ["a", "b"]),
    ("xs[0]", ast.Index, lambda e: e.index.value == 0),
    ("xs[-1]", ast.Index, lambda e: e.index.value == -1),
    ("xs[1:3]", ast.Slice, lambda e: e.lo.value == 1 and e.hi.value == 3),
    ("xs[:3]", ast.Slice, lambda e: e.lo is None and e.hi.value == 3),
    ("xs[2:]", ast.Slice, lambda e: e.lo.value == 2 and e.hi is None),
    ("a - b", ast.BinOp, lambda e: e.op == "-"),
    ("a % b", ast.BinOp, lambda e: e.op == "%"),
    ("a / b", ast.BinOp, lambda e: e.op == "/"),
    ("-a", ast.UnaryOp, lambda e: e.op == "-"),
    ("not a", ast.UnaryOp, lambda e: e.op == "not"),
    ("a and b", ast.BoolOp, lambda e: e.op == "and"),
    ("a or b and c", ast.BoolOp, lambda e: e.op == "or" and e.right.op == "and"),
    ("a <= b", ast.Compare, lambda e: e.op == "<="),
    ("a != b", ast.Compare, lambda e: e.op == "!="),
    ("a in xs", ast.Compare, lambda e: e.op == "in"),
    ("a not in xs", ast.Compare, lambda e: e.op == "not in"),
    ("f | {dimension: d.key}", ast.BinOp, lambda e: e.op == "|" and isinstance(e.right, ast.DictLit)),
    ("1 if c else 2", ast.CondExpr, lambda e: e.then.value == 1 and e.orelse.value == 2),
    ("[1, 2, 3,]", ast.ListLit, lambda e: len(e.items) == 3),
    ("[]", ast.ListLit, lambda e: e.items == []),
    ("(a, b)", ast.TupleLit, lambda e: len(e.items) == 2),
    ("(a,)", ast.TupleLit, lambda e: len(e.items) == 1),
    ("(a)", ast.Name, lambda e: e.id == "a"),
    ('{a: 1, "b c": 2}', ast.DictLit, lambda e: [k for k, _ in e.entries] == ["a", "b c"]),
    ("{}", ast.DictLit, lambda e: e.entries == []),
    ("[x.f for x in xs if x.ok]", ast.ListComp,
     lambda e: isinstance(e.clauses[0], ast.CompFor) and isinstance(e.clauses[1], ast.CompIf)),
    ("[a + b for a in xs for b in ys]", ast.ListComp, lambda e: [c.var for c in e.clauses] == ["a", "b"]),
    ("lambda x: x.score", ast.Lambda, lambda e: e.params == ["x"] and isinstance(e.body, ast.Field)),
    ("top(xs, 3, by=.severity)", ast.Call,
     lambda e: e.func == "top" and len(e.args) == 2 and e.kwargs[0].name == "by"),
    ("unique(xs, by=(.file, .line))", ast.Call, lambda e: isinstance(e.kwargs[0].value, ast.TupleLit)),
    ("range(2, 10)", ast.Call, lambda e: e.func == "range" and len(e.args) == 2),
    ("chunks(xs, 10)", ast.Call, lambda e: e.func == "chunks"),
    ("max(a, b)", ast.Call, lambda e: e.func == "max"),  # `max` is a keyword only in types
    ("budget.remaining", ast.Field, lambda e: e.obj.id == "budget" and e.name == "remaining"),
    ("x.type", ast.Field, lambda e: e.name == "type"),
])
def test_expressions(text: str, node: type, check) -> None:
    e = value(text)
    assert isinstance(e, node), e
    assert check(e)


def test_precedence() -> None:
    e = value("1 + 2 * 3 == 7 and not a or b")
    assert isinstance(e, ast.BoolOp) and e.op == "or"
    conj = e.left
    assert isinstance(conj, ast.BoolOp) and conj.op == "and"
    eq = conj.left
    assert isinstance(eq, ast.Compare) and eq.op == "=="
    add = eq.left
    assert isinstance(add, ast.BinOp) and add.op == "+" and isinstance(add.right, ast.BinOp)
    assert add.right.op == "*"
    merged = value("a | b + c")  # `|` binds looser than arithmetic
    assert isinstance(merged, ast.BinOp) and merged.op == "|" and merged.right.op == "+"  # type: ignore[attr-defined]


def test_expression_spans() -> None:
    src = HEADER + 'phase "P":\n    x = top(unique(all_, by=(.file, .line)), 60, by=.severity)\n'
    e = parse(src).phases()[0].body[0].value  # type: ignore[attr-defined]
    assert text_at(src, e.span) == "top(unique(all_, by=(.file, .line)), 60, by=.severity)"
    inner = e.args[0]
    assert text_at(src, inner.span) == "unique(all_, by=(.file, .line))"
    assert text_at(src, inner.kwargs[0].value.span) == "(.file, .line)"
    assert text_at(src, e.args[1].span) == "60"
    assert text_at(src, e.kwargs[0].span) == "by=.severity"
    assert e.span == span_of(src, "top(unique(all_, by=(.file, .line)), 60, by=.severity)")


def test_parse_expression_shifts_spans() -> None:
    e = parse_expression("a + b * 2", 3, 10)
    assert e.span == Span(3, 10, 3, 19)
    assert isinstance(e, ast.BinOp) and e.right.span == Span(3, 14, 3, 19)


# ---------------------------------------------------------------- strings


def prompt_of(body: str) -> tuple[str, ast.StrLit]:
    src = HEADER + 'phase "P":\n' + textwrap.indent(textwrap.dedent(body), "    ")
    a = parse(src).phases()[0].body[0].value  # type: ignore[attr-defined]
    assert isinstance(a, ast.Agent) and isinstance(a.prompt, ast.StrLit)
    return src, a.prompt


def test_escapes() -> None:
    _, s = prompt_of(r'x = agent "tab\tnl\nq\"s\'b\\ \x41\u00e9\U0001F600 \{ \}"' + "\n")
    assert s.parts == ["tab\tnl\nq\"s'b\\ Aé\U0001F600 { }"]
    assert s.is_plain


def test_literal_braces() -> None:
    _, s = prompt_of('x = agent "JSON like {{\\"a\\": 1}} and }}{{"\n')
    assert s.parts == ['JSON like {"a": 1} and }{']


def test_interpolation_parts_and_spans() -> None:
    src, s = prompt_of('x = agent "Review {f} for {focus} in {x.file}:{x.line} ({len(xs) + 1})"\n')
    parts = s.parts
    assert [p for p in parts if isinstance(p, str)] == ["Review ", " for ", " in ", ":", " (", ")"]
    exprs = [p for p in parts if isinstance(p, ast.Expr)]
    assert [text_at(src, e.span) for e in exprs] == ["f", "focus", "x.file", "x.line", "len(xs) + 1"]
    assert isinstance(exprs[2], ast.Field) and text_at(src, exprs[2].obj.span) == "x"
    call = exprs[4]
    assert isinstance(call, ast.BinOp) and text_at(src, call.left.span) == "len(xs)"
    assert text_at(src, call.left.args[0].span) == "xs"  # type: ignore[attr-defined]
    assert exprs[0].span == Span(5, 24, 5, 25)


def test_interpolation_with_spaces_and_single_quotes() -> None:
    src, s = prompt_of("""x = agent "a { name } b {d['k']}"\n""")
    name, idx = [p for p in s.parts if isinstance(p, ast.Expr)]
    assert isinstance(name, ast.Name) and text_at(src, name.span) == "name"
    assert isinstance(idx, ast.Index) and text_at(src, idx.span) == "d['k']"


def test_triple_quoted_prompt_is_dedented() -> None:
    src, s = prompt_of('''\
        x = agent """
            Review {f} carefully.
              Keep this indent; {{braces}} too.
            Done.
            """
        ''')
    assert s.parts[0] == "Review "
    assert s.parts[2] == " carefully.\n  Keep this indent; {braces} too.\nDone."
    f = s.parts[1]
    assert isinstance(f, ast.Name) and f.span == Span(6, 17, 6, 18)
    assert text_at(src, f.span) == "f"
    assert s.span.line == 5 and s.span.end_line == 9


def test_triple_quoted_prompt_keeps_inner_quotes_and_blank_lines() -> None:
    # Text on the opening line counts for the common indentation (here: none).
    _, s = prompt_of('x = agent """Say "hi".\n\n    Then stop."""\n')
    assert s.parts == ['Say "hi".\n\n        Then stop.']


def test_backticks_are_ordinary_text() -> None:
    _, s = prompt_of('x = agent "Run `pytest -q` and report"\n')
    assert s.parts == ["Run `pytest -q` and report"]


# ---------------------------------------------------------------- whole programs


def test_design_example_parses() -> None:
    root = HERE.parents[1]
    p = parse((root / "examples" / "pr-review" / "pr-review.wf").read_text(encoding="utf-8"), "pr-review.wf")
    assert p.header.name == "pr-review" and p.header.permissions == ["edit", "shell"]
    assert [ph.title for ph in p.phases()] == ["Find", "Verify", "Fix"]
    assert [i.name for i in p.inputs] == ["files", "focus"]
    assert [t.name for t in p.types] == ["Finding", "Verdict"]
    assert isinstance(p.body[-1], ast.Return)


def test_every_construct_program_parses_with_spans_everywhere() -> None:
    src = (HERE / "valid" / "everything.wf").read_text(encoding="utf-8")
    p = parse(src, "everything.wf")
    nodes = list(ast.walk(p))
    kinds = {type(n).__name__ for n in nodes}
    for needed in ("Fanout", "Review", "Vote", "Tournament", "Repeat", "Fix", "Check", "RunWorkflow", "If",
                   "ListComp", "Lambda", "CondExpr", "Slice", "Index", "DictLit", "Accessor", "TupleLit"):
        assert needed in kinds, needed
    n_lines = len(src.splitlines())
    for n in nodes:
        if isinstance(n, (ast.Program, ast.CompFor, ast.CompIf, ast.Keyword)) or n.span.line == 0:
            continue
        s = n.span
        assert 1 <= s.line <= s.end_line <= n_lines, (n, s)
        assert s.line < s.end_line or s.col < s.end_col, (n, s)


def test_syntax_error_raises_wferror_with_a_span() -> None:
    with pytest.raises(WfError) as info:
        program('phase "P"\n    x = 1\n')
    (d,) = info.value.diagnostics
    assert d.code == "WF106" and d.span is not None and d.span.line == 4


def test_a_lone_carriage_return_is_named_and_does_not_shift_lines() -> None:
    # Found by test_fuzz: the layout check counted "\r" as a line end, the grammar does not.
    loaded = load("cr.wf", "\r\r\t0")
    [diag] = loaded.diagnostics
    assert (diag.code, diag.span.line) == ("WF101", 1)
    assert "U+000D" in diag.message and "\\r\\n" in diag.hint


def test_crlf_sources_keep_their_line_numbers() -> None:
    loaded = load("crlf.wf", 'workflow w:\r\n    description: "d"\r\n\r\nlog bogus_name\r\n')
    assert [(d.code, d.span.line) for d in loaded.diagnostics] == [("WF201", 4)]
