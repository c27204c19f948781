"""SAC's losses as pure functions of batch tensors (Haarnoja et al., 2018, "Soft Actor-Critic Algorithms and
Applications": clipped double-Q soft targets and automatic temperature tuning).
"""

from __future__ import annotations

import torch

from steprl.agents.torch.ddpg.losses import weighted_mse


def sac_critic_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q1: torch.Tensor,
    next_q2: torch.Tensor,
    next_log_prob: torch.Tensor,
    alpha: torch.Tensor | float,
    discount_factor: float,
) -> torch.Tensor:
    """Soft Bellman target ``r + γ·(1 − terminated)·(min(Q1', Q2') − α·log π(a'|s'))`` (``(B, 1)``, no gradient).

    Only termination stops the bootstrap: a truncated transition bootstraps from its true next observation.
    """
    with torch.no_grad():
        next_values = torch.min(next_q1, next_q2) - alpha * next_log_prob
        return rewards + discount_factor * (~terminated.bool()).to(rewards.dtype) * next_values


def sac_critic_loss(
    q1: torch.Tensor, q2: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """``(MSE(Q1, y) + MSE(Q2, y)) / 2`` (the target carries no gradient; ``weights``: weighted means)."""
    target = target.detach()
    return 0.5 * (weighted_mse(q1, target, weights) + weighted_mse(q2, target, weights))


def sac_policy_loss(
    log_prob: torch.Tensor, q1: torch.Tensor, q2: torch.Tensor, alpha: torch.Tensor | float
) -> torch.Tensor:
    """``E[α·log π(a|s) − min(Q1(s, a), Q2(s, a))]`` for reparameterised actions ``a ~ π(·|s)``."""
    return (alpha * log_prob - torch.min(q1, q2)).mean()


def sac_entropy_loss(log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Temperature loss ``−log α · E[log π + H_target]`` (gradient only to ``log_alpha``).

    When the policy's entropy ``−E[log π]`` is below the target, ``E[log π] + H_target > 0`` and gradient descent
    raises ``log α``; above the target it lowers it.
    """
    return -(log_alpha * (log_prob.detach() + target_entropy)).mean()
