"""Base class of the JAX exploration noises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax

from steprl import config

__all__ = ["Noise", "SizeLike"]

SizeLike = int | Sequence[int]


def as_shape(size: SizeLike) -> tuple[int, ...]:
    """A shape tuple of an int or a sequence of ints (``TypeError`` otherwise)."""
    if isinstance(size, int) and not isinstance(size, bool):
        return (size,)
    try:
        return tuple(int(s) for s in size)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"size must be an int or a sequence of ints, got {size!r}") from exc


class Noise:
    """Base class of the noises: subclasses implement :meth:`sample`.

    Samples are ``jax.Array`` on ``device`` (``None``: ``steprl.config.jax.device``). Each noise owns a PRNG key,
    split from ``config.jax.key`` at construction (so ``set_seed`` makes it reproducible) and split again per sample.
    """

    def __init__(self, device: Any = None) -> None:
        self.device = config.jax.device if device is None else config.jax.parse_device(device)
        config.jax.key, self._key = jax.random.split(config.jax.key)

    def _next_key(self) -> jax.Array:
        self._key, key = jax.random.split(self._key)
        return key

    def sample(self, size: SizeLike) -> jax.Array:
        """An array of noise of shape ``size``."""
        raise NotImplementedError(f"{type(self).__name__} must implement sample(size)")

    def sample_like(self, array: Any) -> jax.Array:
        """An array of noise with the shape of ``array`` (``sample(array.shape)``)."""
        return self.sample(array.shape)

    def reset(self, mask: Any = None) -> None:
        """Forget the noise's internal state (stateless noises: nothing to do).

        ``mask`` (boolean, one row per environment) restricts the reset to the rows where it is true.
        """
