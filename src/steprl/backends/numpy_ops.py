"""NumPy implementation of :class:`steprl.backends.ArrayOps` (also for arrays of unregistered types)."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np


class NumpyOps:
    name = "numpy"

    def zeros(self, n: int, dtype: str, like: Any) -> np.ndarray:
        return np.zeros(n, dtype=dtype)

    def stack(self, arrays: list[Any]) -> np.ndarray:
        return np.stack([np.asarray(a) for a in arrays])

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def no_grad(self) -> Any:
        return contextlib.nullcontext()

    def concatenate(self, arrays: list[Any]) -> np.ndarray:
        return np.concatenate([np.asarray(a) for a in arrays], axis=0)

    def host_view(self, array: Any) -> np.ndarray:
        return np.asarray(array)


NUMPY_OPS = NumpyOps()
