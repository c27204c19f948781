"""The Gymnasium wrapper of every backend: ``GymnasiumCore`` (NumPy) behind the wrapper interface.

A backend subclasses :class:`GymnasiumWrapperBase` with its ``Wrapper`` and supplies ``_array`` (NumPy to the
backend's array) and ``_numpy_actions`` (the backend's actions, checked, to what the env takes).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from steprl.envs.wrappers.common.base import Array, Wrapper
from steprl.envs.wrappers.common.gymnasium_core import GymnasiumCore


class GymnasiumWrapperBase(Wrapper):
    """Gymnasium env or vector env (Sync/Async, every autoreset mode) behind steprl's episode-boundary contract.

    - ``step(actions)`` returns the true next observations of every sub-env (the final observation where an episode
      just ended, never a reset observation): ``(N, obs_size)`` float32 (Box, flattened Dict/Tuple) or int32
      (Discrete ``(N, 1)``, MultiDiscrete/MultiBinary), rewards ``(N, 1)`` float32, terminated/truncated ``(N, 1)``
      bool, and the env's infos unchanged.
    - Right after a step the finished sub-envs (only those) are reset; :meth:`autoreset_states` returns the
      observations to act from next.
    - ``reset()`` really resets only on its first call, with ``force=True`` or with a ``seed``; otherwise it returns
      the cached observations to act from and the last infos. Unlike skrl this also holds for a single env, which
      :meth:`step` already reset when its episode ended.

    Observations of the wrong shape raise ``ValueError`` (of a lossy dtype, e.g. floats for a Discrete space:
    ``TypeError``); actions of a shape other than ``(N, *shape)``/``(N, size)`` (Discrete: also ``(N,)``) raise
    ``ValueError``, float actions for Discrete/MultiDiscrete/MultiBinary spaces ``TypeError``.
    ``check_finite`` raises ``ValueError`` on NaN/inf rewards or observations. ``partial_reset`` overrides the
    detection of vector envs whose ``reset(options={"reset_mask": ...})`` resets only the masked sub-envs.
    """

    def __init__(self, env: Any, *, check_finite: bool = True, partial_reset: bool | None = None) -> None:
        super().__init__(env)
        self._core = GymnasiumCore(env, check_finite=check_finite, partial_reset=partial_reset)
        self._vectorized = self._core.vectorized
        self._actions = self._core.actions
        self._states: Array | None = None
        self._infos: Any = {}
        self._closed = False

    @property
    def num_envs(self) -> int:
        """Number of sub-environments (1 for a single env)."""
        return self._core.num_envs

    @property
    def observation_space(self) -> gymnasium.Space:
        """Observation space of one (sub-)environment."""
        return self._core.observation_space

    @property
    def action_space(self) -> gymnasium.Space:
        """Action space of one (sub-)environment."""
        return self._core.action_space

    def _array(self, array: np.ndarray) -> Array:
        """``array`` as the backend's array (on the wrapper's device)."""
        raise NotImplementedError

    def _arrays(self, *arrays: np.ndarray) -> list[Array]:
        """Several arrays converted at once (a backend may batch the transfers)."""
        return [self._array(array) for array in arrays]

    def _numpy_actions(self, actions: Any) -> Any:
        """Check ``actions`` (shape, then an integer dtype for integer spaces) and convert them for the env."""
        return self._actions(actions)

    def reset(self, *, force: bool = False, seed: int | None = None) -> tuple[Array, Any]:
        """Return ``(observations to act from (N, obs_size), infos)``, resetting every sub-env only when needed.

        The env is really reset on the first call, when ``force=True`` or when a ``seed`` is given (passed to the
        env's reset); otherwise the cached observations and the last infos are returned.
        """
        if self._states is None or force or seed is not None:
            observations, self._infos = self._core.reset(seed=seed)
            self._states = self._array(observations)
        return self._states, self._infos

    def step(self, actions: Array) -> tuple[Array, Array, Array, Array, Any]:
        """Apply ``actions`` (``(N, act_size)``; ``(N, 1)`` for Discrete) and reset the sub-envs that finished."""
        if self._states is None:
            raise RuntimeError("GymnasiumWrapper.step() called before reset(): call reset() first")
        out = self._core.step(self._numpy_actions(actions))
        acting = out.acting_observations
        arrays = (out.next_observations, out.rewards, out.terminated, out.truncated)
        next_states, rewards, terminated, truncated, *rest = self._arrays(
            *arrays, *(() if acting is None else (acting,))
        )
        self._states = rest[0] if rest else next_states
        self._infos = out.infos
        return next_states, rewards, terminated, truncated, out.infos

    def autoreset_states(self, next_states: Array, terminated: Array, truncated: Array) -> Array:
        """The observations to act from after the last step: ``next_states`` except for the sub-envs just reset.

        Computed in :meth:`step` from the env's NumPy flags, so no device-to-host synchronisation happens here.
        """
        return next_states if self._states is None else self._states

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the env (vector envs: one frame per sub-env, via ``env.call("render")`` when needed)."""
        if not self._vectorized:
            return self._env.render(*args, **kwargs)
        try:
            return self._env.render()
        except (NotImplementedError, AttributeError):
            return self._env.call("render")

    def close(self) -> None:
        """Close the env (a second call does nothing)."""
        if not self._closed:
            self._closed = True
            self._env.close()
