"""Format-neutral checkpoint pieces: atomic writes and the error type of unreadable checkpoints."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO

TMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_stale(directory: str, suffix: str) -> None:
    """Delete temporary files a crashed write to ``directory/suffix`` left behind."""
    for name in os.listdir(directory):
        if name.startswith(TMP_PREFIX) and name.endswith(suffix):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt or not a steprl/skrl checkpoint."""


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Write a file through ``write(fileobj)`` into a temporary file of the same directory, then rename it.

    A crash or exception leaves either the previous file or no file, never a partial one. The file gets the
    permissions the umask gives new files (0644 with the usual umask), and temporary files of earlier writes to the
    same path that a crash left behind are removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
        _remove_stale(directory, suffix)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
