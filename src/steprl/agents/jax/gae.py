"""Generalized Advantage Estimation as a pure JAX function (a reverse ``lax.scan`` over the time axis)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def compute_gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    discount_factor: float = 0.99,
    lambda_coefficient: float = 0.95,
) -> tuple[jax.Array, jax.Array]:
    """Returns ``(returns, advantages)``, each shaped like ``rewards`` (``[T, N]`` or ``[T, N, 1]``).

    ``next_values[t]`` is the value of the observation that followed step ``t`` (for a finished episode: its true
    final observation). Termination cuts the bootstrap; truncation keeps it but, like termination, stops the
    advantage recursion so that nothing leaks from the next episode::

        delta_t = r_t + γ · (1 - terminated_t) · V(s'_t) - V(s_t)
        A_t     = delta_t + γ · λ · (1 - done_t) · A_{t+1},   done_t = terminated_t | truncated_t
    """
    terminated = terminated.astype(bool)
    done = terminated | truncated.astype(bool)
    deltas = rewards + discount_factor * jnp.where(terminated, 0.0, next_values) - values
    decay = jnp.where(done, 0.0, discount_factor * lambda_coefficient).astype(deltas.dtype)

    def step(running: jax.Array, xs: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        delta, gamma_lambda = xs
        running = delta + gamma_lambda * running
        return running, running

    _, advantages = jax.lax.scan(step, jnp.zeros_like(deltas[0]), (deltas, decay), reverse=True)
    return advantages + values, advantages
