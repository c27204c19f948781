"""Deep Deterministic Policy Gradient (PyTorch)."""

from steprl.agents.torch.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from steprl.agents.torch.ddpg.ddpg_rnn import DDPG_RNN

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG", "DDPG_RNN"]
