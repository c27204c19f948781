"""Atomic checkpoint writes and safe loads (no arbitrary pickle execution)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt or not a steprl/skrl checkpoint."""


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Write a file through ``write(fileobj)`` into a temporary file of the same directory, then rename it.

    A crash or exception leaves either the previous file or no file, never a partial one.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` written atomically."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))


def torch_load(path: str | os.PathLike[str], map_location: Any = None) -> Any:
    """``torch.load(weights_only=True)`` with clear errors for missing, corrupt or unsafe files."""
    import torch

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
