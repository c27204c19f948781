"""PyTorch checkpoint files: ``torch.save`` written atomically, ``torch.load(weights_only=True)`` with clear errors."""

from __future__ import annotations

import os
import zipfile
from typing import Any

import torch

from steprl.core.checkpoint import CheckpointError, atomic_write

__all__ = ["torch_load", "torch_save"]


def torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` written atomically."""
    atomic_write(path, lambda f: torch.save(obj, f))


def torch_load(path: str | os.PathLike[str], map_location: Any = None) -> Any:
    """``torch.load(weights_only=True)`` with clear errors for missing, corrupt or unsafe files."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint not found: '{path}'")
    if os.path.getsize(path) == 0:
        raise CheckpointError(f"Checkpoint '{path}' is empty (an interrupted write?)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - every failure here means the file cannot be trusted or read
        raise CheckpointError(f"Cannot load checkpoint '{path}': {_reason(path, exc)}") from exc


def _reason(path: str, exc: Exception) -> str:
    """Why ``torch.load`` failed, in words: not a PyTorch file, damaged, or holding arbitrary Python objects."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    with open(path, "rb") as f:
        head = f.read(4)
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        return "it is not a PyTorch checkpoint (neither a zip archive nor a pickle)"
    if "unsupported GLOBAL" in str(exc) or "Unsupported global" in str(exc):
        return "it contains arbitrary Python objects, which steprl refuses to unpickle"
    return f"it is truncated or corrupt ({type(exc).__name__}: {message})"
