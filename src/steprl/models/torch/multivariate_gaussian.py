"""Multivariate Gaussian (diagonal covariance) policy mixin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.models.torch._distributions import GAUSSIAN_ENTROPY_CONST, gaussian_act
from steprl.models.torch.base import register_action_bounds

__all__ = ["MultivariateGaussianMixin"]


class MultivariateGaussianMixin:
    """Multivariate Gaussian policy with covariance ``diag(std²)``: ``compute`` returns ``(mean, log_std, outputs)``.

    Equivalent to ``MultivariateNormal(mean, scale_tril=diag_embed(exp(log_std)))`` (the standard deviation,
    not the variance, on the Cholesky diagonal), batch-safe for ``(act,)`` and ``(B, act)`` log-stds.
    Sampling and log-probs use plain tensor ops; :meth:`distribution` builds the torch object on demand from
    the last :meth:`act` call. ``outputs`` gains ``"mean_actions"``, ``"log_std"`` and ``"stddev"``.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        role: str = "",
    ) -> None:
        """Configure action and log-std clipping."""
        self._mg_clip_actions = register_action_bounds(self, "_mg", clip_actions, "MultivariateGaussianMixin")  # type: ignore[arg-type]
        self._mg_clip_log_std = bool(clip_log_std)
        self._mg_log_std_min = float(min_log_std)
        self._mg_log_std_max = float(max_log_std)
        self._mg_last: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (mean, log_std, std)

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Sample actions; ``log_prob`` ``(B, 1)`` is of ``inputs["taken_actions"]`` when given, else of the actions."""
        mean, log_std, outputs = self.compute(inputs, role)  # type: ignore[attr-defined]
        if self._mg_clip_log_std:
            log_std = torch.clamp(log_std, self._mg_log_std_min, self._mg_log_std_max)
        std = log_std.exp()
        if self._mg_clip_actions:
            low, high = self._mg_clip_actions_min, self._mg_clip_actions_max  # type: ignore[attr-defined]
        else:
            low = high = None
        actions, log_prob = gaussian_act(mean, std, log_std, inputs.get("taken_actions"), low, high)
        if log_std.shape != mean.shape:
            log_std = log_std.expand_as(mean)
            std = std.expand_as(mean)
        self._mg_last = (mean, log_std, std)
        outputs["mean_actions"] = mean
        outputs["log_std"] = log_std
        outputs["stddev"] = std
        return actions, log_prob.sum(dim=-1, keepdim=True), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy ``(B,)`` of the last :meth:`act` distribution (a 0-d zero before any call)."""
        if self._mg_last is None:
            return torch.tensor(0.0, device=self.device)  # type: ignore[attr-defined]
        log_std = self._mg_last[1]
        return log_std.sum(dim=-1) + log_std.shape[-1] * GAUSSIAN_ENTROPY_CONST

    def get_log_std(self, role: str = "") -> torch.Tensor:
        """Clamped log standard deviation ``(B, act)`` of the last :meth:`act` call."""
        if self._mg_last is None:
            raise RuntimeError("get_log_std() needs a previous act() call")
        return self._mg_last[1]

    def distribution(self, role: str = "") -> torch.distributions.MultivariateNormal | None:
        """``MultivariateNormal(mean, scale_tril=diag_embed(std))`` of the last :meth:`act` call, or ``None``."""
        if self._mg_last is None:
            return None
        mean, _, std = self._mg_last
        return torch.distributions.MultivariateNormal(mean, scale_tril=torch.diag_embed(std))
