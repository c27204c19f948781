"""KL-adaptive learning rate for JAX: a schedule function usable inside jitted updates."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

__all__ = ["KLAdaptiveLR", "KLAdaptiveRL", "KLAdaptiveSchedule", "kl_adaptive"]


class KLAdaptiveSchedule:
    """``schedule(count, lr=None, kl=None)``: 1.0 when ``lr`` is None (the optimizer's own scale), else ``lr``
    divided by ``lr_factor`` when ``kl > kl_threshold * kl_factor``, multiplied by it when
    ``kl < kl_threshold / kl_factor``, within ``[min_lr, max_lr]``. Pure ``jnp`` math: it runs inside ``jit``."""

    def __init__(
        self,
        kl_threshold: float = 0.008,
        min_lr: float = 1e-6,
        max_lr: float = 1e-2,
        kl_factor: float = 2,
        lr_factor: float = 1.5,
    ) -> None:
        for name, value in (("kl_threshold", kl_threshold), ("kl_factor", kl_factor), ("lr_factor", lr_factor)):
            if not float(value) > 0:
                raise ValueError(f"KLAdaptiveLR {name} must be > 0, got {value}")
        if not 0 <= float(min_lr) <= float(max_lr):
            raise ValueError(f"KLAdaptiveLR needs 0 <= min_lr <= max_lr, got {min_lr} and {max_lr}")
        self.kl_threshold = float(kl_threshold)
        self.min_lr = float(min_lr)
        self.max_lr = float(max_lr)
        self.kl_factor = float(kl_factor)
        self.lr_factor = float(lr_factor)

    def __call__(self, count: Any = 0, lr: Any = None, kl: Any = None) -> Any:
        if lr is None:
            return 1.0
        if kl is None:
            return lr
        lr = jnp.asarray(lr)
        lower = jnp.maximum(lr / self.lr_factor, self.min_lr)
        higher = jnp.minimum(lr * self.lr_factor, self.max_lr)
        lr = jnp.where(kl > self.kl_threshold * self.kl_factor, lower, lr)
        return jnp.where(kl < self.kl_threshold / self.kl_factor, higher, lr)


def KLAdaptiveLR(  # noqa: N802 (skrl's public name)
    kl_threshold: float = 0.008,
    min_lr: float = 1e-6,
    max_lr: float = 1e-2,
    kl_factor: float = 2,
    lr_factor: float = 1.5,
) -> KLAdaptiveSchedule:
    """The KL-adaptive schedule (a factory, as skrl's JAX scheduler; agents detect it and adapt inside the update)."""
    return KLAdaptiveSchedule(kl_threshold, min_lr, max_lr, kl_factor, lr_factor)


kl_adaptive = KLAdaptiveLR
KLAdaptiveRL = KLAdaptiveLR
