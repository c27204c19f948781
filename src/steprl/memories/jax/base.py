"""JAX memory: the backend-neutral memory on NumPy arrays or ``jax.Array`` (``config.jax.backend``)."""

from __future__ import annotations

import datetime
import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl import config
from steprl.core.checkpoint import atomic_write
from steprl.core.memory import Batches, MemoryCore

__all__ = ["Memory", "Batches"]

_EXPORT_FORMATS = {"np": "npz", "npz": "npz", "pt": "npz"}  # "pt" (skrl's default name) is written as .npz here


@functools.partial(jax.jit, donate_argnums=0)
def _write_block(arrays: tuple[jax.Array, ...], row: Any, col: Any, values: tuple[Any, ...]) -> tuple[jax.Array, ...]:
    """``arrays`` with each value (``(rows, cols, ...)``) written at ``[row, col]``: one dispatch per step, in place
    (the storage is donated)."""
    return tuple(
        jax.lax.dynamic_update_slice(a, jnp.asarray(v, a.dtype), (row, col, *([0] * (a.ndim - 2))))
        for a, v in zip(arrays, values)
    )


class _FlatViews(dict):
    """``tensors_view`` of the JAX storage: each flat view is made when first asked for after a write."""

    def __init__(self, tensors: dict[str, Any]) -> None:
        super().__init__()
        self._tensors = tensors

    def __missing__(self, name: str) -> Any:
        array = self._tensors[name]
        view = self[name] = array.reshape(-1, *array.shape[2:])
        return view


def _block(value: Any, shape: tuple[int, int], target: Any) -> Any:
    """``value`` shaped ``(rows, cols, *item)`` for a write into ``target`` (reshaped only when needed)."""
    full = (*shape, *target.shape[2:])
    return value if tuple(value.shape) == full else value.reshape(full)


