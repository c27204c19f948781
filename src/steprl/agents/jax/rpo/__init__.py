"""Robust Policy Optimization (JAX)."""

from steprl.agents.jax.rpo.rpo import RPO, RPO_DEFAULT_CONFIG

__all__ = ["RPO", "RPO_DEFAULT_CONFIG"]
