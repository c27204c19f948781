"""Format-neutral checkpoint pieces: atomic writes and the error type of unreadable checkpoints."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO


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
