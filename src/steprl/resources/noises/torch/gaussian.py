"""Gaussian (i.i.d. normal) exploration noise."""

from __future__ import annotations

import torch
from torch.distributions import Normal

from steprl.resources.noises.common import check_std
from steprl.resources.noises.torch.base import Noise, SizeLike, as_size

__all__ = ["GaussianNoise"]


class GaussianNoise(Noise):
    """Independent samples of ``Normal(mean, std)``.

    >>> noise = GaussianNoise(mean=0.0, std=0.1, device="cpu")
    >>> noise.sample((4, 2)).shape
    torch.Size([4, 2])
    """

    def __init__(self, mean: float, std: float, device: str | torch.device | None = None) -> None:
        super().__init__(device)
        self.mean = float(mean)
        self.std = check_std(std, "GaussianNoise")
        self.distribution = Normal(
            loc=torch.tensor(self.mean, device=self.device, dtype=torch.float32),
            scale=torch.tensor(self.std, device=self.device, dtype=torch.float32),
        )

    def sample(self, size: SizeLike) -> torch.Tensor:
        """``size`` i.i.d. samples of ``Normal(mean, std)`` (float32, on ``self.device``)."""
        return torch.randn(as_size(size), device=self.device).mul_(self.std).add_(self.mean)

    def __repr__(self) -> str:
        return f"GaussianNoise(mean={self.mean}, std={self.std}, device={self.device})"
