"""SARSA (tabular)."""

from steprl.agents.torch.sarsa.sarsa import SARSA, SARSA_DEFAULT_CONFIG

__all__ = ["SARSA", "SARSA_DEFAULT_CONFIG"]
