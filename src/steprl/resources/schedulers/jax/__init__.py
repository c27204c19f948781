"""JAX learning-rate schedules."""

from steprl.resources.schedulers.jax.kl_adaptive import KLAdaptiveLR, KLAdaptiveRL, kl_adaptive

__all__ = ["KLAdaptiveLR", "KLAdaptiveRL", "kl_adaptive"]
