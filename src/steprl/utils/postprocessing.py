"""Reading what a run wrote: exported memories and TensorBoard event files, one file at a time.

Both iterators take a glob pattern (``glob.glob``; files in sorted order) and yield one ``(name, data)`` pair per
file, as skrl's do:

- :class:`MemoryFileIterator` yields ``(file name, {tensor name: data})`` for the memory snapshots steprl writes
  (``Memory.save`` / ``export``): ``.pt`` → torch tensors ``(memory_size, num_envs, size)`` (loaded with
  ``weights_only=True``, never unpickled), ``.npz`` → NumPy arrays of the same shape, ``.csv`` → lists of rows
  (``memory_size * num_envs`` rows of floats; booleans as 0.0/1.0).
- :class:`TensorboardFileIterator` yields ``(name of the file's directory, {tag: [[step, value], ...]})`` for the
  scalars of the selected tags, read with the ``tensorboard`` package (no TensorFlow needed).
"""

from __future__ import annotations

import abc
import glob
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MemoryFileIterator", "TensorboardFileIterator"]

MEMORY_FORMATS = (".pt", ".npz", ".csv")


class _FileIterator(abc.ABC):
    """Iterates over the files matching ``pathname`` (sorted), reading each with :meth:`_read`."""

    def __init__(self, pathname: str) -> None:
        self.n = 0
        self.file_paths: list[str] = sorted(glob.glob(os.fspath(pathname)))

    def __iter__(self) -> _FileIterator:
        return self

    def __next__(self) -> tuple[str, dict[str, Any]]:
        if self.n >= len(self.file_paths):
            raise StopIteration
        path = self.file_paths[self.n]
        self.n += 1
        return self._read(path)

    def __len__(self) -> int:
        return len(self.file_paths)

    @abc.abstractmethod
    def _read(self, path: str) -> tuple[str, dict[str, Any]]:
        """``(name, data)`` of the file at ``path``."""


class MemoryFileIterator(_FileIterator):
    """``(file name, data)`` for each memory snapshot matching ``pathname`` (see the module docstring).

    A file of another format is a ``ValueError`` naming it and the formats read here.
    """

    def _read(self, path: str) -> tuple[str, dict[str, Any]]:
        extension = os.path.splitext(path)[1].lower()
        if extension == ".pt":
            from steprl.memories.torch.serialization import read_pt

            data: dict[str, Any] = read_pt(path, "cpu")
        elif extension == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                data = {name: np.array(archive[name]) for name in archive.files}
        elif extension == ".csv":
            from steprl.memories.torch.serialization import read_csv

            data = {name: values.astype(np.float64).tolist() for name, values in read_csv(path).items()}
        else:
            raise ValueError(
                f"Unsupported memory file {path!r}: expected one of {', '.join(MEMORY_FORMATS)} (written by Memory.save)"
            )
        return os.path.basename(path), data


class TensorboardFileIterator(_FileIterator):
    """``(directory name, {tag: [[step, value], ...]})`` for each TensorBoard event file matching ``pathname``,
    keeping the scalars whose tag is in ``tags`` (a tag or a list of tags), in the order they were written."""

    def __init__(self, pathname: str, tags: str | Sequence[str]) -> None:
        super().__init__(pathname)
        self.tags: list[str] = [tags] if isinstance(tags, str) else list(tags)

    def _read(self, path: str) -> tuple[str, dict[str, Any]]:
        try:
            from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
            from tensorboard.util.tensor_util import make_ndarray
        except ImportError as exc:
            raise ImportError("reading TensorBoard files needs tensorboard: pip install \"steprl[tensorboard]\"") from exc
        wanted = set(self.tags)
        data: dict[str, list[list[float]]] = {}
        for event in LegacyEventFileLoader(path).Load():
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                if value.tag not in wanted:
                    continue
                if value.HasField("simple_value"):
                    number = float(value.simple_value)
                elif value.HasField("tensor"):
                    number = float(np.asarray(make_ndarray(value.tensor)).reshape(-1)[0])
                else:
                    continue  # not a scalar (histogram, image, text)
                data.setdefault(value.tag, []).append([int(event.step), number])
        return os.path.basename(os.path.dirname(os.path.abspath(path))), data
