"""Pieces of the generated Python source (``return_source=True``) every backend writes the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["indent", "literal", "mixin_init"]


def literal(value: Any) -> str:
    """Python literal of ``value`` (strings with double quotes, like the rest of the generated code)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(literal(v) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    return repr(value)


def indent(lines: Sequence[str], level: int = 1) -> list[str]:
    """Indent every non-empty line by ``level`` × 4 spaces."""
    prefix = " " * (4 * level)
    return [prefix + line if line else line for line in lines]


def mixin_init(mixin: str, kwargs: Mapping[str, Any]) -> str:
    """``<Mixin>.__init__(self, key=value, ...)`` with literal values."""
    return f"{mixin}.__init__(self{''.join(f', {k}={literal(v)}' for k, v in kwargs.items())})"
