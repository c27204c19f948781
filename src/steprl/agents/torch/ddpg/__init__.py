"""Deep Deterministic Policy Gradient (PyTorch)."""

from steprl.agents.torch.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG"]
