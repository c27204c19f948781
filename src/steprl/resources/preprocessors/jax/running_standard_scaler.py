"""Running mean/variance standardization of inputs (JAX), with a pure functional form for jitted code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from steprl.utils.spaces.common import compute_space_size

__all__ = ["RunningStandardScaler", "ScalerState", "batch_moments", "scaler_apply", "scaler_merge", "scaler_update"]


class ScalerState(NamedTuple):
    """Running statistics: ``running_mean``, ``running_variance`` ``(size,)`` and ``current_count`` ``(1,)``."""

    running_mean: jax.Array
    running_variance: jax.Array
    current_count: jax.Array


def batch_moments(x: jax.Array, mask: jax.Array | None = None) -> tuple[Any, jax.Array, jax.Array]:
    """``(count, mean, population variance)`` of batch ``x`` over dim 0 (dims 0 and 1 of a 3-D input); ``mask``
    (boolean, ``x``'s batch shape) keeps only the selected rows."""
    axes = (0, 1) if x.ndim == 3 else (0,)
    if mask is None:
        count: Any = float(np.prod([x.shape[a] for a in axes]))
        return count, jnp.mean(x, axis=axes), jnp.var(x, axis=axes)
    weights = mask.reshape(*mask.shape, *([1] * (x.ndim - mask.ndim))).astype(x.dtype)
    count = jnp.sum(weights, axis=axes)
    mean = jnp.sum(weights * x, axis=axes) / jnp.maximum(count, 1.0)
    var = jnp.sum(weights * (x - mean) ** 2, axis=axes) / jnp.maximum(count, 1.0)
    return count, mean, var


def scaler_merge(state: ScalerState, count: Any, mean: jax.Array, var: jax.Array) -> ScalerState:
    """Merge a batch's moments (:func:`batch_moments`) into ``state``: Chan's parallel rule."""
    delta = mean - state.running_mean
    total = state.current_count + count
    m2 = state.running_variance * state.current_count + var * count + delta**2 * state.current_count * count / total
    return ScalerState(state.running_mean + delta * count / total, m2 / total, total)


def scaler_update(state: ScalerState, x: jax.Array, mask: jax.Array | None = None) -> ScalerState:
    """Merge the statistics of batch ``x`` (over dim 0, or dims 0 and 1 of a 3-D input) into ``state``.

    Chan's parallel rule with the population variance: the running statistics equal those of every input seen plus
    the prior (mean 0, variance 1, count 1). ``mask`` (boolean, ``x``'s batch shape) keeps only the selected rows,
    so a fixed-size batch can carry a variable number of samples inside ``jit``.
    """
    return scaler_merge(state, *batch_moments(x, mask))


def scaler_apply(
    state: ScalerState, x: jax.Array, clip_threshold: float = 5.0, epsilon: float = 1e-8, inverse: bool = False
) -> jax.Array:
    """Standardize ``x`` with ``state`` (``inverse``: map standardized values back)."""
    std = jnp.sqrt(state.running_variance)
    if inverse:
        return std * jnp.clip(x, -clip_threshold, clip_threshold) + state.running_mean
    return jnp.clip((x - state.running_mean) / (std + epsilon), -clip_threshold, clip_threshold)


class RunningStandardScaler:
    """Standardize inputs with running statistics (float32 arrays).

    ``scaler(x, train=False, inverse=False)`` as skrl's; ``state`` is the :class:`ScalerState` the agents thread
    through their jitted functions (:func:`scaler_update`, :func:`scaler_apply`).
    """

    def __init__(
        self,
        size: int | Sequence[int] | gymnasium.Space,
        epsilon: float = 1e-8,
        clip_threshold: float = 5.0,
        device: Any = None,
    ) -> None:
        self.epsilon = float(epsilon)
        self.clip_threshold = float(clip_threshold)
        self.device = device
        size = compute_space_size(size, occupied_size=True)
        if size < 1:
            raise ValueError(f"RunningStandardScaler size must be >= 1, got {size}")
        self.state = ScalerState(jnp.zeros(size), jnp.ones(size), jnp.ones(1))
        self._jit_call = jax.jit(self._pure, static_argnames=("train", "inverse"))

    def _pure(self, state: ScalerState, x: jax.Array, train: bool, inverse: bool) -> tuple[ScalerState, jax.Array]:
        if train:
            state = scaler_update(state, x)
        return state, scaler_apply(state, x, self.clip_threshold, self.epsilon, inverse)

    def __call__(self, x: Any, train: bool = False, inverse: bool = False) -> jax.Array:
        """Standardize ``x`` (``inverse``: map back); ``train`` merges ``x``'s statistics first."""
        self.state, out = self._jit_call(self.state, jnp.asarray(x, dtype=jnp.float32), train, inverse)
        return out

    @property
    def running_mean(self) -> jax.Array:
        return self.state.running_mean

    @property
    def running_variance(self) -> jax.Array:
        return self.state.running_variance

    @property
    def current_count(self) -> jax.Array:
        return self.state.current_count

    def state_dict(self) -> dict[str, np.ndarray]:
        """The statistics as NumPy arrays (what checkpoints store)."""
        return {name: np.asarray(value) for name, value in self.state._asdict().items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (same names and shapes)."""
        values = {}
        for name, current in self.state._asdict().items():
            if name not in state:
                raise KeyError(f"RunningStandardScaler state lacks '{name}'")
            value = np.asarray(state[name], dtype=np.float32)
            if value.shape != current.shape:
                raise ValueError(f"RunningStandardScaler '{name}' has shape {value.shape}, expected {current.shape}")
            values[name] = jnp.asarray(value)
        self.state = ScalerState(**values)
