"""Uniform random sampling memory."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from steprl.memories.torch.base import Batches, Memory


class RandomMemory(Memory):
    """Memory sampled uniformly at random over its valid rows, with or without replacement."""

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: str | torch.device | None = None,
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
            indexes = torch.randint(0, size, (batch_size,), device=self.device)
        else:
            indexes = torch.randperm(size, dtype=torch.long, device=self.device)[:batch_size]
        if sequence_length > 1:
            offsets = torch.arange(0, self.num_envs * sequence_length, self.num_envs, device=self.device)
            indexes = (indexes.view(-1, 1) + offsets).view(-1)
        self.sampling_indexes = indexes
        return self.sample_by_index(names, indexes, mini_batches)
