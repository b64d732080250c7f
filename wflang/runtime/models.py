"""Model aliases: the one table mapping `sonnet`, `opus`, `haiku` to concrete model ids.

A workflow names models by alias so it keeps working when new models ship; the ids live
here only. Users override or extend the table with the `WF_MODELS` environment variable
(a JSON object alias -> id) or by passing `overrides`; a full model id passes through.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

from wflang.dsl import jsonread

# Current ids per the Anthropic models overview (Claude 5.5 family).
ALIASES: dict[str, str] = {
    "opus": "claude-opus-5-5",
    "sonnet": "claude-sonnet-5-5",
    "haiku": "claude-haiku-5-5",
}

# The alias used when a request names no model; resolved through the table, so
# overriding `sonnet` in WF_MODELS also moves the default.
DEFAULT_ALIAS = "sonnet"

ENV_VAR = "WF_MODELS"

# The Message Batches API bills input and output tokens at half the list price
# (`wf run --batch`; the cost estimates of `--sample` use it for tool-less agents).
BATCH_PRICE_FACTOR = 0.5

# A bare lowercase word can only be an alias (real ids carry a dash, dot, colon...), so
# an unknown one is a typo we report instead of sending it to the API.
_BARE_WORD = r"^[a-z]+$"  # compiled on first use (re's cache): most names are in the table


class ModelConfigError(ValueError):
    """A model name or the WF_MODELS table is unusable."""


def _env_overrides(env: Mapping[str, str]) -> dict[str, str]:
    raw = env.get(ENV_VAR)
    if raw is None or not raw.strip():
        return {}
    try:
        table = jsonread.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelConfigError(f"{ENV_VAR} is not valid JSON: {exc}") from None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in table.items()
    ):
        raise ModelConfigError(
            f'{ENV_VAR} must be a JSON object of alias -> model id strings, e.g. {{"sonnet": "claude-..."}}'
        )
    return table


def model_table(
    overrides: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The effective alias table: built-ins, then WF_MODELS, then `overrides`."""
    table = dict(ALIASES)
    table.update(_env_overrides(os.environ if env is None else env))
    if overrides:
        table.update(overrides)
    return table


def resolve_model(
    name: str | None,
    overrides: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    default: str | None = None,
) -> str:
    """The concrete model id for `name` (an alias, a full id, or None for the default).

    `default` replaces DEFAULT_ALIAS as the fallback and may itself be an alias or an id.
    """
    table = model_table(overrides, env)
    if name is None or not name.strip():
        name = default or DEFAULT_ALIAS
    name = name.strip()
    if name in table:
        return table[name]
    if re.match(_BARE_WORD, name):
        known = ", ".join(sorted(table))
        raise ModelConfigError(
            f"unknown model alias {name!r} (known: {known}); give a full model id or add it to {ENV_VAR}"
        )
    return name
