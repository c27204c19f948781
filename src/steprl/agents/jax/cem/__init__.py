"""Cross-entropy method (JAX)."""

from steprl.agents.jax.cem.cem import CEM, CEM_DEFAULT_CONFIG

__all__ = ["CEM", "CEM_DEFAULT_CONFIG"]
