"""Running mean/variance standardization of inputs."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium
import torch
from torch import nn

from steprl import config
from steprl.utils.distributed import torch as distributed
from steprl.utils.spaces.common import compute_space_size


class RunningStandardScaler(nn.Module):
    """Standardize inputs with running statistics kept in float64 buffers.

    Batch statistics (over dim 0, or dims 0 and 1 of a 3-D input) are merged with Chan's parallel rule using
    the population variance, so the running statistics equal those of all inputs seen (plus the prior of
    mean 0, variance 1, count 1).

    Distributed runs (``synchronize=True``, the default): each update merges the batches of every rank, so all ranks
    keep identical statistics (every rank must update together, as the agents do in their updates).
    """

    running_mean: torch.Tensor
    running_variance: torch.Tensor
    current_count: torch.Tensor

    def __init__(
        self,
        size: int | Sequence[int] | gymnasium.Space,
        epsilon: float = 1e-8,
        clip_threshold: float = 5.0,
        device: str | torch.device | None = None,
        synchronize: bool = True,
    ) -> None:
        super().__init__()
        self.synchronize = synchronize
        self.epsilon = epsilon
        self.clip_threshold = clip_threshold
        self.device = config.torch.device if device is None else config.torch.parse_device(device)
        size = compute_space_size(size, occupied_size=True)
        self.register_buffer("running_mean", torch.zeros(size, dtype=torch.float64, device=self.device))
        self.register_buffer("running_variance", torch.ones(size, dtype=torch.float64, device=self.device))
        self.register_buffer("current_count", torch.ones((), dtype=torch.float64, device=self.device))

    def _update(self, x: torch.Tensor) -> None:
        """Merge the statistics of batch ``x`` into the running ones (in place)."""
        dims = (0, 1) if x.dim() == 3 else (0,)
        x = x.to(torch.float64)
        count: int | torch.Tensor = x.shape[0] * (x.shape[1] if x.dim() == 3 else 1)
        if self.synchronize and distributed.ready():
            if count:
                var, mean = torch.var_mean(x, dim=dims, correction=0)
            else:  # an empty batch still takes part in the collective
                var, mean = torch.zeros_like(self.running_variance), torch.zeros_like(self.running_mean)
            count, mean, var = distributed.merge_moments(int(count), mean, var)
        elif count == 0:
            return
        else:
            var, mean = torch.var_mean(x, dim=dims, correction=0)
        delta = mean - self.running_mean
        total = self.current_count + count
        m2 = (
            self.running_variance * self.current_count
            + var * count
            + delta.square() * self.current_count * count / total
        )
        self.running_mean.add_(delta * count / total)
        self.running_variance.copy_(m2 / total)
        self.current_count.copy_(total)

    def _compute(self, x: torch.Tensor, train: bool, inverse: bool) -> torch.Tensor:
        if train:
            self._update(x)
        mean = self.running_mean.to(x.dtype)
        std = self.running_variance.sqrt().to(x.dtype)
        if inverse:
            return std * torch.clamp(x, -self.clip_threshold, self.clip_threshold) + mean
        return torch.clamp((x - mean) / (std + self.epsilon), -self.clip_threshold, self.clip_threshold)

    def forward(
        self, x: torch.Tensor, train: bool = False, inverse: bool = False, no_grad: bool = True
    ) -> torch.Tensor:
        """Standardize ``x`` (or map standardized values back with ``inverse``); ``train`` updates statistics first."""
        if no_grad:
            with torch.no_grad():
                return self._compute(x, train, inverse)
        return self._compute(x, train, inverse)
