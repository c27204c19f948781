"""Independent PPO (PyTorch)."""

from steprl.multi_agents.torch.ippo.ippo import IPPO, IPPO_DEFAULT_CONFIG

__all__ = ["IPPO", "IPPO_DEFAULT_CONFIG"]
