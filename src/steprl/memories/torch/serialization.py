"""File formats of memory snapshots (``pt``, ``npz``, ``csv``) and atomic writes."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping
from typing import BinaryIO

import numpy as np
import torch

# accepted format names -> file extension ("np" is an alias of "npz", as skrl accepts both)
FORMATS: dict[str, str] = {"pt": "pt", "np": "npz", "npz": "npz", "csv": "csv"}


def normalize_format(format: str, argument: str = "format") -> str:
    """The file extension for a format name; ``ValueError`` for an unknown one."""
    try:
        return FORMATS[format]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unsupported {argument} {format!r}: expected one of 'pt', 'np' (alias 'npz') or 'csv'"
        ) from None


def write_pt(file: BinaryIO, tensors: Mapping[str, torch.Tensor]) -> None:
    """A ``torch.save`` dict of tensors."""
    torch.save({name: tensor.detach() for name, tensor in tensors.items()}, file)


def write_npz(file: BinaryIO, tensors: Mapping[str, torch.Tensor]) -> None:
    """A NumPy ``.npz`` archive of arrays (dtypes NumPy lacks are stored as float32)."""
    arrays = {}
    for name, tensor in tensors.items():
        tensor = tensor.detach().cpu()
        if tensor.dtype in (torch.bfloat16,):
            tensor = tensor.float()
        arrays[name] = tensor.numpy()
    np.savez(file, **arrays)


def write_csv(file: BinaryIO, views: Mapping[str, torch.Tensor], rows: int) -> None:
    """Header ``name.i`` (flattened columns) then the first ``rows`` flat rows, names in the given order."""
    columns = []
    header = []
    for name, view in views.items():
        flat = view[:rows].detach().reshape(rows, -1).cpu()
        if flat.dtype == torch.bool:
            flat = flat.to(torch.uint8)
        elif flat.dtype in (torch.bfloat16, torch.float16):
            flat = flat.float()
        header.extend(f"{name}.{i}" for i in range(flat.shape[1]))
        columns.append(flat.tolist())
    text = io.TextIOWrapper(file, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    for i in range(rows):
        writer.writerow(itertools.chain.from_iterable(column[i] for column in columns))
    text.flush()
    text.detach()


def read_pt(path: str, device: torch.device) -> dict[str, torch.Tensor]:
    """Tensors of a ``.pt`` snapshot, loaded with ``weights_only=True``."""
    data = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ValueError(f"{path!r} is not a memory snapshot: expected a dict of tensors")
    return data


def read_npz(path: str) -> dict[str, torch.Tensor]:
    """Tensors of a ``.npz`` snapshot."""
    with np.load(path, allow_pickle=False) as data:
        return {name: torch.from_numpy(np.array(data[name])) for name in data.files}


def read_csv(path: str) -> dict[str, np.ndarray]:
    """Columns of a ``.csv`` snapshot grouped by tensor name: ``{name: (rows, size) array of str}``."""
    with open(path, encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{path!r} is empty: expected a header of 'name.i' columns") from None
        table = np.array([row for row in reader if row], dtype=str).reshape(-1, len(header))
    groups: dict[str, list[int]] = {}
    for column, label in enumerate(header):
        name, sep, index = label.rpartition(".")
        if not sep or not index.isdigit():
            raise ValueError(f"{path!r}: column {label!r} is not of the form 'name.i'")
        groups.setdefault(name, []).append(column)
    return {name: table[:, columns] for name, columns in groups.items()}


def parse_column(values: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """Convert a str array read from csv to a tensor of ``dtype``."""
    if dtype == torch.bool:
        return torch.from_numpy(values.astype(np.float64) != 0)
    if dtype.is_floating_point or dtype.is_complex:
        return torch.from_numpy(values.astype(np.float64)).to(dtype)
    return torch.from_numpy(values.astype(np.int64)).to(dtype)
