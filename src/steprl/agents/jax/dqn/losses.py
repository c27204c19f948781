"""Pure loss functions of DQN (Mnih et al., 2015) and double DQN (van Hasselt et al., 2016), JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["dqn_loss", "dqn_targets"]


def dqn_targets(
    rewards: jax.Array,
    terminated: jax.Array,
    next_target_q: jax.Array,
    discount_factor: float,
    next_online_q: jax.Array | None = None,
) -> jax.Array:
    """One-step TD targets ``r + γ·(1 - terminated)·Q'(s', a*)``, shape ``(B, 1)``.

    - ``next_target_q``: target-network action values of the next observations, ``(B, num_actions)``;
    - DQN (``next_online_q`` is ``None``): ``a* = argmax_a Q'(s', a)`` (the max of the target network);
    - double DQN: ``a* = argmax_a Q(s', a)`` from the online network's ``next_online_q``, evaluated by the target
      network.

    Only ``terminated`` stops the bootstrap: a truncated transition bootstraps from its true next observation.
    """
    if next_online_q is None:
        next_values = jnp.max(next_target_q, axis=-1, keepdims=True)
    else:
        best = jnp.argmax(next_online_q, axis=-1, keepdims=True)
        next_values = jnp.take_along_axis(next_target_q, best, axis=-1)
    not_terminated = 1.0 - terminated.reshape(-1, 1).astype(next_values.dtype)
    return rewards.reshape(-1, 1) + discount_factor * not_terminated * next_values


def dqn_loss(q_values: jax.Array, actions: jax.Array, targets: jax.Array) -> jax.Array:
    """Mean squared TD error between ``Q(s, a)`` of the taken ``actions`` ``(B, 1)`` (integers) and ``targets``
    ``(B, 1)`` (no gradient flows into ``targets``)."""
    taken = jnp.take_along_axis(q_values, actions.reshape(-1, 1).astype(jnp.int32), axis=-1)
    return jnp.mean((taken - jax.lax.stop_gradient(targets.reshape(-1, 1))) ** 2)
