"""Pure, jittable functions of the cross-entropy method: episode segmentation, elite selection and the policy loss.

Every array has the stream's static length ``L``; rows outside ``valid`` are padding (they belong to no episode).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["EliteSelection", "cem_loss", "select_elite"]


class EliteSelection(NamedTuple):
    """The result of :func:`select_elite` for a stream of ``L`` steps (episodes indexed ``0..L-1``; unused ids are
    neither complete nor elite)."""

    episode_ids: jax.Array  # (L,) int32: episode of each step
    returns: jax.Array  # (L,) discounted return of each episode (from its first step in the stream)
    complete: jax.Array  # (L,) bool: the episode ended (terminated or truncated) in the stream
    elite: jax.Array  # (L,) bool: complete and return >= threshold
    threshold: jax.Array  # () the ``percentile`` quantile of the complete episodes' returns (NaN if none)
    elite_steps: jax.Array  # (L,) bool: steps of elite episodes
    tail_steps: jax.Array  # (L,) bool: valid steps of episodes still running at the end of their env's stream


def select_elite(
    env_ids: jax.Array,
    rewards: jax.Array,
    dones: jax.Array,
    cuts: jax.Array,
    discount_factor: float,
    percentile: float,
    valid: jax.Array | None = None,
) -> EliteSelection:
    """Split a stream of steps into episodes and select the elite ones.

    The stream is ``L`` steps ordered by environment (``env_ids`` non-decreasing, padding rows last), each
    environment's steps in time order. ``dones`` (``terminated | truncated``) ends a *complete* episode; ``cuts``
    ends an abandoned, incomplete one (its steps belong to no elite and no tail); the steps after the last end of an
    environment form its *tail*. Returns are discounted from each episode's first step in the stream:
    ``sum_k γ^k·r_k``. Elite episodes: complete ones whose return is ``>=`` the ``percentile`` quantile (linear
    interpolation) of the complete episodes' returns.
    """
    length = env_ids.shape[0]
    valid = jnp.ones(length, bool) if valid is None else valid.astype(bool)
    dones, cuts = dones.astype(bool) & valid, cuts.astype(bool) & valid
    ends = dones | cuts
    starts = jnp.concatenate([jnp.ones(1, bool), (env_ids[1:] != env_ids[:-1]) | ends[:-1]])
    episode_ids = jnp.cumsum(starts.astype(jnp.int32)) - 1
    index = jnp.arange(length)
    first_index = jax.ops.segment_min(index, episode_ids, num_segments=length)
    position = (index - first_index[episode_ids]).astype(jnp.float32)
    discounted = jnp.where(valid, rewards.reshape(-1).astype(jnp.float32) * jnp.power(discount_factor, position), 0.0)
    returns = jax.ops.segment_sum(discounted, episode_ids, num_segments=length)
    complete = jax.ops.segment_max(dones.astype(jnp.int32), episode_ids, num_segments=length) > 0
    cut = jax.ops.segment_max(cuts.astype(jnp.int32), episode_ids, num_segments=length) > 0
    threshold = jnp.nanquantile(jnp.where(complete, returns, jnp.nan), percentile)
    elite = complete & (returns >= threshold)
    return EliteSelection(
        episode_ids=episode_ids,
        returns=returns,
        complete=complete,
        elite=elite,
        threshold=threshold,
        elite_steps=elite[episode_ids] & valid,
        tail_steps=~(complete | cut)[episode_ids] & valid,
    )


def cem_loss(log_prob: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """Cross-entropy of the elite actions under the policy, from their log-probabilities: ``-mean log π(a|s)`` over
    the rows selected by ``mask`` (every row when ``None``)."""
    log_prob = log_prob.reshape(-1)
    if mask is None:
        return -jnp.mean(log_prob)
    mask = mask.reshape(-1).astype(log_prob.dtype)
    return -jnp.sum(log_prob * mask) / jnp.maximum(jnp.sum(mask), 1.0)
