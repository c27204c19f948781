"""Multi-Agent PPO (PyTorch)."""

from steprl.multi_agents.torch.mappo.mappo import MAPPO, MAPPO_DEFAULT_CONFIG

__all__ = ["MAPPO", "MAPPO_DEFAULT_CONFIG"]
