"""A large, valid workflow for throughput benchmarks: about `lines` lines of typical code."""

from __future__ import annotations

HEADER = '''workflow big-sweep:
    description: "A generated workflow for benchmarks"
    permissions: edit

input files: list[str] max 8
input focus: str = "correctness"
input rounds: int max 3 = 2

defaults model="sonnet", max_output_tokens=2000
budget agents <= 1000

type Finding:
    file: str
    line: int
    issue: str
    severity: "low" | "medium" | "high"

type Verdict:
    refuted: bool
    why: str

SEVERITIES = ["low", "medium", "high"]
'''

PHASE = '''
phase "Step {i}":
    # step {i}: find, dedupe, verify, summarise
    found_{i} = fanout f in take(files, 2):
        agent """
            Review {{f}} for {{focus}} problems (pass {i}).
            Report each finding with its file and line.
            """
            -> list[Finding] max 3
            with label="find {i} {{f}}", effort="low"
    flat_{i} = unique(flatten(found_{i}), by=(.file, .line))
    ranked_{i} = top(flat_{i}, 2, by=.severity)
    high_{i} = [x for x in ranked_{i} if x.severity == "high"]
    counts_{i} = {{total: len(ranked_{i}), high: len(high_{i}), label: "step {i}"}}
    names_{i} = join([x.file + ":" + str(x.line) for x in ranked_{i}], ", ")
    if len(high_{i}) > 0:
        log "step {i}: {{len(high_{i})}} high findings in {{names_{i}}}"
    else:
        log "step {i}: nothing high"
    summary_{i} = counts_{i} | {{names: names_{i}, ok: len(ranked_{i}) < 10}}
'''


def generate(lines: int = 5000) -> str:
    out = [HEADER]
    n = len(HEADER.splitlines())
    per = len(PHASE.splitlines())
    i = 0
    while n + per <= lines:
        out.append(PHASE.format(i=i))
        n += per
        i += 1
    out.append("\nreturn {done: true}\n")
    return "".join(out)


if __name__ == "__main__":
    print(generate())
