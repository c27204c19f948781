"""Deep Q-Network and double DQN (JAX)."""

from steprl.agents.jax.dqn.ddqn import DDQN, DDQN_DEFAULT_CONFIG
from steprl.agents.jax.dqn.dqn import DQN, DQN_DEFAULT_CONFIG

__all__ = ["DDQN", "DDQN_DEFAULT_CONFIG", "DQN", "DQN_DEFAULT_CONFIG"]
