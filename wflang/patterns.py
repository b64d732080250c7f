"""`wf new NAME --pattern P`: a new workflow file from one of the example patterns.

Each pattern is a small, complete workflow that checks as written: the shapes teams use
most (see examples/ for full-size versions with fake answers). `__NAME__` in a template
is replaced by the workflow's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from wflang import exits

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = exits.OK, exits.ERRORS, exits.USAGE

# The checker's rule for workflow names (header `workflow NAME:`).
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Pattern:
    name: str
    summary: str
    example: str  # `wf new ... --pattern NAME` for the full-size version in examples/
    args: str  # arguments for a first run, as JSON
    template: str


_REVIEW = '''\
workflow __NAME__:
    description: "Review files for problems, let three skeptics challenge each finding, fix what survives"
    permissions: edit, shell

# Made with `wf new __NAME__ --pattern review`. Edit the prompts, types and limits, then run
# `wf check __NAME__.wf`: it proves the worst-case number of agents before anything runs.

input files: list[str] max 50              # the files to review, e.g. `git diff --name-only main`
input focus: str = "correctness and security"

defaults model="sonnet"
budget agents <= 200

type Finding:
    file: str
    line: int
    issue: str
    severity: "low" | "medium" | "high"

type Verdict:
    refuted: bool
    why: str

phase "Find":
    reports = fanout f in files:
        agent """
            Review {f} for {focus} problems. Report each finding with its file, the line,
            and one sentence on what goes wrong. Report nothing rather than a guess.
            """
            -> list[Finding] max 5
            with model="haiku", label="find {f}"
    findings = top(unique(flatten(reports), by=(.file, .line)), 30, by=.severity)

phase "Verify":
    # Three independent skeptics per finding; a finding is kept when two fail to refute it.
    confirmed = review x in findings by 3 keep if 2:
        agent "Try hard to refute this finding; set refuted=true if it is wrong or not worth fixing.\\n{x}"
            -> Verdict
            with label="verify {x.file}:{x.line}"
        accept when not refuted

phase "Fix":
    outcome = fix max 2:
        agent "Fix these confirmed problems with the smallest change that resolves each:\\n{confirmed}"
            with label="fix"
    until check "Run the test suite and report whether every test passed." with label="tests"

return {confirmed: confirmed, tests_pass: outcome.passed}
'''

_SWEEP = '''\
workflow __NAME__:
    description: "Sweep many files for bugs: a cheap finder, then a careful verifier, per file"

# Made with `wf new __NAME__ --pattern sweep`. Each file flows through both steps on its
# own (no barrier): its verifier starts as soon as its finder is done.

input files: list[str] max 200             # e.g. `git ls-files 'src/**/*.py'`
input focus: str = "crashes, data loss and wrong results"

defaults max_output_tokens=4000
budget agents <= 450

type Suspect:
    line: int
    bug: str
    trigger: str

type Checked:
    line: int
    real: bool
    bug: str
    reason: str
    severity: "low" | "medium" | "high"

phase "Sweep":
    per_file = fanout f in files with concurrency=16:
        suspects = agent "Read {f} and list at most 3 places where it can misbehave at runtime ({focus}), each with the line and a concrete trigger."
            -> list[Suspect] max 3
            with model="haiku", label="find {f}"
        checked = agent "Check each suspected bug in {f} against the code and its callers; real=false when something rules it out.\\n{suspects}"
            -> list[Checked] max 3
            with model="sonnet", label="verify {f}"
        [c | {file: f} for c in checked if c.real]
    bugs = top(flatten(per_file), 50, by=.severity)

phase "Report":
    report = agent "Write a bug report from these verified bugs, most severe first, with file:line and a suggested fix.\\n{bugs}"
        with label="report"

return {bugs: bugs, report: report}
'''

_RESEARCH = '''\
workflow __NAME__:
    description: "Research a question: sub-questions, sources fetched by agents, claims voted on, a cited report"

# Made with `wf new __NAME__ --pattern research`.

input question: str
input angles: int max 5 = 3                # how many sub-questions to pursue

defaults model="sonnet"
budget agents <= 120

type Source:
    url: str
    title: str

type Claim:
    claim: str
    quote: str
    url: str

phase "Search":
    subquestions = agent "Break this question into at most {angles} sub-questions that public sources can answer: {question}"
        -> list[str] max angles
        with label="plan"
    found = fanout q in subquestions:
        agent "Search the web for primary sources on: {q}. Return at most 3, with exact URLs."
            -> list[Source] max 3
            with label="search {q}"
    sources = take(unique(flatten(found), by=.url), 10)

phase "Read":
    extracted = fanout s in sources:
        agent "Fetch {s.url} and extract at most 3 claims that bear on: {question}. Quote the page verbatim for each."
            -> list[Claim] max 3
            with label="read {s.url}"
    claims = take(unique(flatten(extracted), by=.claim), 20)

phase "Verify":
    judged = fanout c in claims:
        verdict = vote 3 quorum 2:
            agent "Does the page at {c.url} support this claim, in context? Claim: {c.claim}\\nQuote: {c.quote}"
                -> "supported" | "unsupported"
                with model="haiku", label="verify {c.claim}"
        c | {verdict: verdict}
    surviving = [c for c in judged if c.verdict == "supported"]

phase "Report":
    report = agent "Answer: {question}\\nUse only these verified claims; cite each inline as [n] with a numbered list of URLs.\\n{surviving}"
        with label="report"

return {report: report, claims: surviving}
'''

_FIX = '''\
workflow __NAME__:
    description: "Apply one change to many files, then fix until the build and tests pass"
    permissions: edit, shell

# Made with `wf new __NAME__ --pattern fix`.

input files: list[str] max 100
input change: str = "Replace the deprecated `utcnow()` calls with `now(timezone.utc)`."
input test_command: str = "pytest -q"

defaults model="sonnet"
budget agents <= 150

type Changed:
    file: str
    changed: bool
    note: str

phase "Change":
    results = fanout f in files with concurrency=8:
        agent "In {f}: {change} Keep behaviour identical and touch nothing else."
            -> Changed
            with label="change {f}"

phase "Fix":
    # Check first; while it fails (at most 4 attempts), fix and check again.
    outcome = fix max 4 stall 2:
        agent "Run `{test_command}`, read the first failures and fix their cause. Never skip or delete a test."
            with label="fix"
    until check "Run `{test_command}` and report whether everything passed; list the failures in details." with label="tests"

return {passed: outcome.passed, attempts: outcome.attempts, changed: [r.file for r in results if r.changed]}
'''

_VOTE = '''\
workflow __NAME__:
    description: "Decide a question by a majority of independent judges, with a quorum"

# Made with `wf new __NAME__ --pattern vote`. Voters answer with one of a few fixed
# options, so equal answers can be counted; no answer below the quorum means no decision.

input question: str
input evidence: list[str] max 10 = []      # files the judges should read first
input voters: int max 9 = 5

defaults model="sonnet"
budget agents <= 20

phase "Decide":
    decision = vote voters quorum 3:
        agent "{question}\\nRead these first: {evidence}\\nAnswer with exactly one option."
            -> "yes" | "no" | "needs-more-information"
            with label="judge"

phase "Explain":
    memo = agent "The judges' decision on \\"{question}\\" is {decision} (null means no quorum). Write a short memo explaining it."
        with label="memo"

return {decision: decision, memo: memo}
'''

_TOURNAMENT = '''\
workflow __NAME__:
    description: "Draft several approaches from different angles, judge them in a bracket, refine the winner"

# Made with `wf new __NAME__ --pattern tournament`.

input task: str
input approaches: int max 6 = 4

defaults model="sonnet"
budget agents <= 20

ANGLES = [
    {name: "minimal", brief: "the smallest change that solves the task"},
    {name: "incremental", brief: "small, separately shippable steps behind a flag"},
    {name: "rewrite", brief: "a cleaner design, with a migration path"},
    {name: "reuse", brief: "an existing library or service instead of new code"},
    {name: "test-first", brief: "start from the tests that pin the behaviour down"},
    {name: "operability", brief: "optimise for observability and rollback"},
]

type Plan:
    angle: str
    steps: list[str] max 10
    risks: list[str] max 5

type Judgement:
    winner: "A" | "B"
    why: str

phase "Draft":
    drafts = fanout a in take(ANGLES, approaches):
        agent "Plan this task from the {a.name} angle ({a.brief}); set angle to \\"{a.name}\\".\\nTask: {task}"
            -> Plan
            with label="draft {a.name}"

phase "Judge":
    best = tournament a vs b in drafts:
        agent "Which plan should we start tomorrow? Weigh risk first, then time to first value.\\nTask: {task}\\nA: {a}\\nB: {b}"
            -> Judgement
            with label="judge {a.angle} vs {b.angle}"
        pick a when winner == "A"

phase "Refine":
    final = agent "Turn the winning plan into numbered steps with files, tests and a rollback step:\\n{best}"
        with label="refine"

return {winner: best.angle, plan: final}
'''

PATTERNS: dict[str, Pattern] = {p.name: p for p in (
    Pattern("review", "reviewers, three skeptics per finding, a fixer", "examples/pr-review-dimensions",
            '{"files": ["src/app.py", "src/db.py"]}', _REVIEW),
    Pattern("sweep", "a per-file find-then-verify pipeline over many files", "examples/bug-sweep",
            '{"files": ["src/app.py", "src/db.py"]}', _SWEEP),
    Pattern("research", "sub-questions, sources, claims voted on, a cited report", "examples/deep-research",
            '{"question": "What limits SQLite write concurrency?"}', _RESEARCH),
    Pattern("fix", "a change over many files, then fix until the tests pass", "examples/migration",
            '{"files": ["src/app.py", "src/db.py"]}', _FIX),
    Pattern("vote", "a decision by majority vote with a quorum", "examples/majority-vote",
            '{"question": "Should we ship release 4.2 this week?"}', _VOTE),
    Pattern("tournament", "approaches drafted, then judged in a bracket", "examples/plan-tournament",
            '{"task": "Add per-tenant rate limits to the API"}', _TOURNAMENT),
)}


def render(name: str, pattern: str) -> str:
    """The text of a new workflow called `name` from `pattern`."""
    return PATTERNS[pattern].template.replace("__NAME__", name)


def kebab(name: str) -> str:
    """A kebab-case suggestion for a name that is not: `PR_Review` → `pr-review`."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name)
    words = re.sub(r"[^A-Za-z0-9]+", "-", words).lower()
    return re.sub(r"-+", "-", words).strip("-") or "my-workflow"


