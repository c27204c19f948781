"""How the torch instantiators run and write the parsed ``input``/``output`` expressions (``TORCH_OPS``)."""

from __future__ import annotations

import torch

from steprl.utils.model_instantiators.common.expressions import (
    INPUT_GRAMMAR,
    INPUT_TOKENS,
    OUTPUT_ACTIVATIONS,
    OUTPUT_GRAMMAR,
    Concat,
    Expr,
    OutputSpec,
    Permute,
    Ref,
    parse_input,
    parse_output,
)

__all__ = [
    "INPUT_GRAMMAR",
    "INPUT_TOKENS",
    "OUTPUT_ACTIVATIONS",
    "OUTPUT_GRAMMAR",
    "TORCH_OPS",
    "Concat",
    "Expr",
    "OutputSpec",
    "Permute",
    "Ref",
    "parse_input",
    "parse_output",
]

#: output activation → source of the functional call (``{x}`` is the argument)
_ACTIVATION_SOURCES: dict[str, str] = {
    "elu": "nn.functional.elu({x})",
    "leaky_relu": "nn.functional.leaky_relu({x})",
    "relu": "torch.relu({x})",
    "selu": "nn.functional.selu({x})",
    "sigmoid": "torch.sigmoid({x})",
    "softmax": "nn.functional.softmax({x}, dim=-1)",
    "softplus": "nn.functional.softplus({x})",
    "softsign": "nn.functional.softsign({x})",
    "tanh": "torch.tanh({x})",
}


class TorchExprOps:
    def concat(self, arrays: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(arrays, dim=1)

    def permute(self, array: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
        return array.permute(*dims)

    def activation(self, name: str, array: torch.Tensor) -> torch.Tensor:
        functional = torch.nn.functional
        if name == "softmax":
            return functional.softmax(array, dim=-1)
        if name in ("relu", "sigmoid", "tanh"):
            return getattr(torch, name)(array)
        return getattr(functional, name)(array)

    def concat_source(self, items: list[str]) -> str:
        return f"torch.cat([{', '.join(items)}], dim=1)"

    def permute_source(self, item: str, dims: tuple[int, ...]) -> str:
        return f"{item}.permute({', '.join(map(str, dims))})"

    def activation_source(self, name: str, variable: str) -> str:
        return _ACTIVATION_SOURCES[name].format(x=variable)


TORCH_OPS = TorchExprOps()
