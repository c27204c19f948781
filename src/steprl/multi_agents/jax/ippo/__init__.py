"""Independent PPO (JAX)."""

from steprl.multi_agents.jax.ippo.ippo import IPPO, IPPO_DEFAULT_CONFIG

__all__ = ["IPPO", "IPPO_DEFAULT_CONFIG"]
