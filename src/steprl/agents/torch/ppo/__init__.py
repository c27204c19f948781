"""Proximal Policy Optimization (PyTorch)."""

from steprl.agents.torch.ppo.ppo import PPO, PPO_DEFAULT_CONFIG

__all__ = ["PPO", "PPO_DEFAULT_CONFIG"]
