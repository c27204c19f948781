"""Pure JAX functions of TD3 (Fujimoto et al., 2018): target policy smoothing.

The clipped double-Q target, the critic and the policy losses live with DDPG's (:mod:`steprl.agents.jax.ddpg.losses`:
DDPG is their one-critic case) and are re-exported here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from steprl.agents.jax.ddpg.losses import (
    bootstrapped_target,
    clipped_double_q_target,
    critic_loss,
    deterministic_policy_loss,
)

__all__ = [
    "bootstrapped_target",
    "clipped_double_q_target",
    "critic_loss",
    "deterministic_policy_loss",
    "smoothed_target_actions",
]


def smoothed_target_actions(
    target_actions: jax.Array,
    noise: jax.Array,
    noise_clip: float,
    low: jax.Array | None = None,
    high: jax.Array | None = None,
) -> jax.Array:
    """Target policy smoothing: ``clip(a' + clip(noise, ±noise_clip), low, high)`` (no bounds: no final clip)."""
    actions = target_actions + jnp.clip(noise, -noise_clip, noise_clip)
    if low is not None and high is not None:
        actions = jnp.clip(actions, low, high)
    return actions
