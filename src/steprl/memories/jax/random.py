"""Uniform random sampling memory (JAX backend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from steprl.memories.jax.base import Batches, Memory


class RandomMemory(Memory):
    """Memory sampled uniformly at random over its valid rows, with or without replacement."""

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: Any = None,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
        replacement: bool = True,
    ) -> None:
        super().__init__(memory_size, num_envs, device, export, export_format, export_directory)
        self._replacement = replacement

    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1) -> Batches:
        """``batch_size`` random valid rows (each expanded to ``sequence_length`` consecutive steps of one env),
        split into ``mini_batches``.
        """
        size = len(self) - (sequence_length - 1) * self.num_envs
        if size <= 0:
            raise ValueError(
                f"Cannot sample: the memory holds {len(self)} rows, fewer than one sequence of "
                f"sequence_length={sequence_length} x num_envs={self.num_envs}"
            )
        if self._replacement:
            indexes = np.random.randint(0, size, (batch_size,))
        else:
            indexes = np.random.permutation(size)[:batch_size]
        if sequence_length > 1:
            indexes = (indexes.reshape(-1, 1) + np.arange(0, self.num_envs * sequence_length, self.num_envs)).reshape(
                -1
            )
        self.sampling_indexes = self._index(indexes)
        return self.sample_by_index(names, self.sampling_indexes, mini_batches)
