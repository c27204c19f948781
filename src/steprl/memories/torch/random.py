"""Uniform random sampling memory (PyTorch backend)."""

from __future__ import annotations

from steprl.core.memory import RandomSampling
from steprl.memories.torch.base import Memory


class RandomMemory(RandomSampling, Memory):
    """Memory sampled uniformly at random over its valid rows, with or without replacement (``replacement``)."""
