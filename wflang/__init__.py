"""wflang: a small, total language for orchestrating many LLM subagents.

The public API: `load` a `.wf` file (parse + check, with its proven bound),
`compile_js` it to a Claude Code workflow script, or run it with `wf run`.
"""

from wflang.dsl.loader import Loaded, load

__all__ = ["Loaded", "load", "__version__"]
__version__ = "0.1.0"
