"""Ornstein-Uhlenbeck (temporally correlated) exploration noise, JAX backend."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from steprl.resources.noises.common import check_std, ou_step
from steprl.resources.noises.jax.base import Noise, SizeLike, as_shape

__all__ = ["OrnsteinUhlenbeckNoise"]


class OrnsteinUhlenbeckNoise(Noise):
    """Discretised Ornstein-Uhlenbeck process as used by DDPG.

    Each call to :meth:`sample` advances the internal ``state`` by one step and returns ``base_scale · state``::

        state ← state - theta · state + sigma · N(mean, std)

    ``state`` starts as a scalar 0 and is reset to zeros whenever the requested shape differs from its shape;
    :meth:`reset` zeroes it, or only the rows selected by a boolean mask (environments whose episode ended).
    """

    def __init__(
        self, theta: float, sigma: float, base_scale: float, mean: float = 0, std: float = 1, device: Any = None
    ) -> None:
        super().__init__(device)
        self.theta = float(theta)
        self.sigma = float(sigma)
        self.base_scale = float(base_scale)
        self.mean = float(mean)
        self.std = check_std(std, "OrnsteinUhlenbeckNoise")
        self.state: jax.Array = jnp.zeros(())

    def sample(self, size: SizeLike) -> jax.Array:
        """Advance the process by one step (state shape ``size``) and return ``base_scale · state``."""
        shape = as_shape(size)
        if self.state.shape != shape:
            self.state = jnp.zeros(shape)
        gaussian = jax.random.normal(self._next_key(), shape) * self.std + self.mean
        self.state = ou_step(self.state, gaussian, self.theta, self.sigma)
        return jax.device_put(self.base_scale * self.state, self.device)

    def reset(self, mask: Any = None) -> None:
        """Zero the state; with ``mask`` (boolean, one row per environment), only the rows where it is true."""
        if mask is None or self.state.ndim == 0:
            self.state = jnp.zeros_like(self.state)
            return
        mask = jnp.asarray(mask)
        if mask.shape[0] != self.state.shape[0]:
            raise ValueError(f"reset mask has {mask.shape[0]} rows, the noise state {self.state.shape[0]}")
        self.state = jnp.where(mask.reshape(mask.shape[0], *([1] * (self.state.ndim - 1))), 0.0, self.state)

    def __repr__(self) -> str:
        return (
            f"OrnsteinUhlenbeckNoise(theta={self.theta}, sigma={self.sigma}, base_scale={self.base_scale}, "
            f"mean={self.mean}, std={self.std}, device={self.device})"
        )
