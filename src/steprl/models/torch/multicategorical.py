"""Multi-categorical (MultiDiscrete action) policy mixin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from steprl.core.distributions import check_reduction
from steprl.models.torch._distributions import (
    categorical_entropy,
    categorical_log_probs,
    categorical_sample,
    reduce_last,
)

__all__ = ["MultiCategoricalMixin"]


class MultiCategoricalMixin:
    """One categorical per ``action_space.nvec`` entry: ``compute`` returns ``(net_output, outputs)`` with the
    logits (or probabilities, ``unnormalized_log_prob=False``) of all sub-spaces concatenated on the last dim.

    ``act`` returns ``(actions (B, len(nvec)) int64, log_prob, outputs)``; per-sub-space log-probs are reduced
    by ``reduction`` to ``(B, 1)`` (``"none"``: ``(B, len(nvec))``). ``outputs`` gains ``"net_output"`` and
    ``"mean_actions"`` (greedy argmax per sub-space; steprl extension). Sub-spaces of unequal size are padded
    (zero probability) so every step is a handful of batched tensor ops. :meth:`distribution` builds the
    first sub-space's ``Categorical`` from the last network output on demand.
    """

    def __init__(self, unnormalized_log_prob: bool = True, reduction: str = "sum", role: str = "") -> None:
        """Read ``nvec`` from the MultiDiscrete action space; ``reduction`` is ``"mean"``, ``"sum"``, ``"prod"`` or ``"none"``."""
        if not hasattr(self, "action_space"):
            raise TypeError(
                f"Call Model.__init__(...) before MultiCategoricalMixin.__init__(...) in {type(self).__name__}"
            )
        nvec = getattr(self.action_space, "nvec", None)
        if nvec is None:
            raise TypeError(
                f"MultiCategoricalMixin needs a gymnasium MultiDiscrete action space, got {self.action_space!r}"
            )
        self._m_reduction = check_reduction(reduction)
        self._m_unnormalized_log_prob = bool(unnormalized_log_prob)
        self._m_nvec: list[int] = [int(n) for n in np.asarray(nvec).reshape(-1)]
        size, width = len(self._m_nvec), max(self._m_nvec)
        self._m_uniform = all(n == width for n in self._m_nvec)
        if not self._m_uniform:
            offsets = np.cumsum([0] + self._m_nvec[:-1])
            columns = np.arange(width)
            valid = columns[None, :] < np.asarray(self._m_nvec)[:, None]
            index = np.where(valid, offsets[:, None] + columns[None, :], 0)
            self.register_buffer("_m_index", torch.as_tensor(index.reshape(-1), device=self.device), persistent=False)  # type: ignore[attr-defined]
            self.register_buffer("_m_padding", torch.as_tensor(~valid, device=self.device), persistent=False)  # type: ignore[attr-defined]
        self._m_shape = (size, width)
        self._m_last: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (net_output, log_probs, probs)

    def _m_grouped(self, net_output: torch.Tensor) -> torch.Tensor:
        """``(..., sum(nvec))`` → ``(..., len(nvec), max(nvec))``, padding with ``-inf`` logits / zero probabilities."""
        if self._m_uniform:
            return net_output.reshape(*net_output.shape[:-1], *self._m_shape)
        grouped = net_output.index_select(-1, self._m_index).reshape(*net_output.shape[:-1], *self._m_shape)  # type: ignore[attr-defined]
        fill = float("-inf") if self._m_unnormalized_log_prob else 0.0
        return grouped.masked_fill(self._m_padding, fill)  # type: ignore[attr-defined]

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Sample actions; ``log_prob`` is of ``inputs["taken_actions"]`` ``(B, len(nvec))`` when given."""
        net_output, outputs = self.compute(inputs, role)  # type: ignore[attr-defined]
        log_probs, probs = categorical_log_probs(self._m_grouped(net_output), self._m_unnormalized_log_prob)
        actions = categorical_sample(probs.detach()).squeeze(-1)
        taken = inputs.get("taken_actions")
        index = (actions if taken is None else taken.reshape(actions.shape).long()).unsqueeze(-1)
        log_prob = torch.gather(log_probs, -1, index).squeeze(-1)
        self._m_last = (net_output, log_probs, probs)
        outputs["net_output"] = net_output
        outputs["mean_actions"] = torch.argmax(log_probs, dim=-1)
        return actions, reduce_last(log_prob, self._m_reduction), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy of the last :meth:`act` distributions reduced to ``(B, 1)`` (``"none"``: ``(B, len(nvec))``)."""
        if self._m_last is None:
            return torch.tensor(0.0, device=self.device)  # type: ignore[attr-defined]
        _, log_probs, probs = self._m_last
        return reduce_last(categorical_entropy(log_probs, probs), self._m_reduction)

    def distribution(self, role: str = "") -> torch.distributions.Categorical | None:
        """The first sub-space's ``Categorical`` of the last :meth:`act` call (built on demand), or ``None``."""
        if self._m_last is None:
            return None
        net_output = self._m_last[0]
        first = net_output[..., : self._m_nvec[0]]
        if self._m_unnormalized_log_prob:
            return torch.distributions.Categorical(logits=first)
        return torch.distributions.Categorical(probs=first)
