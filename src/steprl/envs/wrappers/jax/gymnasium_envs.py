"""JAX wrapper for Gymnasium environments and vector environments: NumPy or JAX arrays per ``config.jax.backend``."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from steprl import config
from steprl.envs.wrappers.common.gymnasium_wrapper import GymnasiumWrapperBase
from steprl.envs.wrappers.jax.base import Wrapper


class GymnasiumWrapper(GymnasiumWrapperBase, Wrapper):
    """The common Gymnasium wrapper, returning NumPy arrays (``config.jax.backend == "numpy"``, the
    default) or ``jax.Array`` on the wrapper's device (``"jax"``); the backend is read when the wrapper is built.
    Actions may be JAX or NumPy arrays. Terminated/truncated flags are bool (skrl's JAX wrappers use int8; with
    bool, ``~`` and ``|`` mean the same on every backend).
    """

    def __init__(self, env: Any, *, check_finite: bool = True, partial_reset: bool | None = None) -> None:
        super().__init__(env, check_finite=check_finite, partial_reset=partial_reset)
        self._jax = config.jax.backend == "jax"

    def _array(self, array: np.ndarray) -> Any:
        return jax.device_put(array, self._device) if self._jax else array

    def _arrays(self, *arrays: np.ndarray) -> list[Any]:
        return jax.device_put(list(arrays), self._device) if self._jax else list(arrays)
