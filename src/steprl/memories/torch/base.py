"""Memory base class: preallocated time-major tensors written one environment step at a time."""

from __future__ import annotations

import datetime
import os
from typing import Any

import numpy as np
import torch

from steprl import config
from steprl.core.checkpoint import atomic_write
from steprl.core.memory import MemoryCore
from steprl.memories.torch import serialization

Batches = list[list[torch.Tensor]]


class Memory(MemoryCore):
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
        super().__init__(memory_size, num_envs, export, export_format, export_directory)
        serialization.normalize_format(export_format, "export_format")
        self.device = config.torch.device if device is None else config.torch.parse_device(device)

    # backend hooks

    def _allocate(self, shape: tuple[int, ...], dtype: Any) -> torch.Tensor:
        tensor = torch.zeros(shape, device=self.device, dtype=dtype)
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))
        return tensor

    def _flat_view(self, array: torch.Tensor) -> torch.Tensor:
        return array.view(-1, *array.shape[2:])

    def _write(self, name: str, index: Any, value: torch.Tensor) -> None:
        self.tensors[name][index].copy_(value)

    def _index(self, indexes: Any) -> torch.Tensor:
        return torch.as_tensor(indexes, dtype=torch.long, device=self.device)

    def _randperm(self, n: int) -> torch.Tensor:
        return torch.randperm(n, device=self.device)

    def _randint(self, high: int, n: int) -> torch.Tensor:
        return torch.randint(0, high, (n,), device=self.device)

    def _split(self, indexes: torch.Tensor, parts: int) -> list[torch.Tensor]:
        return list(torch.tensor_split(indexes, parts))

    def _host(self, array: torch.Tensor) -> np.ndarray:
        array = array.detach().cpu()
        return (array.float() if array.is_floating_point() else array).numpy()

    def set_tensor_by_name(self, name: str, tensor: torch.Tensor) -> None:
        """Copy ``tensor`` into the storage of ``name`` (no gradient)."""
        target = self.get_tensor_by_name(name)
        with torch.no_grad():
            target.copy_(tensor)

    def share_memory(self) -> None:
        """Move CPU tensors to shared memory (views keep pointing to the same storage)."""
        for tensor in self.tensors.values():
            if tensor.device.type == "cpu":
                tensor.share_memory_()

    # writing

    def add_samples(self, **tensors: torch.Tensor) -> None:
        if torch.is_grad_enabled():  # never record autograd history into the storage
            with torch.no_grad():
                return super().add_samples(**tensors)
        return super().add_samples(**tensors)

    add_samples.__doc__ = MemoryCore.add_samples.__doc__

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
        self._set_length(self._valid_rows(list(data)))

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
