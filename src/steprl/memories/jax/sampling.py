"""Uniform sampling of replay rows inside ``jit`` (the replay agents draw their batches in their jitted update)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["sample_rows"]


def sample_rows(
    key: jax.Array, arrays: Sequence[Any], size: jax.Array | int, batch_size: int, replacement: bool = True
) -> tuple[jax.Array, ...]:
    """``batch_size`` uniformly random valid rows of every ``(memory_size, num_envs, ...)`` array, flat time-major
    (row ``t * num_envs + env``), from the first ``size`` rows (``len(memory)``; may be a traced value).

    ``replacement=False`` draws distinct rows (a uniformly random subset: the smallest of one uniform number per valid
    row), which needs ``size >= batch_size``; the caller checks it.
    """
    flat = [jnp.asarray(a).reshape(-1, *a.shape[2:]) for a in arrays]
    total = flat[0].shape[0]
    if replacement:
        index = jax.random.randint(key, (batch_size,), 0, jnp.maximum(size, 1))
    else:
        draws = jax.random.uniform(key, (total,))
        draws = jnp.where(jnp.arange(total) < size, draws, 2.0)
        index = jax.lax.top_k(-draws, batch_size)[1]
    return tuple(a[index] for a in flat)
