"""Trust Region Policy Optimization (PyTorch)."""

from steprl.agents.torch.trpo.trpo import TRPO, TRPO_DEFAULT_CONFIG
from steprl.agents.torch.trpo.trpo_rnn import TRPO_RNN

__all__ = ["TRPO", "TRPO_DEFAULT_CONFIG", "TRPO_RNN"]
