"""The backend-neutral part of the memories: fixed ``(memory_size, num_envs, ...)`` schemas and write positions.

A backend subclasses :class:`MemoryCore` and supplies how arrays are allocated, viewed, written, gathered and how
random indexes are drawn (its own RNG). Everything about shapes, positions, names and errors lives here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np

from steprl.core.cfg import closest_key
from steprl.utils.spaces.common import compute_space_size

Batches = list[list[Any]]


class MemoryCore:
    """Storage of ``(memory_size, num_envs, size)`` arrays; flat row ``t * num_envs + env`` (time-major).

    Float arrays start as NaN so unwritten slots show. Writing an unknown name raises ``KeyError``.
    """

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
    ) -> None:
        for argument, value in (("memory_size", memory_size), ("num_envs", num_envs)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{argument} must be a positive int, got {value!r}")
        self.memory_size = int(memory_size)
        self.num_envs = int(num_envs)

        self.filled = False
        self.env_index = 0
        self.memory_index = 0

        self.tensors: dict[str, Any] = {}
        self.tensors_view: dict[str, Any] = {}
        self.tensors_keep_dimensions: dict[str, bool] = {}

        self.sampling_indexes: Any = None
        # flat rows reordered env-major: env 0 at t=0..T-1, then env 1, ...
        self.all_sequence_indexes = np.concatenate(
            [np.arange(i, self.memory_size * self.num_envs + i, self.num_envs) for i in range(self.num_envs)]
        )

        self.export = export
        self.export_format = export_format
        self.export_directory = export_directory

    # ------------------------------------------------------------------ backend hooks
    def _allocate(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """A new array of ``shape`` and ``dtype`` (float: NaN-filled, else zeros)."""
        raise NotImplementedError

    def _flat_view(self, array: Any) -> Any:
        """``array`` seen as ``(memory_size * num_envs, ...)`` rows."""
        raise NotImplementedError

    def _write(self, name: str, index: Any, value: Any) -> None:
        """Store ``value`` at ``self.tensors[name][index]``."""
        raise NotImplementedError

    def _write_all(self, index: Any, values: dict[str, Any]) -> None:
        """Store every array of ``values`` at ``[index]`` of its storage (a backend may do it in one call)."""
        for name, value in values.items():
            self._write(name, index, value)

    def _index(self, indexes: Any) -> Any:
        """Row indexes (a NumPy array or the backend's) as the backend's integer index array."""
        raise NotImplementedError

    def _randperm(self, n: int) -> Any:
        """A random permutation of ``range(n)`` as the backend's index array (the backend's RNG)."""
        raise NotImplementedError

    def _randint(self, high: int, n: int) -> Any:
        """``n`` random integers in ``[0, high)`` as the backend's index array (the backend's RNG)."""
        raise NotImplementedError

    def _split(self, indexes: Any, parts: int) -> list[Any]:
        """``indexes`` split into ``parts`` (``array_split`` semantics)."""
        raise NotImplementedError

    def _valid_rows(self, names: Sequence[str]) -> int:
        """Rows up to the last one with a non-NaN value in any float array of ``names`` (all when none is float)."""
        total = self.memory_size * self.num_envs
        written = None
        for name in names:
            view = np.asarray(self._host(self.tensors_view[name]))
            if np.issubdtype(view.dtype, np.floating):
                mask = ~np.isnan(view.reshape(total, -1)).all(axis=1)
                written = mask if written is None else written | mask
        if written is None:
            return total
        rows = np.nonzero(written)[0]
        return int(rows[-1]) + 1 if rows.size else 0

    def _host(self, array: Any) -> Any:
        """``array`` readable by NumPy."""
        return array

    # ------------------------------------------------------------------ size and names
    def __len__(self) -> int:
        """Number of valid flat rows."""
        if self.filled:
            return self.memory_size * self.num_envs
        return self.memory_index * self.num_envs + self.env_index

    def create_tensor(
        self, name: str, size: int | Sequence[int] | gymnasium.Space, dtype: Any = None, keep_dimensions: bool = False
    ) -> bool:
        """Create array ``name``; ``False`` if it already exists with the same size/dtype, ``ValueError`` if not."""
        shape = self._item_shape(size, keep_dimensions)
        if name in self.tensors:
            tensor = self.tensors[name]
            if tuple(tensor.shape[2:]) != shape:
                raise ValueError(
                    f"Tensor '{name}' already exists with item shape {tuple(tensor.shape[2:])}, requested {shape}"
                )
            if dtype is not None and tensor.dtype != dtype:
                raise ValueError(f"Tensor '{name}' already exists with dtype {tensor.dtype}, requested {dtype}")
            return False
        # only the new array is NaN-filled: existing data is untouched
        self._bind(name, self._allocate((self.memory_size, self.num_envs, *shape), dtype), keep_dimensions)
        return True

    def _item_shape(self, size: Any, keep_dimensions: bool) -> tuple[int, ...]:
        """Per-sample shape: ``(size,)`` or, with ``keep_dimensions``, the space's own shape."""
        if not keep_dimensions:
            return (compute_space_size(size, occupied_size=True),)
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            return (int(size),)
        if isinstance(size, Sequence) and not isinstance(size, (str, bytes)):
            return tuple(int(s) for s in size)
        if isinstance(size, gymnasium.spaces.Discrete):
            return (1,)
        if isinstance(size, (gymnasium.spaces.Box, gymnasium.spaces.MultiDiscrete, gymnasium.spaces.MultiBinary)):
            return tuple(int(s) for s in size.shape)
        raise ValueError(
            f"keep_dimensions=True needs an int, a shape or a Box/Discrete/MultiDiscrete space, got {size!r}"
        )

    def _bind(self, name: str, tensor: Any, keep_dimensions: bool) -> None:
        """Register ``tensor`` under ``name`` (dict, flat view and ``_tensor_<name>`` attribute)."""
        setattr(self, f"_tensor_{name}", tensor)
        self.tensors[name] = tensor
        self.tensors_view[name] = self._flat_view(tensor)
        self.tensors_keep_dimensions[name] = keep_dimensions

    def _unknown_name_error(self, name: str) -> KeyError:
        suggestion = closest_key(name, list(self.tensors))
        hint = f" Did you mean '{suggestion}'?" if suggestion else ""
        return KeyError(
            f"Memory has no tensor '{name}'.{hint} Existing tensors: {', '.join(self.get_tensor_names()) or '(none)'}"
        )

    def get_tensor_names(self) -> list[str]:
        """Sorted tensor names."""
        return sorted(self.tensors)

    def get_tensor_by_name(self, name: str, keepdim: bool = True) -> Any:
        """The ``(memory_size, num_envs, ...)`` array, or its flat view with ``keepdim=False``."""
        if name not in self.tensors:
            raise self._unknown_name_error(name)
        return self.tensors[name] if keepdim else self.tensors_view[name]

    def get_sampling_indexes(self) -> Any:
        """Indexes of the last sampling."""
        return self.sampling_indexes

    def reset(self) -> None:
        """Mark the memory empty (data kept, overwritten by later writes)."""
        self.filled = False
        self.env_index = 0
        self.memory_index = 0

    # ------------------------------------------------------------------ writing
    def add_samples(self, **tensors: Any) -> None:
        """Record one step: ``(num_envs, ...)`` rows, ``(n < num_envs, ...)`` env slots, ``(n, ...)`` time rows
        when ``num_envs == 1`` (wrapping around), or one 1-D sample. The shape of ``states`` (else the first
        array) decides; the target rows are computed once per call.
        """
        if not tensors:
            raise ValueError("add_samples() needs at least one tensor, passed as name=tensor keyword arguments")
        if not tensors.keys() <= self.tensors.keys():
            raise self._unknown_name_error(next(name for name in tensors if name not in self.tensors))
        reference = tensors["states"] if "states" in tensors else next(iter(tensors.values()))
        shape = reference.shape
        if len(shape) > 1 and shape[0] == self.num_envs:
            self._write_all(self.memory_index, tensors)
            self.memory_index += 1
        elif len(shape) > 1 and shape[0] < self.num_envs:
            start, stop = self.env_index, self.env_index + shape[0]
            if stop > self.num_envs:
                raise ValueError(
                    f"Cannot write {shape[0]} environment rows at env_index {self.env_index}: "
                    f"only {self.num_envs - self.env_index} of num_envs={self.num_envs} slots are left in this step"
                )
            self._write_all((self.memory_index, slice(start, stop)), tensors)
            self.env_index = stop
        elif len(shape) > 1 and self.num_envs == 1:
            self._add_time_rows(tensors, shape[0])
        elif len(shape) == 1:
            self._write_all((self.memory_index, self.env_index), tensors)
            self.env_index += 1
        else:
            raise ValueError(
                f"Expected tensors of shape (num_envs={self.num_envs}, ...), (n < {self.num_envs}, ...), "
                f"(n, ...) with num_envs == 1, or a 1-D sample; got {tuple(shape)}"
            )
        if self.env_index >= self.num_envs:
            self.env_index = 0
            self.memory_index += 1
        if self.memory_index >= self.memory_size:
            self._on_full()

    def _add_time_rows(self, tensors: dict[str, Any], n: int) -> None:
        """``num_envs == 1``: write ``n`` consecutive time rows from ``memory_index``, wrapping around."""
        skip = max(0, n - self.memory_size)  # only the last memory_size samples survive
        start = (self.memory_index + skip) % self.memory_size
        first = min(n - skip, self.memory_size - start)
        rest = n - skip - first
        self._write_all((slice(start, start + first), 0), {k: v[skip : skip + first] for k, v in tensors.items()})
        if rest:
            self._write_all((slice(0, rest), 0), {k: v[skip + first :] for k, v in tensors.items()})
        end = self.memory_index + n
        self.memory_index = end % self.memory_size
        if end >= self.memory_size:
            self._on_full()

    def _on_full(self) -> None:
        self.memory_index %= self.memory_size
        self.filled = True
        if self.export:
            self.save(directory=self.export_directory, format=self.export_format)

    def save(self, directory: str = "", format: str = "pt") -> str:
        """Write a snapshot of the arrays (implemented by each backend)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ sampling
    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1) -> Batches:
        """Sample a batch (implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__}.sample() is not implemented")

    def sample_by_index(self, names: Sequence[str], indexes: Any, mini_batches: int = 1) -> Batches:
        """Gather flat rows ``indexes``, split into ``mini_batches`` (``array_split`` semantics)."""
        views = [self.get_tensor_by_name(name, keepdim=False) for name in names]
        indexes = self._index(indexes)
        if mini_batches > 1:
            return [[view[batch] for view in views] for batch in self._split(indexes, mini_batches)]
        return [[view[indexes] for view in views]]

    def sample_all(
        self, names: Sequence[str], mini_batches: int = 1, sequence_length: int = 1, shuffle: bool = False
    ) -> Batches:
        """All valid rows (only ``len(self)`` rows of a non-full memory).

        Default order is time-major in contiguous chunks; ``sequence_length > 1`` uses env-major order;
        ``shuffle=True`` draws a fresh permutation (of whole sequences when ``sequence_length > 1``).
        """
        size, total = len(self), self.memory_size * self.num_envs
        if size == 0:
            raise ValueError("sample_all() on an empty memory: add samples first")
        if sequence_length > 1:
            order = self.all_sequence_indexes
            if size < total:
                order = order[order < size]
            order = self._index(order)
            if shuffle:
                if order.shape[0] % sequence_length:
                    raise ValueError(
                        f"Cannot shuffle {order.shape[0]} rows in whole sequences of sequence_length={sequence_length}"
                    )
                blocks = self._randperm(order.shape[0] // sequence_length)
                order = order.reshape(-1, sequence_length)[blocks].reshape(-1)
                self.sampling_indexes = order
            return self.sample_by_index(names, order, mini_batches)
        if shuffle:
            self.sampling_indexes = self._randperm(size)
            return self.sample_by_index(names, self.sampling_indexes, mini_batches)
        views = [self.get_tensor_by_name(name, keepdim=False)[:size] for name in names]
        if mini_batches > 1:
            edges = [size * i // mini_batches for i in range(mini_batches + 1)]
            return [[view[edges[i] : edges[i + 1]] for view in views] for i in range(mini_batches)]
        return [views]

    def _set_length(self, rows: int) -> None:
        total = self.memory_size * self.num_envs
        self.filled = rows >= total
        self.memory_index, self.env_index = divmod(rows % total, self.num_envs)


class RandomSampling(MemoryCore):
    """``RandomMemory``'s sampling, for every backend: ``class RandomMemory(RandomSampling, Memory)``."""

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: Any = None,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
        replacement: bool = True,
    ) -> None:
        super().__init__(memory_size, num_envs, device, export, export_format, export_directory)
        self._replacement = replacement

    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1) -> Batches:
        """``batch_size`` random valid rows (each expanded to ``sequence_length`` consecutive steps of one env),
        split into ``mini_batches``.
        """
        size = len(self) - (sequence_length - 1) * self.num_envs
        if size <= 0:
            raise ValueError(
                f"Cannot sample: the memory holds {len(self)} rows, fewer than one sequence of "
                f"sequence_length={sequence_length} x num_envs={self.num_envs}"
            )
        if self._replacement:
            indexes = self._randint(size, batch_size)
        else:
            indexes = self._randperm(size)[:batch_size]
        if sequence_length > 1:
            offsets = self._index(np.arange(0, self.num_envs * sequence_length, self.num_envs))
            indexes = (indexes.reshape(-1, 1) + offsets).reshape(-1)
        self.sampling_indexes = indexes
        return self.sample_by_index(names, indexes, mini_batches)
