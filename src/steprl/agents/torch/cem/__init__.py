"""Cross-entropy method."""

from steprl.agents.torch.cem.cem import CEM, CEM_DEFAULT_CONFIG

__all__ = ["CEM", "CEM_DEFAULT_CONFIG"]
