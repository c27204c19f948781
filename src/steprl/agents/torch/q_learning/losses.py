"""Pure tabular temporal-difference functions shared by Q_LEARNING and SARSA.

Tables have shape ``(T, S, A)``: ``T`` is either the number of environments (one table per environment, as in skrl)
or 1 (one table shared by every environment). ``rows`` selects each environment's table.
"""

from __future__ import annotations

import torch

__all__ = ["q_learning_targets", "sarsa_targets", "table_rows", "td_update_"]


def table_rows(q_table: torch.Tensor, num_envs: int) -> torch.Tensor:
    """Index of the table each of ``num_envs`` environments uses: its own (``T == num_envs``) or the shared one."""
    tables = q_table.shape[0]
    if tables == num_envs:
        return torch.arange(num_envs, device=q_table.device)
    if tables == 1:
        return torch.zeros(num_envs, dtype=torch.long, device=q_table.device)
    raise ValueError(
        f"q_table has {tables} tables (shape {tuple(q_table.shape)}) for {num_envs} environments: "
        f"expected shape ({num_envs}, n_states, n_actions) (one table per environment) or (1, n_states, n_actions) (shared)"
    )


def q_learning_targets(
    q_table: torch.Tensor,
    rows: torch.Tensor,
    rewards: torch.Tensor,
    next_states: torch.Tensor,
    terminated: torch.Tensor,
    discount_factor: float,
) -> torch.Tensor:
    """``r + γ·max_a Q(s', a)·(1 - terminated)`` per environment, ``(N,)`` (truncation bootstraps)."""
    next_values = q_table[rows, next_states].max(dim=-1).values
    return rewards + discount_factor * next_values * (~terminated).to(next_values.dtype)


def sarsa_targets(
    q_table: torch.Tensor,
    rows: torch.Tensor,
    rewards: torch.Tensor,
    next_states: torch.Tensor,
    next_actions: torch.Tensor,
    terminated: torch.Tensor,
    discount_factor: float,
) -> torch.Tensor:
    """``r + γ·Q(s', a')·(1 - terminated)`` per environment, ``(N,)`` (truncation bootstraps)."""
    next_values = q_table[rows, next_states, next_actions]
    return rewards + discount_factor * next_values * (~terminated).to(next_values.dtype)


def td_update_(
    q_table: torch.Tensor,
    rows: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    targets: torch.Tensor,
    learning_rate: float,
) -> torch.Tensor:
    """``Q(s, a) += α·(target - Q(s, a))`` in place for every environment; returns the TD errors ``(N,)``.

    All TD errors are computed from the table before the update. When several environments update the same
    entry of a shared table (``T == 1``) in one step, the entry moves by ``α·mean(TD errors)`` (the order of the
    environments does not matter); per-environment tables (one row per environment) never collide. ``q_table`` must
    be contiguous. No host synchronisation.
    """
    num_states, num_actions = q_table.shape[1], q_table.shape[2]
    flat = (rows * num_states + states) * num_actions + actions
    values = q_table.view(-1)
    td_errors = targets.to(q_table.dtype) - values[flat]
    steps = learning_rate * td_errors
    if q_table.shape[0] == 1 and flat.shape[0] > 1:  # a shared table: several environments may hit one entry
        counts = torch.zeros_like(values).index_add_(0, flat, torch.ones_like(td_errors))
        steps = steps / counts[flat]
    values.index_add_(0, flat, steps)
    return td_errors
