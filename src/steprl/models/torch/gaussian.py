"""Diagonal Gaussian policy mixin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.core.distributions import check_reduction
from steprl.models.torch._distributions import gaussian_act, gaussian_entropy, reduce_last
from steprl.models.torch.base import register_action_bounds

__all__ = ["GaussianMixin"]


class GaussianMixin:
    """Gaussian policy: ``compute`` returns ``(mean_actions, log_std, outputs)``; ``log_std`` may be ``(act,)`` or ``(B, act)``.

    ``act`` samples ``mean + exp(log_std) * ε`` (reparameterised) with plain tensor ops and returns
    ``(actions, log_prob, outputs)``; ``outputs`` gains ``"mean_actions"``, ``"log_std"`` and ``"stddev"``
    (both expanded to the batch). The mean, log-std and std of the last :meth:`act` call are kept for
    :meth:`get_entropy`, :meth:`get_log_std` and :meth:`distribution` (the latter builds a
    ``torch.distributions.Normal`` from them on demand). Settings are per-mixin attributes; ``role`` is ignored.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        reduction: str = "sum",
        role: str = "",
    ) -> None:
        """Configure clipping and the log-prob ``reduction`` (``"mean"``, ``"sum"``, ``"prod"`` or ``"none"``)."""
        self._g_reduction = check_reduction(reduction)
        self._g_clip_actions = register_action_bounds(self, "_g", clip_actions, "GaussianMixin")  # type: ignore[arg-type]
        self._g_clip_log_std = bool(clip_log_std)
        self._g_log_std_min = float(min_log_std)
        self._g_log_std_max = float(max_log_std)
        self._g_last: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (mean, log_std, std)

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Sample actions; ``log_prob`` is of ``inputs["taken_actions"]`` when given, else of the actions.

        ``log_prob`` is reduced over the last dimension to ``(B, 1)`` (``"none"``: ``(B, act)``).
        Actions are clamped to the Box bounds when ``clip_actions`` is set.
        """
        mean, log_std, outputs = self.compute(inputs, role)  # type: ignore[attr-defined]
        if self._g_clip_log_std:
            log_std = torch.clamp(log_std, self._g_log_std_min, self._g_log_std_max)
        std = log_std.exp()
        if self._g_clip_actions:
            low, high = self._g_clip_actions_min, self._g_clip_actions_max  # type: ignore[attr-defined]
        else:
            low = high = None
        actions, log_prob = gaussian_act(mean, std, log_std, inputs.get("taken_actions"), low, high)
        if log_std.shape != mean.shape:
            log_std = log_std.expand_as(mean)
            std = std.expand_as(mean)
        self._g_last = (mean, log_std, std)
        outputs["mean_actions"] = mean
        outputs["log_std"] = log_std
        outputs["stddev"] = std
        return actions, reduce_last(log_prob, self._g_reduction), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Per-dimension entropy ``(B, act)`` of the last :meth:`act` distribution (a 0-d zero before any call)."""
        if self._g_last is None:
            return torch.tensor(0.0, device=self.device)  # type: ignore[attr-defined]
        return gaussian_entropy(self._g_last[1])

    def get_log_std(self, role: str = "") -> torch.Tensor:
        """Clamped log standard deviation ``(B, act)`` of the last :meth:`act` call."""
        if self._g_last is None:
            raise RuntimeError("get_log_std() needs a previous act() call")
        return self._g_last[1]

    def distribution(self, role: str = "") -> torch.distributions.Normal | None:
        """``Normal(mean, std)`` of the last :meth:`act` call (built on demand), or ``None`` before any call."""
        if self._g_last is None:
            return None
        mean, _, std = self._g_last
        return torch.distributions.Normal(mean, std)
