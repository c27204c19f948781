"""PyTorch runner."""

from steprl.utils.runner.torch.runner import Runner

__all__ = ["Runner"]
