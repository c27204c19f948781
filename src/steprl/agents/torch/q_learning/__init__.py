"""Q-learning (tabular)."""

from steprl.agents.torch.q_learning.q_learning import Q_LEARNING, Q_LEARNING_DEFAULT_CONFIG

__all__ = ["Q_LEARNING", "Q_LEARNING_DEFAULT_CONFIG"]
