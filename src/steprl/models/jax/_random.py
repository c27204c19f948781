"""The process-wide PRNG key the models draw from when no key is given (``steprl.config.jax.key``)."""

from __future__ import annotations

import jax

from steprl import config


def next_key() -> jax.Array:
    """A fresh subkey; ``config.jax.key`` is split and advanced (explicitly, never reused)."""
    key, subkey = jax.random.split(config.jax.key)
    config.jax.key = key
    return subkey
