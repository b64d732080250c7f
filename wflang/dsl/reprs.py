"""One `__repr__` for many dataclasses, the same text the generated one gives.

`@dataclass` writes a `__repr__` per class by compiling Python source at import (an
`exec` of a generated function): for the 62 node classes of ast.py alone that was a
quarter of the module's import. The tree, the checker's types and the size formulas
share this function instead (their classes say `repr=False` and name it), made once;
a repr is built only when something asks for one (a test failure, a debugger).
"""

from __future__ import annotations

import dataclasses
import reprlib


@reprlib.recursive_repr()  # a node that contains itself shows as `...`, as the generated one does
def field_repr(self: object) -> str:
    """`Name(field=value!r, ...)` over the dataclass fields that have `repr=True`."""
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)  # type: ignore[arg-type]
    return f"{self.__class__.__qualname__}({shown})"
