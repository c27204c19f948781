"""PyTorch memories: preallocated, time-major rollout/replay storage."""

from steprl.memories.torch.base import Memory
from steprl.memories.torch.random import RandomMemory

__all__ = ["Memory", "RandomMemory"]
