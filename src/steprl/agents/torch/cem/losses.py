"""Pure functions of the cross-entropy method: episode segmentation, elite selection and the policy loss."""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["EliteSelection", "cem_loss", "select_elite"]


class EliteSelection(NamedTuple):
    """The result of :func:`select_elite` for a stream of ``L`` steps holding ``E`` (partial) episodes."""

    episode_ids: torch.Tensor  # (L,) int64: episode of each step
    returns: torch.Tensor  # (E,) discounted return of each episode (from its first step in the stream)
    complete: torch.Tensor  # (E,) bool: the episode ended (terminated or truncated) in the stream
    elite: torch.Tensor  # (E,) bool: complete and return >= threshold
    threshold: torch.Tensor  # () the ``percentile`` quantile of the complete episodes' returns (NaN if none)
    elite_steps: torch.Tensor  # (L,) bool: steps of elite episodes
    tail_steps: torch.Tensor  # (L,) bool: steps of unfinished episodes still running at the end of their env's stream


def select_elite(
    env_ids: torch.Tensor,
    rewards: torch.Tensor,
    dones: torch.Tensor,
    cuts: torch.Tensor,
    discount_factor: float,
    percentile: float,
) -> EliteSelection:
    """Split a stream of steps into episodes and select the elite ones.

    The stream is ``L`` steps ordered by environment (``env_ids`` non-decreasing), each environment's steps in
    time order. ``dones`` (``terminated | truncated``) ends a *complete* episode; ``cuts`` ends an abandoned,
    incomplete one (its steps belong to no elite and no tail); the steps after the last end of an environment form
    its *tail* (an episode still running). Returns are discounted from each episode's first step in the stream:
    ``sum_k γ^k·r_k``. Elite episodes: complete ones whose return is ``>=`` the ``percentile`` quantile (linear
    interpolation, ``torch.quantile``) of the complete episodes' returns.
    """
    length = env_ids.shape[0]
    device = rewards.device
    dones, cuts = dones.bool(), cuts.bool()
    ends = dones | cuts
    starts = torch.ones(length, dtype=torch.bool, device=device)
    starts[1:] = (env_ids[1:] != env_ids[:-1]) | ends[:-1]
    episode_ids = torch.cumsum(starts.long(), 0) - 1
    num_episodes = int(episode_ids[-1]) + 1 if length else 0
    first_index = torch.nonzero(starts).view(-1)
    position = torch.arange(length, device=device) - first_index[episode_ids]
    discounted = rewards.float() * torch.pow(torch.tensor(discount_factor, device=device), position.float())
    returns = torch.zeros(num_episodes, device=device).index_add_(0, episode_ids, discounted)
    complete = torch.zeros(num_episodes, dtype=torch.bool, device=device).index_put_((episode_ids[dones],), torch.tensor(True, device=device))
    cut = torch.zeros(num_episodes, dtype=torch.bool, device=device).index_put_((episode_ids[cuts],), torch.tensor(True, device=device))
    if bool(complete.any()):
        threshold = torch.quantile(returns[complete], percentile)
        elite = complete & (returns >= threshold)
    else:
        threshold = torch.tensor(float("nan"), device=device)
        elite = complete.clone()
    return EliteSelection(
        episode_ids=episode_ids,
        returns=returns,
        complete=complete,
        elite=elite,
        threshold=threshold,
        elite_steps=elite[episode_ids],
        tail_steps=~(complete | cut)[episode_ids],
    )


def cem_loss(log_prob: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the elite actions under the policy, from their log-probabilities: ``-mean log π(a|s)``."""
    return -log_prob.mean()
