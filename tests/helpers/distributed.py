"""The gradient-averaging case of the distributed test: one small value model and a fixed batch per rank, built
identically by the worker processes and by the test that computes the expected step."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from helpers.models import Value

LEARNING_RATE = 0.5
OBSERVATIONS = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)


def value_model(seed: int) -> Value:
    """The value model with initial weights drawn from ``seed`` (ranks start different: rank 0's are broadcast)."""
    torch.manual_seed(seed)
    return Value(OBSERVATIONS)


def rank_batch(rank: int, size: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank ``rank``'s fixed regression batch ``(states, targets)`` (different on every rank)."""
    generator = torch.Generator().manual_seed(1000 + rank)
    return torch.randn(size, 3, generator=generator), 3.0 * torch.randn(size, 1, generator=generator)


def batch_loss(model: Value, rank: int) -> torch.Tensor:
    """Mean squared error of ``model`` on :func:`rank_batch` of ``rank``."""
    states, targets = rank_batch(rank)
    values = model.act({"states": states}, role="value")[0]
    return torch.nn.functional.mse_loss(values, targets)
