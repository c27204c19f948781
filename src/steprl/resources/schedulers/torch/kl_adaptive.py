"""Learning-rate scheduler driven by the KL divergence between successive policies."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler


class KLAdaptiveLR(LRScheduler):
    """Divide the learning rate by ``lr_factor`` when KL > ``kl_threshold * kl_factor``, multiply it when
    KL < ``kl_threshold / kl_factor``, keeping it within ``[min_lr, max_lr]``; ``kl=None`` changes nothing.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kl_threshold: float = 0.008,
        min_lr: float = 1e-6,
        max_lr: float = 1e-2,
        kl_factor: float = 2,
        lr_factor: float = 1.5,
        last_epoch: int = -1,
        verbose: Any = False,
    ) -> None:
        self.kl_threshold = kl_threshold
        self.min_lr = min_lr
        self.max_lr = max_lr
        self.kl_factor = kl_factor
        self.lr_factor = lr_factor
        self.verbose = verbose  # accepted for skrl compatibility; torch removed the option
        super().__init__(optimizer, last_epoch)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:
        """Current learning rates (adaptation happens in :meth:`step`)."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, kl: float | torch.Tensor | None = None, epoch: int | None = None) -> None:
        """Adapt every group's learning rate to ``kl`` (a float or a 0-d tensor)."""
        self._step_count = getattr(self, "_step_count", 0) + 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if kl is not None:
            kl = float(kl)
            for group in self.optimizer.param_groups:
                if kl > self.kl_threshold * self.kl_factor:
                    group["lr"] = max(group["lr"] / self.lr_factor, self.min_lr)
                elif kl < self.kl_threshold / self.kl_factor:
                    group["lr"] = min(group["lr"] * self.lr_factor, self.max_lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


KLAdaptiveRL = KLAdaptiveLR