class Memory(MemoryCore):
    """Storage of ``(memory_size, num_envs, size)`` arrays; flat row ``t * num_envs + env`` (time-major).

    The arrays are NumPy arrays when ``config.jax.backend == "numpy"`` (the default: cheap per-step writes on the
    host) or ``jax.Array`` on ``device`` when it is ``"jax"``; the backend is read at construction. Float arrays
    start as NaN. Random indexes come from NumPy's global generator (seeded by ``set_seed``).

    With ``"jax"`` each ``add_samples`` writes every array in one jitted call that reuses (donates) the storage:
    arrays read from the memory are snapshots valid until the next write; copy one (``jnp.array(x)``) to keep it.
    """

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: Any = None,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
    ) -> None:
        super().__init__(memory_size, num_envs, export, export_format, export_directory)
        if export_format not in _EXPORT_FORMATS:
            raise ValueError(f"Unsupported export_format {export_format!r}: expected 'np' (alias 'npz', 'pt')")
        self.device = config.jax.device if device is None else config.jax.parse_device(device)
        self._jax = config.jax.backend == "jax"
        if self._jax:
            self.tensors_view = _FlatViews(self.tensors)

    # ------------------------------------------------------------------ backend hooks
    def _allocate(self, shape: tuple[int, ...], dtype: Any) -> Any:
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        array = np.full(shape, np.nan, dtype) if np.issubdtype(dtype, np.floating) else np.zeros(shape, dtype)
        return jax.device_put(array, self.device) if self._jax else array

    def _flat_view(self, array: Any) -> Any:
        return array.reshape(-1, *array.shape[2:])

    def _bind(self, name: str, tensor: Any, keep_dimensions: bool) -> None:
        if not self._jax:
            return super()._bind(name, tensor, keep_dimensions)
        setattr(self, f"_tensor_{name}", tensor)
        self.tensors[name] = tensor
        self.tensors_view.pop(name, None)  # made again when asked for
        self.tensors_keep_dimensions[name] = keep_dimensions

    def _write(self, name: str, index: Any, value: Any) -> None:
        self._write_all(index, {name: value})

    def _write_all(self, index: Any, values: dict[str, Any]) -> None:
        if not self._jax:
            for name, value in values.items():
                target = self.tensors[name]
                target[index] = np.asarray(value).reshape(target[index].shape)
            return
        row, col = index if isinstance(index, tuple) else (index, slice(0, self.num_envs))
        shape = (
            row.stop - row.start if isinstance(row, slice) else 1,
            col.stop - col.start if isinstance(col, slice) else 1,
        )
        names = list(values)
        targets = tuple(self.tensors[name] for name in names)
        blocks = tuple(_block(values[name], shape, target) for name, target in zip(names, targets))
        start_row = row.start if isinstance(row, slice) else row
        start_col = col.start if isinstance(col, slice) else col
        for name, array in zip(names, _write_block(targets, start_row, start_col, blocks)):
            self._bind(name, array, self.tensors_keep_dimensions[name])

    def _index(self, indexes: Any) -> Any:
        return jnp.asarray(indexes, dtype=jnp.int32) if self._jax else np.asarray(indexes, dtype=np.int64)

    def _randperm(self, n: int) -> Any:
        return self._index(np.random.permutation(n))

    def _randint(self, high: int, n: int) -> Any:
        return self._index(np.random.randint(0, high, (n,)))

    def _split(self, indexes: Any, parts: int) -> list[Any]:
        return list(jnp.array_split(indexes, parts)) if self._jax else np.array_split(indexes, parts)

    def _host(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    # ------------------------------------------------------------------ skrl extras
    def set_tensor_by_name(self, name: str, tensor: Any) -> None:
        """Replace the contents of ``name`` with ``tensor`` (same shape)."""
        target = self.get_tensor_by_name(name)
        if tuple(tensor.shape) != tuple(target.shape):
            raise ValueError(f"Tensor '{name}' has shape {tuple(target.shape)}, got {tuple(tensor.shape)}")
        if self._jax:
            self._bind(
                name, jax.device_put(jnp.asarray(tensor, target.dtype), self.device), self.tensors_keep_dimensions[name]
            )
        else:
            target[...] = np.asarray(tensor)

    def share_memory(self) -> None:
        """Nothing to do on this backend (kept for skrl compatibility)."""

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Arrays (as NumPy) and write position: what an agent checkpoint stores to resume with this memory."""
        names = self.get_tensor_names()
        return {
            "tensors": {name: np.asarray(self.tensors[name]) for name in names},
            "keep_dimensions": {name: self.tensors_keep_dimensions[name] for name in names},
            "position": [self.memory_index, self.env_index, int(self.filled)],
            "shape": [self.memory_size, self.num_envs],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (missing arrays are created; sizes must match → ``ValueError``)."""
        if [int(v) for v in state["shape"]] != [self.memory_size, self.num_envs]:
            raise ValueError(
                f"Memory state has (memory_size, num_envs) = {tuple(state['shape'])}, "
                f"this memory has {(self.memory_size, self.num_envs)}"
            )
        for name, array in state["tensors"].items():
            array = np.asarray(array)
            keep = bool(state.get("keep_dimensions", {}).get(name, array.ndim > 3))
            if name not in self.tensors:
                item = tuple(array.shape[2:])
                self.create_tensor(name, item if keep else int(np.prod(item)), array.dtype, keep)
            target = self.tensors[name]
            if tuple(target.shape) != array.shape or np.dtype(target.dtype) != array.dtype:
                raise ValueError(
                    f"Memory tensor '{name}': stored {array.shape} {array.dtype}, memory has {tuple(target.shape)} {target.dtype}"
                )
            self.set_tensor_by_name(name, array)
        self.memory_index, self.env_index, filled = (int(v) for v in state["position"])
        self.filled = bool(filled)

    def save(self, directory: str = "", format: str = "npz") -> str:
        """Write ``<directory>/memories/<timestamp>_memory_<hex id>.npz`` atomically; return its path."""
        if format not in _EXPORT_FORMATS:
            raise ValueError(f"Unsupported format {format!r}: expected 'np' or 'npz'")
        directory = os.path.join(directory or self.export_directory, "memories")
        os.makedirs(directory, exist_ok=True)
        timestamp = datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f")
        path = os.path.join(directory, f"{timestamp}_memory_{hex(id(self))}.npz")
        arrays = {name: np.asarray(self.tensors[name]) for name in self.get_tensor_names()}
        atomic_write(path, lambda file: np.savez(file, **arrays))
        return path

    def load(self, path: str) -> None:
        """Load a ``.npz`` snapshot written by :meth:`save` (position after the last row holding a non-NaN float)."""
        if os.path.splitext(path)[1].lower() != ".npz":
            raise ValueError(f"Unsupported memory file {path!r}: the JAX memory reads .npz snapshots")
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.array(data[name]) for name in data.files}
        for name, array in arrays.items():
            if array.ndim < 3 or array.shape[:2] != (self.memory_size, self.num_envs):
                raise ValueError(
                    f"{path!r}: tensor '{name}' has shape {array.shape}, expected ({self.memory_size}, {self.num_envs}, ...)"
                )
            if name not in self.tensors:
                self.create_tensor(name, tuple(array.shape[2:]), array.dtype, keep_dimensions=array.ndim > 3)
            self.set_tensor_by_name(name, array)
        self._set_length(self._valid_rows(list(arrays)))
