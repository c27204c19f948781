"""The torch learning-rate schedulers a preset names (``LinearLR``, ``StepLR``, ``ExponentialLR``) as JAX schedules.

The torch agents step these schedulers once per epoch; the JAX agents evaluate an optax-style schedule at the
optimizer's step count (one per mini-batch). The schedules here turn that count back into epochs, so a preset gives
the same learning rates on both backends: ``lr(count) = learning_rate · factor(count // mini_batches)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TORCH_SCHEDULERS", "jax_schedule_factory"]

Schedule = Callable[[Any], Any]


def _linear(start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5) -> Callable[[Any], Any]:
    import jax.numpy as jnp

    if total_iters < 1:
        raise ValueError(f"LinearLR total_iters must be >= 1, got {total_iters}")
    return lambda epoch: start_factor + (end_factor - start_factor) * jnp.minimum(epoch, total_iters) / total_iters


def _step(step_size: int, gamma: float = 0.1) -> Callable[[Any], Any]:
    if step_size < 1:
        raise ValueError(f"StepLR step_size must be >= 1, got {step_size}")
    return lambda epoch: gamma ** (epoch // step_size)


def _exponential(gamma: float) -> Callable[[Any], Any]:
    return lambda epoch: gamma**epoch


TORCH_SCHEDULERS: dict[str, Callable[..., Callable[[Any], Any]]] = {
    "LinearLR": _linear,
    "StepLR": _step,
    "ExponentialLR": _exponential,
}


def jax_schedule_factory(name: str, learning_rate: float, mini_batches: int) -> Callable[..., Schedule]:
    """A factory ``(**scheduler_kwargs) -> schedule(count)`` for the torch scheduler ``name`` (its keyword
    arguments and defaults), for an agent with ``learning_rate`` and ``mini_batches`` optimizer steps per epoch."""
    factor_of = TORCH_SCHEDULERS[name]
    steps_per_epoch = max(1, int(mini_batches))

    def factory(**kwargs: Any) -> Schedule:
        try:
            factor = factor_of(**kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}: {exc}") from None
        return lambda count: learning_rate * factor(count // steps_per_epoch)

    factory.__name__ = name
    return factory
