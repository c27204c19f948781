"""Pure JAX loss functions of DDPG (Lillicrap et al., 2016) and the clipped double-Q target TD3 (Fujimoto et al.,
2018) generalises it to, reused by TD3."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

__all__ = ["bootstrapped_target", "clipped_double_q_target", "critic_loss", "deterministic_policy_loss"]


def bootstrapped_target(
    rewards: jax.Array, terminated: jax.Array, next_q_values: jax.Array, discount_factor: float
) -> jax.Array:
    """One-step TD target ``r + γ · (1 - terminated) · Q'(s', a')`` (no gradient).

    Only ``terminated`` stops the bootstrap: a truncated transition (time limit) bootstraps from the value of its
    true next observation, which the replay memory stores.
    """
    target = rewards + discount_factor * next_q_values * jnp.logical_not(terminated).astype(rewards.dtype)
    return jax.lax.stop_gradient(target)


def critic_loss(q_values: Sequence[jax.Array], target_values: jax.Array) -> jax.Array:
    """Mean over the critics of the mean squared TD error (DDPG: one critic; TD3: ``(MSE_1 + MSE_2) / 2``)."""
    if not q_values:
        raise ValueError("critic_loss needs the values of at least one critic")
    target_values = jax.lax.stop_gradient(target_values)
    return sum(jnp.mean((q - target_values) ** 2) for q in q_values) / len(q_values)


def deterministic_policy_loss(q_values: jax.Array) -> jax.Array:
    """Deterministic policy gradient objective ``-mean Q(s, π(s))`` (the critic's parameters are not optimised)."""
    return -jnp.mean(q_values)


def clipped_double_q_target(
    rewards: jax.Array, terminated: jax.Array, next_q_values: Sequence[jax.Array], discount_factor: float
) -> jax.Array:
    """``r + γ · (1 - terminated) · min_i Q'_i(s', a')`` (one critic: the plain DDPG target)."""
    next_q = next_q_values[0]
    for q in next_q_values[1:]:
        next_q = jnp.minimum(next_q, q)
    return bootstrapped_target(rewards, terminated, next_q, discount_factor)
