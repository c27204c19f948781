"""JAX implementation of :class:`steprl.backends.ArrayOps`."""

from __future__ import annotations

import contextlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


class JaxOps:
    name = "jax"

    def zeros(self, n: int, dtype: str, like: Any) -> jax.Array:
        return jax.device_put(jnp.zeros(n, dtype=dtype), next(iter(like.devices())))

    def stack(self, arrays: list[Any]) -> jax.Array:
        return jnp.stack(arrays)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def no_grad(self) -> Any:
        return contextlib.nullcontext()  # JAX differentiates only what jax.grad asks for

    def concatenate(self, arrays: list[Any]) -> jax.Array:
        return jnp.concatenate(arrays, axis=0)

    def host_view(self, array: Any) -> np.ndarray | None:
        """A read-only NumPy view of a host (CPU) array; ``None`` for arrays on an accelerator."""
        if all(device.platform == "cpu" for device in array.devices()):
            return np.asarray(array)
        return None


JAX_OPS = JaxOps()
