"""Conversions between Gymnasium space values and JAX (or, with ``_jax=False``, NumPy) arrays.

The same functions as ``steprl.utils.spaces.torch`` over the neutral logic of ``spaces.conversions``; as in skrl,
each also takes a private ``_jax`` flag: ``False`` works on NumPy arrays instead of ``jax.Array``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from steprl.utils.spaces import conversions
from steprl.utils.spaces.common import compute_space_size
from steprl.utils.spaces.conversions import convert_gym_space

__all__ = [
    "compute_space_size",
    "convert_gym_space",
    "flatten_tensorized_space",
    "sample_space",
    "tensorize_space",
    "unflatten_tensorized_space",
    "untensorize_space",
]


class _JaxKit:
    def is_array(self, x: Any) -> bool:
        return isinstance(x, jax.Array)

    def from_numpy(self, array: np.ndarray, device: Any) -> jax.Array:
        return jax.device_put(array, device)

    def to_numpy(self, x: jax.Array) -> np.ndarray:
        return np.asarray(x.astype(jnp.float32) if x.dtype in (jnp.bfloat16, jnp.float16) else x)

    def concatenate(self, arrays: list[jax.Array]) -> jax.Array:
        return jnp.concatenate(arrays, axis=-1)


class _NumpyKit:
    def is_array(self, x: Any) -> bool:
        return isinstance(x, np.ndarray)

    def from_numpy(self, array: np.ndarray, device: Any) -> np.ndarray:
        return array

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        return x

    def concatenate(self, arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays, axis=-1)


_KITS = {True: _JaxKit(), False: _NumpyKit()}


def tensorize_space(space: spaces.Space, x: Any, device: Any = None, _jax: bool = True) -> Any:
    """Convert a (batched or single) value of ``space`` to arrays with a leading batch dimension.

    Arrays of the backend are only reshaped; other values are copied (to ``device`` for JAX).
    """
    return conversions.tensorize(_KITS[bool(_jax)], space, x, device)


def untensorize_space(space: spaces.Space, x: Any, squeeze_batch_dimension: bool = True, _jax: bool = True) -> Any:
    """Convert tensorized values back to NumPy values of the space dtype (a batch of size 1 loses its batch
    dimension with ``squeeze_batch_dimension``; a Discrete value then becomes a Python int).
    """
    return conversions.untensorize(_KITS[bool(_jax)], space, x, squeeze_batch_dimension)


def flatten_tensorized_space(x: Any, _jax: bool = True) -> Any:
    """Flatten a tensorized value into one ``(batch, size)`` array (Dict keys sorted; mixed dtypes promote)."""
    return conversions.flatten(_KITS[bool(_jax)], x)


def unflatten_tensorized_space(space: spaces.Space | Sequence[int] | int, x: Any, _jax: bool = True) -> Any:
    """Split a ``(batch, size)`` array back into the tensorized structure of ``space`` (inverse of flattening)."""
    return conversions.unflatten(space, x)


def sample_space(
    space: spaces.Space, batch_size: int = 1, backend: str = "numpy", device: Any = None, _jax: bool = True
) -> Any:
    """Draw a batch of ``batch_size`` random values of ``space`` as NumPy arrays or (``backend="jax"``) JAX arrays."""
    if backend not in ("numpy", "jax"):
        raise ValueError(f"Unsupported backend {backend!r}: expected 'numpy' or 'jax'")
    return conversions.sample(_KITS[True] if backend == "jax" else None, space, batch_size, device)
