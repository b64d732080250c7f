"""The `wf check` report: human text and the JSON form for CI, from the same facts."""

from __future__ import annotations

from typing import Any

from wflang.dsl.bounds import AGENT_CAP, Bound
from wflang.dsl.diagnostics import Diagnostic, render
from wflang.dsl.loader import Loaded


def human(loaded: Loaded, args_path: str | None = None, sizes: dict[str, int] | None = None,
          arg_diags: list[Diagnostic] | None = None) -> str:
    lines: list[str] = []
    diags = list(loaded.diagnostics) + list(arg_diags or [])
    errors = [d for d in diags if d.severity == "error"]
    for d in diags:
        in_args = d.code.startswith("WF4") and d.span is None  # a located WF405 is a `require` line
        lines.append(render(d, args_path if in_args and args_path else loaded.path,
                            None if in_args else loaded.source))
        lines.append("")
    if errors:
        n = len(errors)
        summary = f"{loaded.path}: {n} error{'s' if n != 1 else ''}"
        if args_path and all(d.code.startswith("WF4") for d in errors):
            summary += f" in the arguments ({args_path})"
        lines.append(summary)
        return "\n".join(lines)
    assert loaded.result is not None and loaded.result.bound is not None
    b = loaded.result.bound
    lines.append(f"{loaded.path}: ok")
    lines.extend(bound_lines(b, {ph.title for ph in loaded.program.phases()}))
    perms = loaded.program.header.permissions
    lines.append(f"permissions: {', '.join(perms) if perms else 'read-only'}")
    if sizes is not None:
        given = ", ".join(f"{k}: {v}" for k, v in sizes.items()) or "defaults"
        batch = f" ({b.batchable_for(sizes)} batchable)" if b.batchable is not None else ""
        lines.append(f"with --args {args_path} ({given}): at most {b.evaluate(sizes)}{batch}")
    return "\n".join(lines)


def bound_lines(b: Bound, block_titles: set[str] | None = None) -> list[str]:
    env = b.worst_env
    limits = f"cap {AGENT_CAP}" + (f", budget {b.agent_budget}" if b.agent_budget is not None else "")
    out = [f"agents, worst case: {b.numeric_formula()} = {b.total}   ({limits})"]
    if b.inputs:
        maxima = ", ".join(f"{i.name} ≤ {i.max}" for i in b.inputs)
        out.append(f"  formula: {b.formula()}   ({maxima})")
    phases = b.phases()
    width = max([len(p) for p, _ in phases] + [5])
    num = max([len(str(n)) for _, n in phases] + [3])
    for title, n in phases:
        terms = [t for t in b.shown_terms() if (t.phase or "(top level)") == title]
        if not terms and block_titles is not None and title not in block_titles:
            # A phase named only by agents' `phase=` option: they are counted in the
            # statement (and phase block) that starts them.
            out.append(f"  {title:<{width}}  {'·':>{num}}   agents shown here are counted where they start (phase= option)")
        elif not terms:
            out.append(f"  {title:<{width}}  {n:>{num}}   no agents")
        elif len(terms) == 1:
            out.append(f"  {title:<{width}}  {n:>{num}}   {terms[0].desc} [line {terms[0].line}]")
        else:
            # A phase with several agent-starting statements: its total, then each one.
            out.append(f"  {title:<{width}}  {n:>{num}}")
            for t in terms:
                out.append(f"  {'':<{width}}  {t.worst.eval(env):>{num}}   {t.desc} [line {t.line}]")
    out.extend(batchable_lines(b))
    tokens = b.tokens_for()
    if tokens is None:
        out.append("output tokens, worst case: unknown (set max_output_tokens in `defaults` to bound them)")
    else:
        budget = f"   (budget {b.token_budget})" if b.token_budget is not None else ""
        out.append(f"output tokens, worst case: {tokens}{budget}")
    return out


def batchable_lines(b: Bound) -> list[str]:
    """How many of the worst-case agents are tool-less, so `wf run --batch` can send them
    through the Message Batches API; nothing when no agent is."""
    if b.batchable is None:
        return []
    per = b.batchable_phases()
    phases = b.phases()
    out = [f"batchable (tools=none), worst case: {b.batchable_for()} of {b.total}   "
           "(wf run --batch sends them as message batches, at half price)"]
    width = max([len(p) for p, _ in phases] + [5])
    num = max([len(str(n)) for _, n in phases] + [3])
    for title, n in phases:
        out.append(f"  {title:<{width}}  {per.get(title, 0):>{num}} of {n}")
    return out


def as_json(loaded: Loaded, args_path: str | None = None, sizes: dict[str, int] | None = None,
            arg_diags: list[Diagnostic] | None = None) -> dict[str, Any]:
    diags = list(loaded.diagnostics) + list(arg_diags or [])
    out: dict[str, Any] = {
        "file": loaded.path,
        "ok": not any(d.severity == "error" for d in diags),
        "diagnostics": [d.as_json(args_path if d.code.startswith("WF4") and d.span is None and args_path
                                  else loaded.path)
                        for d in diags],
    }
    if loaded.result is not None and loaded.result.bound is not None and out["ok"]:
        b = loaded.result.bound
        out["workflow"] = loaded.program.header.name
        out["permissions"] = loaded.program.header.permissions
        out["bound"] = b.as_json()
        if sizes is not None:
            out["args"] = {"file": args_path, "sizes": sizes, "bound": b.as_json(sizes)}
    return out
