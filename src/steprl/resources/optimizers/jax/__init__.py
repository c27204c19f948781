"""JAX optimizers."""

from steprl.resources.optimizers.jax.adam import Adam

__all__ = ["Adam"]
