"""Gaussian (i.i.d. normal) exploration noise, JAX backend."""

from __future__ import annotations

from typing import Any

import jax

from steprl.resources.noises.common import check_std
from steprl.resources.noises.jax.base import Noise, SizeLike, as_shape

__all__ = ["GaussianNoise"]


class GaussianNoise(Noise):
    """Independent samples of ``Normal(mean, std)`` (float32 ``jax.Array``)."""

    def __init__(self, mean: float, std: float, device: Any = None) -> None:
        super().__init__(device)
        self.mean = float(mean)
        self.std = check_std(std, "GaussianNoise")

    def sample(self, size: SizeLike) -> jax.Array:
        """``size`` i.i.d. samples of ``Normal(mean, std)``."""
        return jax.device_put(jax.random.normal(self._next_key(), as_shape(size)) * self.std + self.mean, self.device)

    def __repr__(self) -> str:
        return f"GaussianNoise(mean={self.mean}, std={self.std}, device={self.device})"
