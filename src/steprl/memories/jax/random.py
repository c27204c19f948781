"""Uniform random sampling memory (JAX backend)."""

from __future__ import annotations

from steprl.core.memory import RandomSampling
from steprl.memories.jax.base import Memory


class RandomMemory(RandomSampling, Memory):
    """Memory sampled uniformly at random over its valid rows, with or without replacement (``replacement``)."""
