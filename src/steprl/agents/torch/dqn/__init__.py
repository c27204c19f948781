"""Deep Q-Network and double DQN (PyTorch)."""

from steprl.agents.torch.dqn.ddqn import DDQN, DDQN_DEFAULT_CONFIG
from steprl.agents.torch.dqn.dqn import DQN, DQN_DEFAULT_CONFIG

__all__ = ["DDQN", "DDQN_DEFAULT_CONFIG", "DQN", "DQN_DEFAULT_CONFIG"]
