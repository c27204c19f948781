"""The PyTorch binding of the backend-neutral :class:`steprl.core.trainer.Trainer`."""

from __future__ import annotations

from steprl import config
from steprl.core import trainer as core
from steprl.core.scopes import generate_equally_spaced_scopes

__all__ = ["Trainer", "generate_equally_spaced_scopes"]


class Trainer(core.Trainer):
    """Base class of the PyTorch trainers: the process rank comes from ``steprl.config.torch``."""

    backend = "torch"

    @staticmethod
    def process_rank() -> int:
        return config.torch.rank

    @staticmethod
    def process_count() -> int:
        return config.torch.world_size
