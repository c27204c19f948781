"""Soft Actor-Critic (JAX)."""

from steprl.agents.jax.sac.sac import SAC, SAC_DEFAULT_CONFIG

__all__ = ["SAC", "SAC_DEFAULT_CONFIG"]
