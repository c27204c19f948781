"""PyTorch checkpoint files: ``torch.save`` written atomically, ``torch.load(weights_only=True)`` with clear errors."""

from __future__ import annotations

import os
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
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Weights only load failed" in str(exc) or "Unsupported global" in str(exc):
            reason = "it contains arbitrary Python objects, which steprl refuses to unpickle"
        else:
            reason = f"it is truncated, corrupt or not a PyTorch file ({type(exc).__name__}: {message})"
        raise CheckpointError(f"Cannot load checkpoint '{path}': {reason}") from exc
