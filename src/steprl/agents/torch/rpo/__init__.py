"""Robust Policy Optimization (PyTorch)."""

from steprl.agents.torch.rpo.rpo import RPO, RPO_DEFAULT_CONFIG
from steprl.agents.torch.rpo.rpo_rnn import RPO_RNN

__all__ = ["RPO", "RPO_DEFAULT_CONFIG", "RPO_RNN"]
