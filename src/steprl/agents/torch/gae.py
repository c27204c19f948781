"""Generalized Advantage Estimation as a pure function over ``[T, N]`` tensors."""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    discount_factor: float = 0.99,
    lambda_coefficient: float = 0.95,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns ``(returns, advantages)``, each shaped like ``rewards`` (``[T, N]`` or ``[T, N, 1]``).

    ``next_values[t]`` is the value of the observation that followed step ``t`` (for a finished episode: its true
    final observation). Termination cuts the bootstrap (the next value is 0); truncation keeps it (the episode
    was interrupted, not ended) but, like termination, stops the advantage recursion so that nothing leaks from
    the next episode::

        delta_t = r_t + γ · (1 - terminated_t) · V(s'_t) - V(s_t)
        A_t     = delta_t + γ · λ · (1 - done_t) · A_{t+1},   done_t = terminated_t | truncated_t
    """
    not_terminated = (~terminated.bool()).to(values.dtype)
    not_done = (~(terminated.bool() | truncated.bool())).to(values.dtype)
    deltas = rewards + discount_factor * not_terminated * next_values - values
    decay = discount_factor * lambda_coefficient * not_done
    advantages = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[0])
    for t in range(deltas.shape[0] - 1, -1, -1):
        running = deltas[t] + decay[t] * running
        advantages[t] = running
    return advantages + values, advantages
