"""The distributed rank, local rank and world size a launcher hands a process through environment variables."""

from __future__ import annotations

import os


class RankConfig:
    """``local_rank``, ``rank``, ``world_size`` and ``is_distributed``, read once from ``<prefix>LOCAL_RANK``,
    ``<prefix>RANK`` and ``<prefix>WORLD_SIZE`` (torchrun: no prefix; JAX's launcher: ``JAX_``)."""

    def __init__(self, prefix: str = "") -> None:
        self._local_rank = int(os.getenv(f"{prefix}LOCAL_RANK", "0"))
        self._rank = int(os.getenv(f"{prefix}RANK", "0"))
        self._world_size = int(os.getenv(f"{prefix}WORLD_SIZE", "1"))
        self._distributed_ready = False

    @property
    def local_rank(self) -> int:
        return self._local_rank

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def world_size(self) -> int:
        return self._world_size

    @property
    def is_distributed(self) -> bool:
        return self._world_size > 1
