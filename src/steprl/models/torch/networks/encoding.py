"""Network inputs from the wrappers' flattened observations: Discrete parts one-hot, the rest as floats.

The wrappers flatten every observation to ``(N, occupied size)`` (a Discrete value is one integer column; Dict keys
sorted, Tuple items in order). A network whose input is ``Model.num_observations`` wide (the one-hot size, as skrl
counts it) needs the Discrete columns expanded: :func:`encode_states` does that, and passes plain Box
observations through untouched (no copy).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch

__all__ = ["encode_states"]

Segment = tuple[int, int | None, int]  # (columns in the flattened input, one-hot size or None, Discrete start)


def _segments(space: Any) -> list[Segment]:
    if isinstance(space, gymnasium.spaces.Discrete):
        return [(1, int(space.n), int(space.start))]
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        starts = np.broadcast_to(getattr(space, "start", 0), space.nvec.shape).reshape(-1)
        return [(1, int(n), int(s)) for n, s in zip(space.nvec.reshape(-1), starts)]
    if isinstance(space, gymnasium.spaces.Dict):
        return [segment for key in sorted(space.spaces) for segment in _segments(space.spaces[key])]
    if isinstance(space, gymnasium.spaces.Tuple):
        return [segment for item in space.spaces for segment in _segments(item)]
    return [(int(np.prod(space.shape)) if space.shape else 1, None, 0)]


class _Encoder:
    def __init__(self, space: Any) -> None:
        segments = _segments(space)
        self.plain = all(n is None for _, n, _ in segments)
        self.segments = segments

    def __call__(self, states: torch.Tensor) -> torch.Tensor:
        if self.plain:
            return states.float()
        parts, column = [], 0
        for width, n, start in self.segments:
            block = states[:, column : column + width]
            column += width
            if n is None:
                parts.append(block.float())
            else:
                parts.append(torch.nn.functional.one_hot((block.reshape(-1).long() - start).clamp(0, n - 1), n).float())
        return torch.cat(parts, dim=-1)


def encode_states(model: Any, states: torch.Tensor) -> torch.Tensor:
    """``states`` as the ``model.num_observations``-wide float input of its network."""
    encoder = model.__dict__.get("_observation_encoder")
    if encoder is None:
        encoder = model.__dict__["_observation_encoder"] = _Encoder(model.observation_space)
    return encoder(states)
