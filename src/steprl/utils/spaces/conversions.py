"""Backend-neutral conversions between Gymnasium space values and a backend's arrays.

A *tensorized* value mirrors the space: an array with a leading batch dimension for each fundamental space
(Box → float32 ``(B, *shape)``, Discrete → int32 ``(B, 1)``, MultiDiscrete/MultiBinary → int32 ``(B, *shape)``),
a dict for Dict spaces and a tuple for Tuple spaces. *Flattening* concatenates the leaves (Dict keys sorted) into
one ``(B, size)`` array. A backend supplies an :class:`ArrayKit` (is it one of mine, from/to NumPy, concatenate).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Protocol

import gymnasium
import numpy as np
from gymnasium import spaces

from steprl.utils.spaces.common import compute_space_size

_INTEGER_SPACES = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
_PLAIN_VALUES = (np.ndarray, np.number, int, float, list, tuple)


class ArrayKit(Protocol):
    """The array operations the conversions need from a backend."""

    def is_array(self, x: Any) -> bool: ...

    def from_numpy(self, array: np.ndarray, device: Any) -> Any: ...

    def to_numpy(self, x: Any) -> np.ndarray: ...

    def concatenate(self, arrays: list[Any]) -> Any: ...


def unsupported_space(space: Any) -> ValueError:
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
    raise unsupported_space(space)


def tensorize(kit: ArrayKit, space: spaces.Space, x: Any, device: Any) -> Any:
    """A (batched or single) value of ``space`` as arrays with a leading batch dimension.

    The backend's arrays are only reshaped (dtype and device kept); other values (NumPy arrays too) are copied to
    ``device`` as float32 (Box) or int32.
    """
    if x is None:
        return None
    if isinstance(space, (spaces.Box, *_INTEGER_SPACES)):
        shape = (1,) if isinstance(space, spaces.Discrete) else space.shape
        if isinstance(x, _PLAIN_VALUES):
            dtype = np.float32 if isinstance(space, spaces.Box) else np.int32
            return kit.from_numpy(np.array(x, dtype=dtype), device).reshape(-1, *shape)
        if kit.is_array(x):
            return x.reshape(-1, *shape)
        raise _unsupported_value(space, x)
    if isinstance(space, spaces.Dict):
        return {k: tensorize(kit, s, x[k], device) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(tensorize(kit, s, v, device) for s, v in zip(space.spaces, x))
    raise unsupported_space(space)


def untensorize(kit: ArrayKit, space: spaces.Space, x: Any, squeeze_batch_dimension: bool) -> Any:
    """Tensorized values back to NumPy values of the space dtype (a batch of one loses its batch dimension with
    ``squeeze_batch_dimension``; a Discrete value then becomes a Python int).
    """
    if x is None:
        return None
    if isinstance(space, (spaces.Box, *_INTEGER_SPACES)):
        if not kit.is_array(x):
            raise _unsupported_value(space, x)
        array = np.asarray(kit.to_numpy(x), dtype=space.dtype)
        if isinstance(space, spaces.Discrete):
            if squeeze_batch_dimension and array.shape[0] == 1:
                return array.reshape(-1)[0].item()
            return array.reshape(-1, 1)
        if squeeze_batch_dimension and array.shape[0] == 1:
            return array.reshape(space.shape)
        return array.reshape(-1, *space.shape)
    if isinstance(space, spaces.Dict):
        return {k: untensorize(kit, s, x[k], squeeze_batch_dimension) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(untensorize(kit, s, v, squeeze_batch_dimension) for s, v in zip(space.spaces, x))
    raise unsupported_space(space)


def flatten(kit: ArrayKit, x: Any) -> Any:
    """A tensorized value as one ``(batch, size)`` array (Dict keys sorted; mixed dtypes promote)."""
    if kit.is_array(x):
        return x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
    if isinstance(x, dict):
        return kit.concatenate([flatten(kit, x[k]) for k in sorted(x.keys())])
    if isinstance(x, (list, tuple)):
        return kit.concatenate([flatten(kit, v) for v in x])
    raise ValueError(f"Unsupported tensorized value type {type(x).__name__}: expected an array, a dict or a tuple")


def unflatten(space: spaces.Space | Sequence[int] | int, x: Any) -> Any:
    """Split a ``(batch, size)`` array back into the tensorized structure of ``space`` (inverse of flattening)."""
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
            output[key] = unflatten(subspace, x[:, start:end])
            start = end
        return output if isinstance(space, spaces.Dict) else list(output.values())
    raise unsupported_space(space)


def sample(kit: ArrayKit | None, space: spaces.Space, batch_size: int, device: Any) -> Any:
    """A batch of ``batch_size`` random values of ``space``: NumPy arrays (``kit=None``) or the backend's arrays.

    The draw is seeded from NumPy's global generator, so ``set_seed`` makes it reproducible.
    """
    if isinstance(space, (spaces.Box, *_INTEGER_SPACES)):
        local = copy.deepcopy(space)  # seeded here: the caller's space and its generator are left alone
        local.seed(int(np.random.randint(2**31)))
        values = np.asarray(gymnasium.vector.utils.batch_space(local, batch_size).sample())
        shape = (1,) if isinstance(space, spaces.Discrete) else space.shape
        values = values.reshape(batch_size, *shape)
        return values if kit is None else kit.from_numpy(values, device)
    if isinstance(space, spaces.Dict):
        return {k: sample(kit, s, batch_size, device) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(sample(kit, s, batch_size, device) for s in space.spaces)
    raise unsupported_space(space)
