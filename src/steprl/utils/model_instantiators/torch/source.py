"""Rendering of readable, self-contained Python source for ``return_source=True``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["indent", "literal", "mixin_init", "render_class"]


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


def render_class(name: str, mixins: Sequence[str], init_body: Sequence[str], methods: Sequence[Sequence[str]]) -> str:
    """Module source: imports, then ``class <name>(<mixins>, Model)`` with ``__init__`` and ``methods``.

    ``methods`` are full method definitions (``def`` line first), unindented.
    """
    imports = ", ".join(sorted({*mixins, "Model"}))
    lines = [
        "import torch",
        "from torch import nn",
        "",
        f"from steprl.models.torch import {imports}",
        "",
        "",
        f"class {name}({', '.join(mixins)}, Model):",
        "    def __init__(self, observation_space=None, action_space=None, device=None):",
        *indent(
            ["Model.__init__(self, observation_space, action_space, device)", *init_body, "self.to(self.device)"], 2
        ),
    ]
    for method in methods:
        lines += ["", *indent(method)]
    return "\n".join(lines) + "\n"
