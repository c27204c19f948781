"""PyTorch agents."""

from steprl.agents.torch.base import Agent

__all__ = ["Agent"]
