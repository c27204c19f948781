"""JAX wrapper for PettingZoo parallel environments: NumPy or JAX arrays (per ``config.jax.backend``) over the
common PettingZoo wrapper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from steprl import config
from steprl.envs.wrappers.common.pettingzoo_wrapper import PettingZooWrapperBase
from steprl.envs.wrappers.jax.base import MultiAgentEnvWrapper


class PettingZooWrapper(PettingZooWrapperBase, MultiAgentEnvWrapper):
    __doc__ = (
        (PettingZooWrapperBase.__doc__ or "")
        + """
    JAX: NumPy arrays with ``config.jax.backend == "numpy"`` (the default), else ``jax.Array`` on the wrapper's
    device (one transfer per step for all agents); the backend is read when the wrapper is built. Actions may be
    JAX or NumPy arrays.
    """
    )

    def __init__(self, env: Any, *, check_finite: bool = True) -> None:
        super().__init__(env, check_finite=check_finite)
        self._jax = config.jax.backend == "jax"

    def _array(self, array: np.ndarray) -> Any:
        return jax.device_put(array, self._device) if self._jax else array

    def _tensors(self, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return jax.device_put(dict(arrays), self._device) if self._jax else dict(arrays)

    def _numpy(self, actions: Any) -> Any:
        return np.asarray(actions)
