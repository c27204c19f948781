"""Conversions between Gymnasium space values and PyTorch tensors (the neutral logic is in ``spaces.conversions``).

A *tensorized* value mirrors the space: a tensor with a leading batch dimension for each fundamental space
(Box → float32 ``(B, *shape)``, Discrete → int32 ``(B, 1)``, MultiDiscrete/MultiBinary → int32 ``(B, *shape)``),
a dict for Dict spaces and a tuple for Tuple spaces. *Flattening* concatenates the leaves (Dict keys sorted) into
one ``(B, size)`` tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from steprl.utils.spaces import conversions
from steprl.utils.spaces.common import compute_space_size
from steprl.utils.spaces.conversions import convert_gym_space

__all__ = [
    "compute_space_size",
    "convert_gym_space",
    "flatten_tensorized_space",
    "sample_space",
    "tensorize_space",
    "unflatten_tensorized_space",
    "untensorize_space",
]


class _TorchKit:
    def is_array(self, x: Any) -> bool:
        return isinstance(x, torch.Tensor)

    def from_numpy(self, array: np.ndarray, device: Any) -> torch.Tensor:
        return torch.as_tensor(array, device=device)

    def to_numpy(self, x: torch.Tensor) -> np.ndarray:
        x = x.detach().cpu()
        return (x.float() if x.dtype in (torch.bfloat16, torch.float16) else x).numpy()

    def concatenate(self, arrays: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(arrays, dim=-1)


_KIT = _TorchKit()


def tensorize_space(space: spaces.Space, x: Any, device: Any = None) -> Any:
    """Convert a (batched or single) value of ``space`` to tensors with a leading batch dimension.

    Tensors are only reshaped (they keep their dtype and device); other values are copied to ``device``.
    """
    return conversions.tensorize(_KIT, space, x, device)


def untensorize_space(space: spaces.Space, x: Any, squeeze_batch_dimension: bool = True) -> Any:
    """Convert tensorized values back to NumPy values of the space dtype.

    With ``squeeze_batch_dimension`` a batch of size 1 loses its batch dimension (a Discrete value becomes a
    Python int).
    """
    return conversions.untensorize(_KIT, space, x, squeeze_batch_dimension)


def flatten_tensorized_space(x: Any) -> torch.Tensor:
    """Flatten a tensorized value into one ``(batch, size)`` tensor (Dict keys sorted; mixed dtypes promote)."""
    return conversions.flatten(_KIT, x)


def unflatten_tensorized_space(space: spaces.Space | Sequence[int] | int, x: torch.Tensor | None) -> Any:
    """Split a ``(batch, size)`` tensor back into the tensorized structure of ``space`` (inverse of flattening)."""
    return conversions.unflatten(space, x)


def sample_space(space: spaces.Space, batch_size: int = 1, backend: str = "numpy", device: Any = None) -> Any:
    """Draw a batch of ``batch_size`` random values of ``space`` as NumPy arrays or (``backend="torch"``) tensors."""
    if backend not in ("numpy", "torch"):
        raise ValueError(f"Unsupported backend {backend!r}: expected 'numpy' or 'torch'")
    return conversions.sample(None if backend == "numpy" else _KIT, space, batch_size, device)
