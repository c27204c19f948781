"""Deep Deterministic Policy Gradient (JAX)."""

from steprl.agents.jax.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG"]
