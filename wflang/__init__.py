"""wflang: a small, total language for orchestrating many LLM subagents.

The public API: `load` a `.wf` file (parse + check, with its proven bound), then compile
it (`wflang.transpiler.emit.compile_js`) or run it (`wf run`). Imports are lazy so the
`wf` command starts fast.
"""

from typing import Any

__all__ = ["load", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "load":
        from wflang.dsl.loader import load

        return load
    raise AttributeError(name)
