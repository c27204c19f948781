"""The array backends a shared test runs on: torch, JAX returning NumPy arrays, JAX returning ``jax.Array``."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from steprl import config

_NO_JAX = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="the jax extra is not installed")
# parametrize values: torch, JAX returning NumPy arrays, JAX returning jax.Array (skipped without JAX)
BACKENDS = ("torch", pytest.param("jax-numpy", marks=_NO_JAX), pytest.param("jax", marks=_NO_JAX))


@contextmanager
def jax_backend(name: str) -> Iterator[None]:
    """``config.jax.backend`` set to ``name`` ("numpy" or "jax") inside the block, restored after it."""
    previous = config.jax.backend
    config.jax.backend = name
    try:
        yield
    finally:
        config.jax.backend = previous


@dataclass(frozen=True)
class Backend:
    """How a test builds wrappers and arrays for one backend and reads arrays back as NumPy."""

    name: str

    @property
    def framework(self) -> str:
        return "torch" if self.name == "torch" else "jax"

    def wrap_env(self, env: Any, **kwargs: Any) -> Any:
        if self.name == "torch":
            from steprl.envs.wrappers.torch import wrap_env

            return wrap_env(env, verbose=False, **kwargs)
        from steprl.envs.wrappers.jax import wrap_env

        with jax_backend("jax" if self.name == "jax" else "numpy"):
            return wrap_env(env, verbose=False, **kwargs)

    def array(self, values: Any, dtype: str = "float32") -> Any:
        """``values`` as this backend's array (what an agent would hand to the wrapper)."""
        data = np.asarray(values, dtype=dtype)
        if self.name == "torch":
            import torch

            return torch.from_numpy(data.copy())
        if self.name == "jax":
            import jax.numpy as jnp

            return jnp.asarray(data)
        return data

    def numpy(self, array: Any) -> np.ndarray:
        if self.name == "torch":
            return array.detach().cpu().numpy()
        return np.asarray(array)

    def is_native(self, array: Any) -> bool:
        """Whether ``array`` is of the type this backend returns (tensor, NumPy array or ``jax.Array``)."""
        if self.name == "torch":
            import torch

            return isinstance(array, torch.Tensor)
        if self.name == "jax":
            import jax

            return isinstance(array, jax.Array)
        return isinstance(array, np.ndarray)
