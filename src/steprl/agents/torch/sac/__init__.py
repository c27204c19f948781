"""Soft Actor-Critic (PyTorch)."""

from steprl.agents.torch.sac.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.agents.torch.sac.sac_rnn import SAC_RNN

__all__ = ["SAC", "SAC_DEFAULT_CONFIG", "SAC_RNN"]
