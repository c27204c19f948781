"""Proximal Policy Optimization (PyTorch)."""

from steprl.agents.torch.ppo.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.agents.torch.ppo.ppo_rnn import PPO_RNN

__all__ = ["PPO", "PPO_DEFAULT_CONFIG", "PPO_RNN"]
