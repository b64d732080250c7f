"""Each builtin is declared once (wflang/dsl/builtins) and every reader takes it from
there: the checker's names, the runtime's Python meaning, the emitter's JS helper."""

from __future__ import annotations

from wflang.dsl import builtins
from wflang.dsl.checker import BUILTINS
from wflang.transpiler.emit import HELPER_NAMES, _Emitter


def test_every_builtin_is_complete() -> None:
    assert BUILTINS == builtins.NAMES
    assert set(builtins.NAMES) == set(builtins.REGISTRY)
    for name, b in builtins.REGISTRY.items():
        assert b.name == name and builtins.get(name) is b
        assert callable(b.py), name
        assert b.usage.startswith(name + "("), name
        assert b.js in HELPER_NAMES, f"{name}: no helper `{b.js}` in prelude.js"
        assert b.arity[0] <= b.arity[1], name
        assert type(b).check is not builtins.Builtin.check, f"{name} has no type rule"


def test_emitter_methods_are_for_declared_builtins_only() -> None:
    extra = {m[len("call_"):] for m in dir(_Emitter) if m.startswith("call_")} - set(builtins.REGISTRY)
    assert extra == set()

