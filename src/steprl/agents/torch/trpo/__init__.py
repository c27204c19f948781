"""Trust Region Policy Optimization (PyTorch)."""

from steprl.agents.torch.trpo.trpo import TRPO, TRPO_DEFAULT_CONFIG

__all__ = ["TRPO", "TRPO_DEFAULT_CONFIG"]
