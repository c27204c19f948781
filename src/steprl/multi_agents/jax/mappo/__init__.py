"""Multi-Agent PPO (JAX)."""

from steprl.multi_agents.jax.mappo.mappo import MAPPO, MAPPO_DEFAULT_CONFIG

__all__ = ["MAPPO", "MAPPO_DEFAULT_CONFIG"]
