"""JAX agents."""

from steprl.agents.jax.base import Agent

__all__ = ["Agent"]
