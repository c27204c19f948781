"""Proximal Policy Optimization (JAX)."""

from steprl.agents.jax.ppo.ppo import PPO, PPO_DEFAULT_CONFIG

__all__ = ["PPO", "PPO_DEFAULT_CONFIG"]
