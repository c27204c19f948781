"""JAX checkpoint files: a JSON header and a msgpack payload (flax.serialization), never pickle.

Layout: ``MAGIC`` (8 bytes), the header length (8 bytes, little endian), the UTF-8 JSON header
(``{"format", "size", "sha256", "entries"}``), then the msgpack payload: a dict of NumPy arrays, numbers, strings,
lists and nested dicts. The payload's size and SHA-256 are checked before it is decoded, so a truncated or corrupt
file is reported as such; files are written atomically (a crash leaves the previous file or none).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Mapping
from typing import Any

import flax.serialization
import jax
import numpy as np

from steprl.core.checkpoint import CheckpointError, atomic_write

__all__ = ["FORMAT", "MAGIC", "jax_load", "jax_save", "to_host"]

MAGIC = b"STEPRLJX"
FORMAT = 1
_LENGTH = struct.Struct("<Q")


def to_host(tree: Any) -> Any:
    """``tree`` with every array (JAX or NumPy) as a NumPy array, ready for :func:`jax_save`."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x) if hasattr(x, "shape") else x, tree)


def jax_save(data: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``data`` (a dict of pytrees of arrays and plain values) to ``path`` atomically."""
    payload = flax.serialization.msgpack_serialize(to_host(dict(data)))
    header = json.dumps(
        {
            "format": FORMAT,
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "entries": sorted(str(k) for k in data),
        }
    ).encode()

    def write(f: Any) -> None:
        f.write(MAGIC)
        f.write(_LENGTH.pack(len(header)))
        f.write(header)
        f.write(payload)

    atomic_write(path, write)


def jax_load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by :func:`jax_save`; :class:`CheckpointError` when it is anything else or damaged."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint not found: '{path}'")
    with open(path, "rb") as f:
        raw = f.read()
    if not raw:
        raise CheckpointError(f"Checkpoint '{path}' is empty (an interrupted write?)")
    if not raw.startswith(MAGIC):
        raise CheckpointError(f"Cannot load checkpoint '{path}': {_foreign(raw)}")
    start = len(MAGIC) + _LENGTH.size
    if len(raw) < start:
        raise CheckpointError(f"Checkpoint '{path}' is truncated (no header)")
    (length,) = _LENGTH.unpack(raw[len(MAGIC) : start])
    try:
        header = json.loads(raw[start : start + length].decode())
        size, digest, version = int(header["size"]), str(header["sha256"]), header["format"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"Checkpoint '{path}' has a corrupt header ({exc})") from exc
    if not isinstance(version, int) or version > FORMAT:
        raise CheckpointError(f"Checkpoint '{path}' uses JAX file format {version!r}; this steprl reads {FORMAT}")
    payload = raw[start + length :]
    if len(payload) != size:
        raise CheckpointError(f"Checkpoint '{path}' is truncated ({len(payload)} of {size} payload bytes)")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise CheckpointError(f"Checkpoint '{path}' is corrupt (its checksum does not match)")
    try:
        data = flax.serialization.msgpack_restore(payload)
    except Exception as exc:  # noqa: BLE001 - a payload that passed the checksum but does not decode is corrupt
        raise CheckpointError(f"Checkpoint '{path}' cannot be decoded ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"Checkpoint '{path}' holds a {type(data).__name__}, not a dict of modules")
    return data


def _foreign(raw: bytes) -> str:
    """What a file without the steprl JAX header is, in words."""
    if raw.startswith(b"PK\x03\x04"):
        return "it is a PyTorch checkpoint (load it with a steprl.agents.torch agent)"
    if raw[:1] == b"\x80":
        return "it is a pickle file (skrl's JAX format), which steprl refuses to unpickle"
    return "it is not a steprl JAX checkpoint (unknown file header)"
