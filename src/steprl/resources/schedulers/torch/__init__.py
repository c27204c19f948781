"""PyTorch learning-rate schedulers."""

from steprl.resources.schedulers.torch.kl_adaptive import KLAdaptiveLR, KLAdaptiveRL

__all__ = ["KLAdaptiveLR", "KLAdaptiveRL"]
