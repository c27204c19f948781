"""Pure loss functions of DQN (Mnih et al., 2015) and double DQN (van Hasselt et al., 2016)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["dqn_loss", "dqn_targets"]


def dqn_targets(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_target_q: torch.Tensor,
    discount_factor: float,
    next_online_q: torch.Tensor | None = None,
) -> torch.Tensor:
    """One-step TD targets ``r + γ·(1 - terminated)·Q'(s', a*)``, shape ``(B, 1)``.

    - ``next_target_q``: target-network action values of the next observations, ``(B, num_actions)``;
    - DQN (``next_online_q`` is ``None``): ``a* = argmax_a Q'(s', a)`` (the max of the target network);
    - double DQN: ``a* = argmax_a Q(s', a)`` from the online network's ``next_online_q``, evaluated by the target
      network.

    Only ``terminated`` stops the bootstrap: a truncated transition bootstraps from its true next observation.
    """
    if next_online_q is None:
        next_values = next_target_q.max(dim=-1, keepdim=True).values
    else:
        next_values = next_target_q.gather(-1, next_online_q.argmax(dim=-1, keepdim=True))
    not_terminated = terminated.logical_not().to(next_values.dtype)
    return rewards + discount_factor * not_terminated * next_values


def dqn_loss(q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared TD error between ``Q(s, a)`` of the taken ``actions`` ``(B, 1)`` (int64) and ``targets``
    ``(B, 1)`` (as skrl; no gradient flows into ``targets``)."""
    taken = q_values.gather(-1, actions.long().view(-1, 1))
    return F.mse_loss(taken, targets.detach())
