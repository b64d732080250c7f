"""The shared head of an agent's prompt, which both back ends send as its own cached block.

Agents of one fan-out (or review, vote, tournament, repeat, fix) whose prompts begin with
the same text can share a prompt-cache prefix: Claude Code 2.1.332 sends the first
`sharedHeadLength` characters of a prompt as a separate framed block with `cache_control`,
and the Python runtime's anthropic backend splits the user message the same way. Both
targets send the same prompt text; only the block boundary is added.

The head is the prompt template's static text before its first `{...}`, used when

- the agent's site can start more than one agent in a run (it stands inside a loop
  construct of its own workflow): a head nobody else sends is never read back;
- something follows it (a `{...}`: a wholly static prompt is shared whole anyway); and
- the head is at least `MIN_HEAD_CHARS` characters. Claude Code repeats its harness frame
  (421 characters) before the rest of a split prompt, so a split costs the first
  agent that frame once more, and each later agent reads frame + head from the cache
  instead of writing it: docs/decisions.md has the arithmetic and the measured figures.

The prefix before the head (tools and system prompt: about 4,400 tokens in Claude Code)
is already above every model's minimum cacheable length, so that minimum does not limit
the head. A split is made only when it is clean, as Claude Code makes it: the head and the
rest are both non-blank (JavaScript's `trim`), and the head does not end inside a UTF-16
surrogate pair (a static head never does). This module is the one implementation of the
rule; the emitter and the interpreter both read `shared_heads`.
"""

from __future__ import annotations

from wflang.dsl import ast

MIN_HEAD_CHARS = 200

LOOPS = (ast.Fanout, ast.Review, ast.Vote, ast.Tournament, ast.Repeat, ast.Fix)
_ONCE = frozenset({"iter", "count", "quorum", "lenses", "keep", "max", "stall", "options"})

# What JavaScript's String.prototype.trim removes: WhiteSpace and LineTerminator.
_JS_SPACE = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
             "\u2028\u2029\u202f\u205f\u3000\ufeff")


def js_blank(text: str) -> bool:
    """Whether JavaScript's `text.trim()` is empty."""
    return text.strip(_JS_SPACE) == ""


def utf16_length(text: str) -> int:
    """JavaScript's `text.length`: UTF-16 code units (a character beyond U+FFFF is two)."""
    return len(text.encode("utf-16-le")) // 2


def static_head(prompt: ast.Expr) -> str:
    """The static text a prompt template starts with ("" when it starts with `{...}` or
    is not a string literal)."""
    if isinstance(prompt, ast.StrLit) and prompt.parts and isinstance(prompt.parts[0], str):
        return prompt.parts[0]
    return ""


def varying(prompt: ast.Expr) -> bool:
    """Whether something follows the static head: a prompt with no `{...}` is the same for
    every agent of the site, so the ordinary breakpoint after it already shares it whole."""
    return isinstance(prompt, ast.StrLit) and len(prompt.parts) > 1


def shared_heads(program: ast.Program) -> dict[int, str]:
    """id(agent or check node) -> its shared head, for the agents of `program` (not of its
    `run` children: each program is read on its own) that get one."""
    heads: dict[int, str] = {}

    def visit(node: object, looped: bool) -> None:
        if isinstance(node, ast.Node):
            if isinstance(node, (ast.Agent, ast.Check)) and looped:
                head = static_head(node.prompt)
                if len(head) >= MIN_HEAD_CHARS and varying(node.prompt) and not js_blank(head):
                    heads[id(node)] = head
            loop = isinstance(node, LOOPS)
            for name in node.__dataclass_fields__:
                if name not in ("span", "program"):
                    # a loop's collection, count and options are evaluated once
                    visit(getattr(node, name), looped or (loop and name not in _ONCE))
        elif isinstance(node, (list, tuple)):
            for item in node:
                visit(item, looped)

    visit(program.body, False)
    return heads


def split(prompt: str, head: str | None) -> tuple[str, str] | None:
    """(head, rest) of a rendered prompt when it starts with `head` and the split is clean,
    else None (the prompt goes as one block)."""
    if not head or not prompt.startswith(head):
        return None
    rest = prompt[len(head):]
    if js_blank(head) or js_blank(rest) or "\ud800" <= head[-1] <= "\udbff":
        return None
    return head, rest
