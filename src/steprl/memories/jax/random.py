"""Uniform random sampling memory (JAX backend)."""

from __future__ import annotations

from steprl.core.memory import RandomSampling
from steprl.memories.jax.base import Memory


class RandomMemory(RandomSampling, Memory):
    """Memory sampled uniformly at random over its valid rows, with or without replacement (``replacement``).

    The replay agents sample it inside their jitted update (:func:`steprl.memories.jax.sampling.sample_rows`) with
    the same rule: uniform over the ``len(memory)`` valid flat rows.
    """

    @property
    def replacement(self) -> bool:
        """Whether a batch may hold a row more than once."""
        return self._replacement
