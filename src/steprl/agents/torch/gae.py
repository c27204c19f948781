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
    done = terminated.bool() | truncated.bool()
    deltas = rewards + discount_factor * not_terminated * next_values - values
    decay = discount_factor * lambda_coefficient
    if _closed_form_applies(deltas, decay):
        advantages = _closed_form(deltas, done, decay)
    else:
        advantages = _recursion(deltas, done, decay)
    return advantages + values, advantages


def _recursion(deltas: torch.Tensor, done: torch.Tensor, decay: float) -> torch.Tensor:
    """``A_t = delta_t + decay · (1 - done_t) · A_{t+1}``, one step at a time."""
    factors = decay * (~done).to(deltas.dtype)
    advantages = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[0])
    for t in range(deltas.shape[0] - 1, -1, -1):
        running = deltas[t] + factors[t] * running
        advantages[t] = running
    return advantages


def _closed_form_applies(deltas: torch.Tensor, decay: float) -> bool:
    """Float64 is available and ``decay ** T`` stays far from float64's underflow (T below ~7,000 at 0.9405)."""
    return deltas.device.type != "mps" and (decay == 0.0 or (0.0 < decay and decay ** deltas.shape[0] > 1e-250))


def _closed_form(deltas: torch.Tensor, done: torch.Tensor, decay: float) -> torch.Tensor:
    """The recursion of :func:`_recursion` in a dozen batched operations instead of three per step.

    ``A_t = sum_{k=t..e} decay^(k-t) delta_k`` with ``e`` the first episode end at or after ``t``. With
    ``S_t = sum_{k>=t} decay^k delta_k`` (a reversed cumulative sum), ``A_t = (S_t - S_{e+1}) / decay^t``;
    computed in float64, so the rescaling loses nothing that matters.
    """
    if decay == 0.0:
        return deltas.clone()
    shape = deltas.shape
    steps = shape[0]
    flat = deltas.reshape(steps, -1).double()
    index = torch.arange(steps, device=deltas.device)
    scale = torch.pow(torch.tensor(decay, dtype=torch.float64, device=deltas.device), index.double()).unsqueeze(1)
    tail = torch.zeros(steps + 1, flat.shape[1], dtype=torch.float64, device=deltas.device)
    tail[:steps] = (flat * scale).flip(0).cumsum(0).flip(0)
    after_end = torch.where(done.reshape(steps, -1), index.unsqueeze(1) + 1, steps)
    after_end = after_end.flip(0).cummin(0).values.flip(0)
    return ((tail[:steps] - tail.gather(0, after_end)) / scale).to(deltas.dtype).view(shape)
