"""Memory base class: preallocated time-major tensors written one environment step at a time."""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import torch

from steprl import config
from steprl.core.cfg import closest_key
from steprl.core.checkpoint import atomic_write
from steprl.memories.torch import serialization
from steprl.utils.spaces.common import compute_space_size

Batches = list[list[torch.Tensor]]


class Memory:
    """Storage of ``(memory_size, num_envs, size)`` tensors; flat row ``t * num_envs + env`` (time-major).

    Float tensors start as NaN so unwritten slots show. Writing an unknown tensor name raises ``KeyError``.
    """

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: str | torch.device | None = None,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
    ) -> None:
        for argument, value in (("memory_size", memory_size), ("num_envs", num_envs)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{argument} must be a positive int, got {value!r}")
        serialization.normalize_format(export_format, "export_format")
        self.memory_size = int(memory_size)
        self.num_envs = int(num_envs)
        self.device = config.torch.device if device is None else config.torch.parse_device(device)

        self.filled = False
        self.env_index = 0
        self.memory_index = 0

        self.tensors: dict[str, torch.Tensor] = {}
        self.tensors_view: dict[str, torch.Tensor] = {}
        self.tensors_keep_dimensions: dict[str, bool] = {}

        self.sampling_indexes: Any = None
        # flat rows reordered env-major: env 0 at t=0..T-1, then env 1, ...
        self.all_sequence_indexes = np.concatenate(
            [np.arange(i, self.memory_size * self.num_envs + i, self.num_envs) for i in range(self.num_envs)]
        )

        self.export = export
        self.export_format = export_format
        self.export_directory = export_directory

    def __len__(self) -> int:
        """Number of valid flat rows."""
        if self.filled:
            return self.memory_size * self.num_envs
        return self.memory_index * self.num_envs + self.env_index

    # tensors

    def create_tensor(
        self,
        name: str,
        size: int | Sequence[int] | gymnasium.Space,
        dtype: torch.dtype | None = None,
        keep_dimensions: bool = False,
    ) -> bool:
        """Create tensor ``name``; ``False`` if it already exists with the same size/dtype, ``ValueError`` if not."""
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
        tensor = torch.zeros((self.memory_size, self.num_envs, *shape), device=self.device, dtype=dtype)
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))  # only the new tensor: existing data is untouched
        self._bind(name, tensor, keep_dimensions)
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

    def _bind(self, name: str, tensor: torch.Tensor, keep_dimensions: bool) -> None:
        """Register ``tensor`` under ``name`` (dict, flat view and ``_tensor_<name>`` attribute)."""
        setattr(self, f"_tensor_{name}", tensor)
        self.tensors[name] = tensor
        self.tensors_view[name] = tensor.view(-1, *tensor.shape[2:])
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

    def get_tensor_by_name(self, name: str, keepdim: bool = True) -> torch.Tensor:
        """The ``(memory_size, num_envs, ...)`` tensor, or its flat view with ``keepdim=False``."""
        if name not in self.tensors:
            raise self._unknown_name_error(name)
        return self.tensors[name] if keepdim else self.tensors_view[name]

    def set_tensor_by_name(self, name: str, tensor: torch.Tensor) -> None:
        """Copy ``tensor`` into the storage of ``name`` (no gradient)."""
        target = self.get_tensor_by_name(name)
        with torch.no_grad():
            target.copy_(tensor)

    def get_sampling_indexes(self) -> Any:
        """Indexes of the last sampling."""
        return self.sampling_indexes

    def reset(self) -> None:
        """Mark the memory empty (data kept, overwritten by later writes)."""
        self.filled = False
        self.env_index = 0
        self.memory_index = 0

    def share_memory(self) -> None:
        """Move CPU tensors to shared memory (views keep pointing to the same storage)."""
        for tensor in self.tensors.values():
            if tensor.device.type == "cpu":
                tensor.share_memory_()

    # writing

    def add_samples(self, **tensors: torch.Tensor) -> None:
        """Record one step: ``(num_envs, ...)`` rows, ``(n < num_envs, ...)`` env slots, ``(n, ...)`` time rows
        when ``num_envs == 1`` (wrapping around), or one 1-D sample. The shape of ``states`` (else the first
        tensor) decides; the target rows are computed once per call.
        """
        if torch.is_grad_enabled():  # never record autograd history into the storage
            with torch.no_grad():
                return self.add_samples(**tensors)
        if not tensors:
            raise ValueError("add_samples() needs at least one tensor, passed as name=tensor keyword arguments")
        if not tensors.keys() <= self.tensors.keys():
            raise self._unknown_name_error(next(name for name in tensors if name not in self.tensors))
        reference = tensors["states"] if "states" in tensors else next(iter(tensors.values()))
        shape = reference.shape
        if len(shape) > 1 and shape[0] == self.num_envs:
            row = self.memory_index
            for name, value in tensors.items():
                self.tensors[name][row].copy_(value)
            self.memory_index += 1
        elif len(shape) > 1 and shape[0] < self.num_envs:
            start, stop = self.env_index, self.env_index + shape[0]
            if stop > self.num_envs:
                raise ValueError(
                    f"Cannot write {shape[0]} environment rows at env_index {self.env_index}: "
                    f"only {self.num_envs - self.env_index} of num_envs={self.num_envs} slots are left in this step"
                )
            row = self.memory_index
            for name, value in tensors.items():
                self.tensors[name][row, start:stop].copy_(value)
            self.env_index = stop
        elif len(shape) > 1 and self.num_envs == 1:
            self._add_time_rows(tensors, shape[0])
        elif len(shape) == 1:
            row, env = self.memory_index, self.env_index
            for name, value in tensors.items():
                self.tensors[name][row, env].copy_(value)
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

    def _add_time_rows(self, tensors: dict[str, torch.Tensor], n: int) -> None:
        """``num_envs == 1``: write ``n`` consecutive time rows from ``memory_index``, wrapping around."""
        skip = max(0, n - self.memory_size)  # only the last memory_size samples survive
        start = (self.memory_index + skip) % self.memory_size
        first = min(n - skip, self.memory_size - start)
        rest = n - skip - first
        for name, value in tensors.items():
            target = self.tensors[name]
            target[start : start + first, 0].copy_(value[skip : skip + first])
            if rest:
                target[:rest, 0].copy_(value[skip + first :])
        end = self.memory_index + n
        self.memory_index = end % self.memory_size
        if end >= self.memory_size:
            self._on_full()

    def _on_full(self) -> None:
        self.memory_index %= self.memory_size
        self.filled = True
        if self.export:
            self.save(directory=self.export_directory, format=self.export_format)

    # sampling

    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1) -> Batches:
        """Sample a batch (implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__}.sample() is not implemented")

    def sample_by_index(self, names: Sequence[str], indexes: Any, mini_batches: int = 1) -> Batches:
        """Gather flat rows ``indexes``, split into ``mini_batches`` (``array_split`` semantics)."""
        views = [self.get_tensor_by_name(name, keepdim=False) for name in names]
        indexes = torch.as_tensor(indexes, dtype=torch.long, device=self.device)
        if mini_batches > 1:
            return [[view[batch] for view in views] for batch in torch.tensor_split(indexes, mini_batches)]
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
            order = torch.as_tensor(self.all_sequence_indexes, device=self.device)
            if size < total:
                order = order[order < size]
            if shuffle:
                if order.numel() % sequence_length:
                    raise ValueError(
                        f"Cannot shuffle {order.numel()} rows in whole sequences of sequence_length={sequence_length}"
                    )
                blocks = torch.randperm(order.numel() // sequence_length, device=self.device)
                order = order.view(-1, sequence_length)[blocks].view(-1)
                self.sampling_indexes = order
            return self.sample_by_index(names, order, mini_batches)
        if shuffle:
            self.sampling_indexes = torch.randperm(size, device=self.device)
            return self.sample_by_index(names, self.sampling_indexes, mini_batches)
        views = [self.get_tensor_by_name(name, keepdim=False)[:size] for name in names]
        if mini_batches > 1:
            edges = [size * i // mini_batches for i in range(mini_batches + 1)]
            return [[view[edges[i] : edges[i + 1]] for view in views] for i in range(mini_batches)]
        return [views]

    # persistence

    def state_dict(self) -> dict[str, Any]:
        """Tensors and write position (what an agent checkpoint stores to resume with this memory's contents)."""
        return {
            "tensors": {name: self.tensors[name] for name in self.get_tensor_names()},
            "keep_dimensions": {name: self.tensors_keep_dimensions[name] for name in self.get_tensor_names()},
            "position": [self.memory_index, self.env_index, int(self.filled)],
            "shape": [self.memory_size, self.num_envs],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (missing tensors are created; sizes must match → ``ValueError``)."""
        if [int(v) for v in state["shape"]] != [self.memory_size, self.num_envs]:
            raise ValueError(
                f"Memory state has (memory_size, num_envs) = {tuple(state['shape'])}, "
                f"this memory has {(self.memory_size, self.num_envs)}"
            )
        for name, tensor in state["tensors"].items():
            keep = bool(state.get("keep_dimensions", {}).get(name, tensor.dim() > 3))
            if name not in self.tensors:
                tensor_shape = tuple(tensor.shape[2:])
                self.create_tensor(name, tensor_shape if keep else int(np.prod(tensor_shape)), tensor.dtype, keep)
            target = self.tensors[name]
            if target.shape != tensor.shape or target.dtype != tensor.dtype:
                raise ValueError(
                    f"Memory tensor '{name}': stored {tuple(tensor.shape)} {tensor.dtype}, "
                    f"memory has {tuple(target.shape)} {target.dtype}"
                )
            with torch.no_grad():
                target.copy_(tensor)
        self.memory_index, self.env_index, filled = (int(v) for v in state["position"])
        self.filled = bool(filled)

    def save(self, directory: str = "", format: str = "pt") -> str:
        """Write ``<directory>/memories/<timestamp>_memory_<hex id>.<ext>`` atomically; return its path."""
        extension = serialization.normalize_format(format)
        directory = os.path.join(directory or self.export_directory, "memories")
        os.makedirs(directory, exist_ok=True)
        timestamp = datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f")
        path = os.path.join(directory, f"{timestamp}_memory_{hex(id(self))}.{extension}")
        tensors = {name: self.tensors[name] for name in self.get_tensor_names()}
        if extension == "pt":
            atomic_write(path, lambda file: serialization.write_pt(file, tensors))
        elif extension == "npz":
            atomic_write(path, lambda file: serialization.write_npz(file, tensors))
        else:
            views = {name: self.tensors_view[name] for name in tensors}
            rows = len(self)
            atomic_write(path, lambda file: serialization.write_csv(file, views, rows))
        return path

    def load(self, path: str) -> None:
        """Load a snapshot written by :meth:`save` into this memory's storage (copied in place; missing
        tensors are created). The write position is set after the last valid row: all rows of a ``.csv``,
        and for ``.pt``/``.npz`` the rows up to the last one holding a non-NaN float value.
        """
        extension = os.path.splitext(path)[1].lower()
        if extension == ".pt":
            self._load_full(serialization.read_pt(path, self.device), path)
        elif extension in (".npz", ".np"):
            self._load_full(serialization.read_npz(path), path)
        elif extension == ".csv":
            self._load_csv(path)
        else:
            raise ValueError(f"Unsupported memory file {path!r}: expected a .pt, .npz or .csv extension")

    def _load_full(self, data: dict[str, torch.Tensor], path: str) -> None:
        for name, tensor in data.items():
            if tuple(tensor.shape[:2]) != (self.memory_size, self.num_envs) or tensor.dim() < 3:
                raise ValueError(
                    f"{path!r}: tensor '{name}' has shape {tuple(tensor.shape)}, expected "
                    f"({self.memory_size}, {self.num_envs}, ...) for this memory"
                )
            if name not in self.tensors:
                self.create_tensor(name, tuple(tensor.shape[2:]), tensor.dtype, keep_dimensions=tensor.dim() > 3)
            target = self.tensors[name]
            if target.shape != tensor.shape:
                raise ValueError(
                    f"{path!r}: tensor '{name}' has shape {tuple(tensor.shape)}, memory has {tuple(target.shape)}"
                )
            with torch.no_grad():
                target.copy_(tensor)
        self._set_length(self._count_valid_rows(data))

    def _load_csv(self, path: str) -> None:
        columns = serialization.read_csv(path)
        rows = next(iter(columns.values())).shape[0] if columns else 0
        if rows > self.memory_size * self.num_envs:
            raise ValueError(
                f"{path!r} has {rows} rows, more than this memory holds ({self.memory_size * self.num_envs})"
            )
        for name, values in columns.items():
            if name not in self.tensors:
                self.create_tensor(name, values.shape[1])
            view = self.tensors_view[name]
            if int(np.prod(view.shape[1:])) != values.shape[1]:
                raise ValueError(
                    f"{path!r}: tensor '{name}' has {values.shape[1]} columns, memory has {tuple(view.shape[1:])}"
                )
            with torch.no_grad():
                view[:rows].copy_(serialization.parse_column(values, view.dtype).view(rows, *view.shape[1:]))
        self._set_length(rows)

    def _count_valid_rows(self, data: dict[str, torch.Tensor]) -> int:
        """Rows up to the last one with a non-NaN value in any float tensor (all rows if there is none)."""
        total = self.memory_size * self.num_envs
        written = None
        for name in data:
            view = self.tensors_view[name]
            if view.is_floating_point():
                mask = ~torch.isnan(view.reshape(total, -1)).all(dim=1)
                written = mask if written is None else written | mask
        if written is None:
            return total
        rows = torch.nonzero(written)
        return int(rows[-1]) + 1 if rows.numel() else 0

    def _set_length(self, rows: int) -> None:
        total = self.memory_size * self.num_envs
        self.filled = rows >= total
        self.memory_index, self.env_index = divmod(rows % total, self.num_envs)
