"""Pure functions of TD3 (Fujimoto et al., 2018): target policy smoothing and the clipped double-Q target.

The critic and policy losses are DDPG's (:mod:`steprl.agents.torch.ddpg.losses`), re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from steprl.agents.torch.ddpg.losses import bootstrapped_target, critic_loss, deterministic_policy_loss

__all__ = [
    "bootstrapped_target",
    "clipped_double_q_target",
    "critic_loss",
    "deterministic_policy_loss",
    "smoothed_target_actions",
]


def smoothed_target_actions(
    target_actions: torch.Tensor,
    noise: torch.Tensor,
    noise_clip: float,
    low: torch.Tensor | None = None,
    high: torch.Tensor | None = None,
) -> torch.Tensor:
    """Target policy smoothing: ``clamp(a' + clamp(noise, ±noise_clip), low, high)`` (no bounds: no final clamp)."""
    actions = target_actions + noise.clamp(-noise_clip, noise_clip)
    if low is not None and high is not None:
        actions = torch.clamp(actions, min=low, max=high)
    return actions


def clipped_double_q_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_values: Sequence[torch.Tensor],
    discount_factor: float,
) -> torch.Tensor:
    """``r + γ · (1 - terminated) · min_i Q'_i(s', a')`` (one critic: the plain DDPG target)."""
    next_q = next_q_values[0]
    for q in next_q_values[1:]:
        next_q = torch.minimum(next_q, q)
    return bootstrapped_target(rewards, terminated, next_q, discount_factor)
