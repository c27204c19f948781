"""Backend-neutral space size computation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np


def compute_space_size(space: Any, occupied_size: bool = False) -> int:
    """Number of elements of a space.

    ``space`` may be an int, a sequence of ints (product taken), ``None`` (0) or a ``gymnasium.Space``.
    With ``occupied_size=False`` a ``Discrete(n)`` counts ``n`` (one-hot size) and ``MultiDiscrete`` the sum of ``nvec``;
    with ``occupied_size=True`` they count the storage they occupy (1 and ``len(nvec)``).
    Dict and Tuple spaces (nested too) are the sum of their sub-spaces.
    """
    if space is None:
        return 0
    if isinstance(space, gymnasium.spaces.Space):
        return _gymnasium_space_size(space, occupied_size)  # before Sequence: a gymnasium Tuple is a Sequence
    if isinstance(space, (int, np.integer)) and not isinstance(space, bool):
        return int(space)
    if isinstance(space, Sequence) and not isinstance(space, (str, bytes)):
        return int(np.prod(space)) if len(space) else 1
    raise _unsupported(space)


def _gymnasium_space_size(space: gymnasium.spaces.Space, occupied_size: bool) -> int:
    if isinstance(space, gymnasium.spaces.Discrete):
        return 1 if occupied_size else int(space.n)
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        return int(space.nvec.size) if occupied_size else int(np.sum(space.nvec))
    if isinstance(space, gymnasium.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gymnasium.spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, gymnasium.spaces.Dict):
        return sum(compute_space_size(space.spaces[k], occupied_size) for k in sorted(space.spaces.keys()))
    if isinstance(space, gymnasium.spaces.Tuple):
        return sum(compute_space_size(s, occupied_size) for s in space.spaces)
    raise _unsupported(space)


def _unsupported(space: Any) -> TypeError:
    return TypeError(
        f"Unsupported space {space!r} ({type(space).__name__}): expected an int, a sequence of ints or a "
        "gymnasium Box/Discrete/MultiDiscrete/MultiBinary/Dict/Tuple space"
    )
