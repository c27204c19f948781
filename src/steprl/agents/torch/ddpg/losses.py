"""Pure loss functions of DDPG (Lillicrap et al., 2016), reused by TD3.

Every function takes tensors and plain numbers and returns tensors: no model, optimizer or agent state.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["bootstrapped_target", "critic_loss", "deterministic_policy_loss", "weighted_mse"]


def bootstrapped_target(
    rewards: torch.Tensor, terminated: torch.Tensor, next_q_values: torch.Tensor, discount_factor: float
) -> torch.Tensor:
    """One-step TD target ``r + γ · (1 - terminated) · Q'(s', a')``.

    Only ``terminated`` stops the bootstrap: a truncated transition (time limit) bootstraps from the value of its
    true next observation, which the replay memory stores.
    """
    return rewards + discount_factor * next_q_values * terminated.logical_not()


def weighted_mse(prediction: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error; with ``weights`` (same shape, not all zero) the weighted mean ``Σ w·(p − y)² / Σ w``."""
    if weights is None:
        return F.mse_loss(prediction, target)
    return (weights * (prediction - target).square()).sum() / weights.sum()


def critic_loss(
    q_values: Sequence[torch.Tensor], target_values: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over the critics of the (``weights``-weighted) mean squared TD error (DDPG: one critic; TD3:
    ``(MSE_1 + MSE_2) / 2``)."""
    if not q_values:
        raise ValueError("critic_loss needs the values of at least one critic")
    losses = [weighted_mse(q, target_values, weights) for q in q_values]
    return losses[0] if len(losses) == 1 else torch.stack(losses).mean()


def deterministic_policy_loss(q_values: torch.Tensor) -> torch.Tensor:
    """Deterministic policy gradient objective ``-mean Q(s, π(s))`` (the critic's parameters are not optimised)."""
    return -q_values.mean()
