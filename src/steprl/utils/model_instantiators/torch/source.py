"""Rendering of readable, self-contained Python source for ``return_source=True`` (torch classes)."""

from __future__ import annotations

from collections.abc import Sequence

from steprl.utils.model_instantiators.common.source import indent, literal, mixin_init

__all__ = ["indent", "literal", "mixin_init", "render_class"]


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
