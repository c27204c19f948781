"""JAX runner."""

from steprl.utils.runner.jax.runner import Runner

__all__ = ["Runner"]
