"""Deterministic model mixin (deterministic policies, value functions, Q-functions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.models.torch.base import register_action_bounds

__all__ = ["DeterministicMixin"]


class DeterministicMixin:
    """Deterministic output: ``compute`` returns ``(actions, outputs)``; ``act`` returns ``(actions, None, outputs)``.

    ``outputs["mean_actions"]`` is set to the (clamped) actions as well (steprl extension, so deterministic
    evaluation treats every policy alike). Settings are per-mixin attributes; ``role`` is ignored.
    """

    def __init__(self, clip_actions: bool = False, role: str = "") -> None:
        """Clamp actions to the Box bounds of the action space when ``clip_actions`` is set."""
        self._d_clip_actions = register_action_bounds(self, "_d", clip_actions, "DeterministicMixin")  # type: ignore[arg-type]

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, None, dict]:
        """Run :meth:`compute` and clamp the actions if configured."""
        actions, outputs = self.compute(inputs, role)  # type: ignore[attr-defined]
        if self._d_clip_actions:
            actions = torch.clamp(actions, min=self._d_clip_actions_min, max=self._d_clip_actions_max)  # type: ignore[attr-defined]
        outputs["mean_actions"] = actions
        return actions, None, outputs
