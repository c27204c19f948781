"""Categorical (discrete action) policy mixin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.models.torch._distributions import (
    categorical_entropy,
    categorical_gather,
    categorical_log_probs,
    categorical_sample,
)

__all__ = ["CategoricalMixin"]


class CategoricalMixin:
    """Categorical policy: ``compute`` returns ``(net_output, outputs)``, logits if ``unnormalized_log_prob`` else probabilities.

    ``act`` returns ``(actions (B, 1) int64, log_prob (B, 1), outputs)`` computed with plain tensor ops;
    ``outputs`` gains ``"net_output"`` and ``"mean_actions"``, the greedy (argmax) action ``(B, 1)``
    (steprl extension, so deterministic evaluation works for discrete policies). The normalised
    log-probabilities of the last :meth:`act` call are kept for :meth:`get_entropy`; :meth:`distribution`
    builds a ``torch.distributions.Categorical`` from the last network output on demand.
    """

    def __init__(self, unnormalized_log_prob: bool = True, role: str = "") -> None:
        """``unnormalized_log_prob``: ``compute`` returns logits (``True``) or probabilities (``False``)."""
        if not hasattr(self, "action_space"):
            raise TypeError(f"Call Model.__init__(...) before CategoricalMixin.__init__(...) in {type(self).__name__}")
        self._c_unnormalized_log_prob = bool(unnormalized_log_prob)
        self._c_last: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (net_output, log_probs, probs)

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Sample actions; ``log_prob`` is of ``inputs["taken_actions"]`` (float or int, ``(B, 1)``) when given."""
        net_output, outputs = self.compute(inputs, role)  # type: ignore[attr-defined]
        log_probs, probs = categorical_log_probs(net_output, self._c_unnormalized_log_prob)
        actions = categorical_sample(probs.detach())
        taken = inputs.get("taken_actions")
        log_prob = categorical_gather(log_probs, actions if taken is None else taken)
        self._c_last = (net_output, log_probs, probs)
        outputs["net_output"] = net_output
        outputs["mean_actions"] = torch.argmax(net_output, dim=-1, keepdim=True)
        return actions, log_prob, outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy ``(B,)`` of the last :meth:`act` distribution (a 0-d zero before any call)."""
        if self._c_last is None:
            return torch.tensor(0.0, device=self.device)  # type: ignore[attr-defined]
        _, log_probs, probs = self._c_last
        return categorical_entropy(log_probs, probs)

    def distribution(self, role: str = "") -> torch.distributions.Categorical | None:
        """``Categorical`` of the last :meth:`act` call (built on demand), or ``None`` before any call."""
        if self._c_last is None:
            return None
        net_output = self._c_last[0]
        if self._c_unnormalized_log_prob:
            return torch.distributions.Categorical(logits=net_output)
        return torch.distributions.Categorical(probs=net_output)
