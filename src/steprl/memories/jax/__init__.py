"""JAX memories: preallocated, time-major rollout/replay storage on NumPy or JAX arrays."""

from steprl.memories.jax.base import Memory
from steprl.memories.jax.random import RandomMemory

__all__ = ["Memory", "RandomMemory"]
