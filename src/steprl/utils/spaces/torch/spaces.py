"""Conversions between Gymnasium space values and PyTorch tensors.

A *tensorized* value mirrors the space: a tensor with a leading batch dimension for each fundamental space
(Box → float32 ``(B, *shape)``, Discrete → int32 ``(B, 1)``, MultiDiscrete/MultiBinary → int32 ``(B, *shape)``),
a dict for Dict spaces and a tuple for Tuple spaces. *Flattening* concatenates the leaves (Dict keys sorted) into
one ``(B, size)`` tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from steprl.utils.spaces.common import compute_space_size

__all__ = [
    "compute_space_size",
    "convert_gym_space",
    "flatten_tensorized_space",
    "sample_space",
    "tensorize_space",
    "unflatten_tensorized_space",
    "untensorize_space",
]

_INTEGER_SPACES = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def _unsupported_space(space: Any) -> ValueError:
    return ValueError(
        f"Unsupported space {space!r} ({type(space).__name__}): expected a gymnasium "
        "Box/Discrete/MultiDiscrete/MultiBinary/Dict/Tuple space"
    )


def _unsupported_value(space: Any, x: Any) -> ValueError:
    return ValueError(f"Unsupported value type {type(x).__name__} for the space {space!r}")


def convert_gym_space(space: Any, squeeze_batch_dimension: bool = False) -> gymnasium.Space:
    """Convert an OpenAI Gym space (or a Gymnasium one) to a Gymnasium space.

    ``squeeze_batch_dimension`` drops the first dimension of Box spaces (batched spaces of vectorized envs).
    """
    name = type(space).__name__
    if name == "Box":
        if squeeze_batch_dimension:
            return spaces.Box(low=space.low[0], high=space.high[0], shape=space.shape[1:], dtype=space.dtype)
        return spaces.Box(low=space.low, high=space.high, shape=space.shape, dtype=space.dtype)
    if name == "Discrete":
        return spaces.Discrete(n=int(space.n), start=int(getattr(space, "start", 0)))
    if name == "MultiDiscrete":
        return spaces.MultiDiscrete(nvec=space.nvec)
    if name == "MultiBinary":
        return spaces.MultiBinary(n=space.n)
    if name == "Tuple":
        return spaces.Tuple([convert_gym_space(s, squeeze_batch_dimension) for s in space.spaces])
    if name == "Dict":
        return spaces.Dict({k: convert_gym_space(v, squeeze_batch_dimension) for k, v in space.spaces.items()})
    raise _unsupported_space(space)


def _to_tensor(x: Any, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """A new tensor of ``dtype`` holding ``x`` (a NumPy array, a number or a sequence)."""
    np_dtype = np.float32 if dtype == torch.float32 else np.int32
    return torch.as_tensor(np.array(x, dtype=np_dtype), device=device)


def tensorize_space(space: spaces.Space, x: Any, device: Any = None) -> Any:
    """Convert a (batched or single) value of ``space`` to tensors with a leading batch dimension.

    Tensors are only reshaped (they keep their dtype and device); other values are copied to ``device``.
    """
    if x is None:
        return None
    if isinstance(space, spaces.Box):
        if isinstance(x, torch.Tensor):
            return x.reshape(-1, *space.shape)
        if isinstance(x, (np.ndarray, np.number, int, float, list, tuple)):
            return _to_tensor(x, torch.float32, device).reshape(-1, *space.shape)
        raise _unsupported_value(space, x)
    if isinstance(space, _INTEGER_SPACES):
        shape = (1,) if isinstance(space, spaces.Discrete) else space.shape
        if isinstance(x, torch.Tensor):
            return x.reshape(-1, *shape)
        if isinstance(x, (np.ndarray, np.number, int, float, list, tuple)):
            return _to_tensor(x, torch.int32, device).reshape(-1, *shape)
        raise _unsupported_value(space, x)
    if isinstance(space, spaces.Dict):
        return {k: tensorize_space(s, x[k], device) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(tensorize_space(s, v, device) for s, v in zip(space.spaces, x))
    raise _unsupported_space(space)


def untensorize_space(space: spaces.Space, x: Any, squeeze_batch_dimension: bool = True) -> Any:
    """Convert tensorized values back to NumPy values of the space dtype.

    With ``squeeze_batch_dimension`` a batch of size 1 loses its batch dimension (a Discrete value becomes a
    Python int).
    """
    if x is None:
        return None
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Discrete)):
        if not isinstance(x, torch.Tensor):
            raise _unsupported_value(space, x)
        tensor = x.detach().cpu()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        array = np.asarray(tensor.numpy(), dtype=space.dtype)
        if isinstance(space, spaces.Discrete):
            if squeeze_batch_dimension and array.shape[0] == 1:
                return array.reshape(-1)[0].item()
            return array.reshape(-1, 1)
        if squeeze_batch_dimension and array.shape[0] == 1:
            return array.reshape(space.shape)
        return array.reshape(-1, *space.shape)
    if isinstance(space, spaces.Dict):
        return {k: untensorize_space(s, x[k], squeeze_batch_dimension) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(untensorize_space(s, v, squeeze_batch_dimension) for s, v in zip(space.spaces, x))
    raise _unsupported_space(space)


def flatten_tensorized_space(x: Any) -> torch.Tensor:
    """Flatten a tensorized value into one ``(batch, size)`` tensor (Dict keys sorted; mixed dtypes promote)."""
    if isinstance(x, torch.Tensor):
        return x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
    if isinstance(x, dict):
        return torch.cat([flatten_tensorized_space(x[k]) for k in sorted(x.keys())], dim=-1)
    if isinstance(x, (list, tuple)):
        return torch.cat([flatten_tensorized_space(v) for v in x], dim=-1)
    raise ValueError(f"Unsupported tensorized value type {type(x).__name__}: expected a tensor, a dict or a tuple")


def unflatten_tensorized_space(space: spaces.Space | Sequence[int] | int, x: torch.Tensor | None) -> Any:
    """Split a ``(batch, size)`` tensor back into the tensorized structure of ``space`` (inverse of flattening)."""
    if x is None:
        return None
    if isinstance(space, spaces.Box):
        return x.reshape(-1, *space.shape)
    if isinstance(space, spaces.Discrete):
        return x.reshape(-1, 1)
    if isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary)):
        return x.reshape(-1, *space.shape)
    if isinstance(space, (spaces.Dict, spaces.Tuple)):
        items = sorted(space.spaces.items()) if isinstance(space, spaces.Dict) else list(enumerate(space.spaces))
        output: dict[Any, Any] = {}
        start = 0
        for key, subspace in items:
            end = start + compute_space_size(subspace, occupied_size=True)
            output[key] = unflatten_tensorized_space(subspace, x[:, start:end])
            start = end
        return output if isinstance(space, spaces.Dict) else list(output.values())
    raise _unsupported_space(space)


def sample_space(space: spaces.Space, batch_size: int = 1, backend: str = "numpy", device: Any = None) -> Any:
    """Draw a batch of ``batch_size`` random values of ``space`` as NumPy arrays or (``backend="torch"``) tensors."""
    if backend not in ("numpy", "torch"):
        raise ValueError(f"Unsupported backend {backend!r}: expected 'numpy' or 'torch'")
    if isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        sample = np.asarray(gymnasium.vector.utils.batch_space(space, batch_size).sample())
        shape = (1,) if isinstance(space, spaces.Discrete) else space.shape
        sample = sample.reshape(batch_size, *shape)
        return sample if backend == "numpy" else torch.as_tensor(sample, device=device)
    if isinstance(space, spaces.Dict):
        return {k: sample_space(s, batch_size, backend, device) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(sample_space(s, batch_size, backend, device) for s in space.spaces)
    raise _unsupported_space(space)
