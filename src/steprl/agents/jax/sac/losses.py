"""SAC's losses as pure JAX functions of batch arrays (Haarnoja et al., 2018, "Soft Actor-Critic Algorithms and
Applications": clipped double-Q soft targets and automatic temperature tuning)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["sac_critic_loss", "sac_critic_target", "sac_entropy_loss", "sac_policy_loss"]


def sac_critic_target(
    rewards: jax.Array,
    terminated: jax.Array,
    next_q1: jax.Array,
    next_q2: jax.Array,
    next_log_prob: jax.Array,
    alpha: jax.Array | float,
    discount_factor: float,
) -> jax.Array:
    """Soft Bellman target ``r + γ·(1 − terminated)·(min(Q1', Q2') − α·log π(a'|s'))`` (no gradient).

    Only termination stops the bootstrap: a truncated transition bootstraps from its true next observation.
    """
    next_values = jnp.minimum(next_q1, next_q2) - alpha * next_log_prob
    target = rewards + discount_factor * jnp.logical_not(terminated).astype(rewards.dtype) * next_values
    return jax.lax.stop_gradient(target)


def sac_critic_loss(q1: jax.Array, q2: jax.Array, target: jax.Array) -> jax.Array:
    """``(MSE(Q1, y) + MSE(Q2, y)) / 2`` (the target carries no gradient)."""
    target = jax.lax.stop_gradient(target)
    return 0.5 * (jnp.mean((q1 - target) ** 2) + jnp.mean((q2 - target) ** 2))


def sac_policy_loss(log_prob: jax.Array, q1: jax.Array, q2: jax.Array, alpha: jax.Array | float) -> jax.Array:
    """``E[α·log π(a|s) − min(Q1(s, a), Q2(s, a))]`` for reparameterised actions ``a ~ π(·|s)``."""
    return jnp.mean(alpha * log_prob - jnp.minimum(q1, q2))


def sac_entropy_loss(log_alpha: jax.Array, log_prob: jax.Array, target_entropy: float) -> jax.Array:
    """Temperature loss ``−log α · E[log π + H_target]`` (gradient only to ``log_alpha``): gradient descent raises
    ``log α`` while the policy's entropy ``−E[log π]`` is below the target and lowers it above."""
    return -jnp.mean(log_alpha * (jax.lax.stop_gradient(log_prob) + target_entropy))
