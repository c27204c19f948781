"""PPO's loss as a pure JAX function of batch arrays (differentiable; runs inside the jitted update)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def ppo_loss(
    log_prob: jax.Array,
    old_log_prob: jax.Array,
    advantages: jax.Array,
    predicted_values: jax.Array,
    old_values: jax.Array,
    returns: jax.Array,
    entropy: jax.Array | None,
    ratio_clip: float = 0.2,
    value_clip: float = 0.2,
    clip_predicted_values: bool = False,
    entropy_loss_scale: float = 0.0,
    value_loss_scale: float = 1.0,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Clipped surrogate + scaled value MSE − entropy bonus; returns ``(total_loss, parts)``.

    The entropy term is part of the differentiated total (skrl 1.x's JAX PPO left it out of the gradient).
    ``parts`` holds ``policy_loss``, ``value_loss``, ``entropy_loss`` and ``kl`` (approximate KL of the old policy to
    the new one, ``E[(r - 1) - log r]``, without gradient).
    """
    log_ratio = log_prob - old_log_prob
    ratio = jnp.exp(log_ratio)
    surrogate = advantages * ratio
    surrogate_clipped = advantages * jnp.clip(ratio, 1.0 - ratio_clip, 1.0 + ratio_clip)
    policy_loss = -jnp.minimum(surrogate, surrogate_clipped).mean()

    if clip_predicted_values:
        predicted_values = old_values + jnp.clip(predicted_values - old_values, -value_clip, value_clip)
    value_loss = value_loss_scale * ((returns - predicted_values) ** 2).mean()

    if entropy is not None and entropy_loss_scale:
        entropy_loss = -entropy_loss_scale * entropy.mean()
    else:
        entropy_loss = jnp.zeros((), dtype=policy_loss.dtype)

    kl = jax.lax.stop_gradient(((ratio - 1.0) - log_ratio).mean())
    total = policy_loss + entropy_loss + value_loss
    return total, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss, "kl": kl}
