"""A2C's loss as a pure JAX function of batch arrays."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def a2c_loss(
    log_prob: jax.Array,
    advantages: jax.Array,
    predicted_values: jax.Array,
    returns: jax.Array,
    entropy: jax.Array | None,
    entropy_loss_scale: float = 0.0,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Policy gradient + value MSE − entropy bonus; returns ``(total_loss, parts)``::

    policy_loss  = -mean(advantages · log_prob)
    value_loss   = mean((returns - predicted_values)²)
    entropy_loss = -entropy_loss_scale · mean(entropy)      (0 when the scale is 0 or entropy is None)
    """
    policy_loss = -(advantages * log_prob).mean()
    value_loss = ((returns - predicted_values) ** 2).mean()
    if entropy is not None and entropy_loss_scale:
        entropy_loss = -entropy_loss_scale * entropy.mean()
    else:
        entropy_loss = jnp.zeros((), dtype=policy_loss.dtype)
    total = policy_loss + entropy_loss + value_loss
    return total, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss}
