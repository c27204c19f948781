"""Ornstein-Uhlenbeck (temporally correlated) exploration noise."""

from __future__ import annotations

import torch
from torch.distributions import Normal

from steprl.resources.noises.common import check_std, ou_step
from steprl.resources.noises.torch.base import Noise, SizeLike, as_size

__all__ = ["OrnsteinUhlenbeckNoise"]


class OrnsteinUhlenbeckNoise(Noise):
    """Discretised Ornstein-Uhlenbeck process (Uhlenbeck & Ornstein, 1930) as used by DDPG.

    Each call to :meth:`sample` advances the internal ``state`` by one step and returns ``base_scale · state``::

        state ← state - theta · state + sigma · N(mean, std)

    ``state`` starts as a scalar 0 and is reset to zeros whenever the requested shape differs from its shape.
    :meth:`reset` (steprl addition) zeroes it, or only the rows selected by a boolean mask: the TD3/DDPG agents call
    it for the environments whose episode ended (skrl never resets the process between episodes).
    """

    def __init__(
        self,
        theta: float,
        sigma: float,
        base_scale: float,
        mean: float = 0,
        std: float = 1,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__(device)
        self.theta = float(theta)
        self.sigma = float(sigma)
        self.base_scale = float(base_scale)
        self.mean = float(mean)
        self.std = check_std(std, "OrnsteinUhlenbeckNoise")
        self.state: torch.Tensor = torch.zeros((), device=self.device)
        self.distribution = Normal(
            loc=torch.tensor(self.mean, device=self.device, dtype=torch.float32),
            scale=torch.tensor(self.std, device=self.device, dtype=torch.float32),
        )

    def sample(self, size: SizeLike) -> torch.Tensor:
        """Advance the process by one step (state shape ``size``) and return ``base_scale · state``."""
        size = as_size(size)
        if self.state.shape != size:
            self.state = torch.zeros(size, device=self.device)
        gaussian = torch.randn(size, device=self.device).mul_(self.std).add_(self.mean)
        self.state = ou_step(self.state, gaussian, self.theta, self.sigma)
        return self.base_scale * self.state

    def reset(self, mask: torch.Tensor | None = None) -> None:
        """Zero the state; with ``mask`` (boolean, one row per environment), only the rows where it is true."""
        if mask is None or self.state.dim() == 0:
            self.state = torch.zeros_like(self.state)
            return
        if mask.shape[0] != self.state.shape[0]:
            raise ValueError(f"reset mask has {mask.shape[0]} rows, the noise state {self.state.shape[0]}")
        mask = mask.reshape(mask.shape[0], *([1] * (self.state.dim() - 1))).to(self.state.device)
        self.state = self.state.masked_fill(mask, 0.0)

    def __repr__(self) -> str:
        return (
            f"OrnsteinUhlenbeckNoise(theta={self.theta}, sigma={self.sigma}, base_scale={self.base_scale}, "
            f"mean={self.mean}, std={self.std}, device={self.device})"
        )
