"""Robust Policy Optimization (PyTorch)."""

from steprl.agents.torch.rpo.rpo import RPO, RPO_DEFAULT_CONFIG

__all__ = ["RPO", "RPO_DEFAULT_CONFIG"]
