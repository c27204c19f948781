"""A group of critics evaluated on the same inputs (SAC's and TD3's twin critics and their targets).

Separate (the default): one ``act`` pass per critic. Batched: structurally identical critics (same class, same
parameter and buffer names, shapes, dtypes and devices, no shared tensors) run as one ensemble —
``torch.func.functional_call`` of the first critic vmapped over their parameters, stacked anew at every call so that
gradients reach each critic's own parameters (and stacked without gradient where those are frozen). The critics stay
separate modules: their state dicts, checkpoint names and optimizers do not change.

The batched pass evaluates the first critic's ``act`` with the first critic's role for all of them, so a model whose
``compute`` branches on the role must stay separate. A model whose forward pass cannot be vmapped (random
operations, reading values to the host, data-dependent control flow) falls back to separate passes with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

from steprl import logger

__all__ = ["CriticGroup", "ensemble_incompatibility"]


def _layout(module: nn.Module) -> list[tuple[str, tuple[int, ...], torch.dtype, torch.device]]:
    tensors = [*module.named_parameters(), *module.named_buffers()]
    return [(name, tuple(t.shape), t.dtype, t.device) for name, t in tensors]


def ensemble_incompatibility(models: Sequence[nn.Module]) -> str | None:
    """Why ``models`` cannot be evaluated as one batched ensemble (``None``: they can)."""
    if len(models) < 2:
        return f"an ensemble needs at least two models, got {len(models)}"
    first = models[0]
    if not isinstance(first, nn.Module):
        return f"the models must be torch modules, got {type(first).__name__}"
    seen: set[int] = set()
    for index, model in enumerate(models):
        if type(model) is not type(first):
            return f"model {index} is a {type(model).__name__}, model 0 a {type(first).__name__} (the classes must match)"
        if _layout(model) != _layout(first):
            return f"model {index}'s parameters or buffers differ from model 0's in names, shapes, dtypes or devices"
        ids = {id(t) for t in [*model.parameters(), *model.buffers()]}
        if ids & seen:
            return f"model {index} shares parameters or buffers with another model of the group"
        seen |= ids
    return None


class CriticGroup:
    """Evaluate critics on the same inputs: ``group(inputs)`` is the list of each critic's ``act(inputs)[0]``."""

    def __init__(self, models: Sequence[Any], roles: Sequence[str]) -> None:
        if len(models) != len(roles):
            raise ValueError(f"CriticGroup: {len(models)} models but {len(roles)} roles")
        self.models = list(models)
        self.roles = list(roles)
        self._batched = False
        self._names: list[str] = []
        self._tensors: list[list[torch.Tensor]] = []

    @property
    def batched(self) -> bool:
        """Whether the critics run as one batched ensemble (else one pass each)."""
        return self._batched

    @batched.setter
    def batched(self, enabled: bool) -> None:
        if enabled:
            reason = ensemble_incompatibility(self.models)
            if reason is not None:
                raise ValueError(f"The critics {self.roles} cannot be evaluated as one batched ensemble: {reason}")
            first = self.models[0]
            self._names = [name for name, _ in (*first.named_parameters(), *first.named_buffers())]
            self._tensors = [[*m.parameters(), *m.buffers()] for m in self.models]
        self._batched = bool(enabled)

    def __call__(self, inputs: Mapping[str, Any]) -> list[torch.Tensor]:
        """Each critic's values for ``inputs`` (the same for all of them), in the group's order."""
        if self._batched:
            try:
                return list(self._ensemble(inputs).unbind(0))
            except Exception as error:  # noqa: BLE001 (any failure of the vmapped pass: fall back, warn once)
                logger.warning(
                    f"The critics {self.roles} cannot be evaluated as one batched ensemble "
                    f"({type(error).__name__}: {error}); evaluating them one by one from now on"
                )
                self._batched = False
        return [model.act(inputs, role=role)[0] for model, role in zip(self.models, self.roles)]

    def _ensemble(self, inputs: Mapping[str, Any]) -> torch.Tensor:
        """``(K, B, ...)`` values of the K critics from one vmapped pass over their stacked tensors."""
        stacked = {name: torch.stack(group) for name, group in zip(self._names, zip(*self._tensors))}
        first, role = self.models[0], self.roles[0]

        def one(tensors: dict[str, torch.Tensor], shared: Mapping[str, Any]) -> torch.Tensor:
            return functional_call(first, tensors, (shared,), {"role": role})[0]

        return vmap(one, in_dims=(0, None))(stacked, inputs)