def name_problem(name: str) -> str | None:
    if NAME_RE.match(name):
        return None
    return (f'"{name}" is not a kebab-case workflow name: use lowercase letters, digits and single '
            f'dashes, e.g. "{kebab(name)}"')


def target_path(name: str, out: str | None) -> Path:
    """Where to write: `out` (a directory gets NAME.wf inside it), else ./NAME.wf."""
    if out is None:
        return Path(f"{name}.wf")
    p = Path(out)
    return p / f"{name}.wf" if p.is_dir() else p


def new_command(name: str, pattern: str, out: str | None, stdout: TextIO, stderr: TextIO) -> int:
    if name.endswith(".wf") and NAME_RE.match(name[:-3]):
        name = name[:-3]  # `wf new pr-review.wf` means the workflow pr-review
    problem = name_problem(name)
    if problem is not None:
        print(f"error: {problem}", file=stderr)
        return EXIT_USAGE
    if pattern not in PATTERNS:
        print(f"error: unknown pattern {pattern!r} (patterns: {', '.join(PATTERNS)})", file=stderr)
        return EXIT_USAGE
    path = target_path(name, out)
    text = render(name, pattern)
    try:
        with path.open("x", encoding="utf-8") as f:  # "x": never overwrite a file
            f.write(text)
    except FileExistsError:
        print(f"error: {path} already exists; nothing was written (choose another NAME, or -o PATH)",
              file=stderr)
        return EXIT_ERRORS
    except OSError as e:
        print(f"error: cannot write {path}: {e.strerror or e}", file=stderr)
        return EXIT_USAGE
    p = PATTERNS[pattern]
    print(f"wrote {path} (pattern {pattern}: {p.summary}; the full-size example is {p.example}/)\n"
          f"next:\n"
          f"  wf check {path}          # prove the worst-case number of agents\n"
          f"  wf graph {path}          # draw it (Mermaid)\n"
          f"  wf run {path} --args-json '{p.args}'   # with ANTHROPIC_API_KEY set", file=stdout)
    return EXIT_OK
