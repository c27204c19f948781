"""Backend-neutral (NumPy only) Gymnasium stepping with one episode-boundary contract for every autoreset mode.

Contract (single envs, and vector envs in the NEXT_STEP, SAME_STEP and DISABLED autoreset modes):

- ``step`` returns, for every sub-env, the true observation that followed the action (the final observation of an
  episode that just ended, never a reset observation), flattened to ``(N, size)``.
- Observations are checked against the observation space (shape and dtype kind, per leaf, before the copy) and
  actions against the action space (shape; bool/integer dtype for integer spaces), naming the space and both
  the expected and the received shape or dtype.
- Right after the step the sub-envs that finished (and only those) are reset; the observations to act from next
  are returned as ``acting_observations`` (``None`` when no episode ended: they equal the next observations).
  NEXT_STEP/DISABLED vector envs are reset with ``options={"reset_mask": done}``, which also clears Gymnasium's
  pending autoreset, so the next step applies every action; SAME_STEP envs already reset and report the final
  observations in ``infos["final_obs"]``.

The torch and JAX wrappers are thin tensor layers over :class:`GymnasiumCore`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium
import numpy as np
from gymnasium import spaces

NEXT_STEP = "next_step"
SAME_STEP = "same_step"
DISABLED = "disabled"
SINGLE = "single"

_INTEGER_SPACES = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
_OBSERVATION_SPACES = (spaces.Box, *_INTEGER_SPACES, spaces.Dict, spaces.Tuple)
_ACTION_SPACES = (spaces.Box, *_INTEGER_SPACES)
_MODE_NAMES = {"nextstep": NEXT_STEP, "samestep": SAME_STEP, "disabled": DISABLED}
_INTEGER_KINDS = "biu"  # NumPy dtype kinds: bool, signed and unsigned integers
_REAL_KINDS = "biuf"


class StepArrays(NamedTuple):
    """One step as NumPy arrays: ``(N, size)`` observations, ``(N, 1)`` rewards (float32) and flags (bool)."""

    next_observations: np.ndarray
    acting_observations: np.ndarray | None
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    infos: Any


def is_vector_env(env: Any) -> bool:
    """Whether ``env`` (or the env it wraps) is a Gymnasium vector env."""
    return isinstance(env, gymnasium.vector.VectorEnv) or isinstance(
        getattr(env, "unwrapped", None), gymnasium.vector.VectorEnv
    )


def autoreset_mode(env: Any) -> str:
    """The vector env's autoreset mode (``metadata["autoreset_mode"]`` or ``autoreset_mode``), NEXT_STEP by default."""
    metadata = getattr(env, "metadata", None) or {}
    mode = metadata.get("autoreset_mode", getattr(env.unwrapped, "autoreset_mode", None))
    if mode is None:
        return NEXT_STEP
    name = str(getattr(mode, "value", mode)).replace("_", "").replace("-", "").lower()
    if name not in _MODE_NAMES:
        raise ValueError(
            f"Unknown autoreset mode {mode!r} of {type(env).__name__}: expected NextStep/SameStep/Disabled"
        )
    return _MODE_NAMES[name]


def supports_partial_reset(env: Any, mode: str) -> bool:
    """Whether ``env.reset(options={"reset_mask": mask})`` resets exactly the masked sub-envs of this vector env."""
    unwrapped = env.unwrapped
    if isinstance(unwrapped, gymnasium.vector.SyncVectorEnv):
        return True
    if isinstance(unwrapped, gymnasium.vector.AsyncVectorEnv):
        # Gymnasium's async worker only clears its pending NEXT_STEP autoreset on reset with shared memory
        return bool(unwrapped.shared_memory) or mode != NEXT_STEP
    return False


def check_space(space: Any, supported: tuple[type, ...], role: str) -> None:
    """Raise ``TypeError`` when ``space`` (recursively for Dict/Tuple) is not one of ``supported``."""
    if not isinstance(space, supported):
        names = "/".join(s.__name__ for s in supported)
        raise TypeError(f"Unsupported {role} space {space!r} ({type(space).__name__}): expected a gymnasium {names}")
    if isinstance(space, (spaces.Dict, spaces.Tuple)):
        for subspace in space.spaces.values() if isinstance(space, spaces.Dict) else space.spaces:
            check_space(subspace, supported, role)


def observation_dtype(space: spaces.Space) -> np.dtype:
    """Dtype of flattened observations: int32 for a Discrete/MultiDiscrete/MultiBinary space, else float32."""
    return np.dtype(np.int32) if isinstance(space, _INTEGER_SPACES) else np.dtype(np.float32)


class _Leaf(NamedTuple):
    """A fundamental sub-space of an observation space, where its values sit and the shapes they must have."""

    path: tuple[Any, ...]
    space: spaces.Space
    shape: tuple[int, ...]
    batch_shape: tuple[int, ...]
    size: int
    kinds: str


def _observation_leaves(space: spaces.Space, num_envs: int, path: tuple[Any, ...] = ()) -> list[_Leaf]:
    """The leaves of ``space`` in flattening order (Dict keys sorted, Tuple items in order)."""
    if isinstance(space, spaces.Dict):
        return [
            leaf for key in sorted(space.spaces) for leaf in _observation_leaves(space[key], num_envs, (*path, key))
        ]
    if isinstance(space, spaces.Tuple):
        return [leaf for i, sub in enumerate(space.spaces) for leaf in _observation_leaves(sub, num_envs, (*path, i))]
    shape = () if isinstance(space, spaces.Discrete) else tuple(space.shape)
    kinds = _INTEGER_KINDS if isinstance(space, _INTEGER_SPACES) else _REAL_KINDS
    return [_Leaf(path, space, shape, (num_envs, *shape), int(np.prod(shape)), kinds)]


class ObservationFlattener:
    """Checks observations against the observation space and flattens them into a new ``(N, size)`` array.

    Each leaf must have exactly the space's shape (with the leading ``num_envs`` dimension when ``vectorized``)
    and a dtype that converts without loss of meaning: bool/integer for Discrete/MultiDiscrete/MultiBinary,
    bool/integer/float for Box. A wrong shape raises ``ValueError``, a wrong dtype ``TypeError``; both name the
    (sub-)space, the expected and the received value. The checks cost O(1) per leaf, before the one copy.
    """

    def __init__(self, space: spaces.Space, num_envs: int, vectorized: bool) -> None:
        self.vectorized = vectorized
        self.num_envs = num_envs
        self.dtype = observation_dtype(space)
        self.leaves = _observation_leaves(space, num_envs)

    def __call__(self, obs: Any, quantity: str, step: int, sub_env: int | None = None) -> np.ndarray:
        """The ``(N, size)`` observations; ``(1, size)`` for the unbatched observation of sub-env ``sub_env``."""
        batched = self.vectorized and sub_env is None
        rows = self.num_envs if batched else 1
        where = quantity if sub_env is None else (quantity, sub_env)
        arrays = [self._leaf(leaf, obs, batched, where, step).reshape(rows, leaf.size) for leaf in self.leaves]
        if len(arrays) == 1:
            return np.array(arrays[0], dtype=self.dtype)
        return np.concatenate(arrays, axis=1, dtype=self.dtype)

    def _leaf(self, leaf: _Leaf, obs: Any, batched: bool, where: str | tuple[str, int], step: int) -> np.ndarray:
        value = obs
        for key in leaf.path:
            value = value[key]
        array = np.asarray(value)
        expected = leaf.batch_shape if batched else leaf.shape
        if array.shape != expected:
            envs = f" ({self.num_envs} sub-environments)" if batched else ""
            raise ValueError(
                f"Invalid {_describe(where)} at step {step}: shape {array.shape} does not match the observation "
                f"space {leaf.space}{_path(leaf.path)}: expected shape {expected}{envs}"
            )
        if array.dtype.kind not in leaf.kinds:
            kinds = "a bool or integer" if leaf.kinds == _INTEGER_KINDS else "a bool, integer or float"
            raise TypeError(
                f"Invalid {_describe(where)} at step {step}: dtype {array.dtype} does not match the observation "
                f"space {leaf.space}{_path(leaf.path)}: expected {kinds} dtype"
            )
        return array


def _describe(where: str | tuple[str, int]) -> str:
    """``quantity`` or ``quantity of sub-environment i``."""
    return where if isinstance(where, str) else f"{where[0]} of sub-environment {where[1]}"


def _path(path: tuple[Any, ...]) -> str:
    """`` of observation['key'][0]`` for a leaf inside a Dict/Tuple space, else an empty string."""
    return f" of observation{''.join(f'[{key!r}]' for key in path)}" if path else ""


def check_finite(quantity: str, values: np.ndarray, step: int) -> None:
    """Raise ``ValueError`` naming the step, the sub-envs and the quantity when ``values`` hold NaN or inf."""
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        rows = np.flatnonzero(~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1))
        raise ValueError(
            f"The environment returned a non-finite {quantity} (NaN or inf) at step {step} in sub-environment(s) "
            f"{rows.tolist()}: {values[rows[:4]].tolist()}"
        )


class ActionConverter:
    """Checks batched actions and converts them to what the Gymnasium env expects.

    Accepted shapes (``N`` sub-envs, ``N = 1`` for a single env): ``(N, *shape)`` and ``(N, size)`` (the same
    when the space is one-dimensional); Discrete (and a Box of shape ``()``) also ``(N,)``. Any other shape raises
    ``ValueError`` naming the expected ones; in particular ``(N,)`` for a Box ``(1,)`` is rejected (``(N, 1)`` is
    expected), as is ``(N * k,)`` for a Box ``(k,)``.

    Discrete/MultiDiscrete/MultiBinary actions must have a bool or integer dtype: float actions raise
    ``TypeError``, even when they hold exact integers, because converting them would silently truncate
    (0.7 → 0), and whether a float batch holds exact integers depends on its values, not on the policy's type.
    """

    def __init__(self, space: spaces.Space, num_envs: int, vectorized: bool) -> None:
        check_space(space, _ACTION_SPACES, "action")
        self.space = space
        self.vectorized = vectorized
        self.dtype = np.dtype(space.dtype)
        self.integer = isinstance(space, _INTEGER_SPACES)
        self.shape: tuple[int, ...] = () if isinstance(space, spaces.Discrete) else tuple(space.shape)
        size = int(np.prod(self.shape))
        shapes = {(num_envs, max(size, 1)), (num_envs, *self.shape)}
        self.shapes: frozenset[tuple[int, ...]] = frozenset(shapes)
        self.batch_shape = (num_envs, *self.shape) if vectorized else self.shape

    def shape_error(self, given: tuple[int, ...]) -> ValueError:
        """The error for actions of shape ``given``."""
        expected = " or ".join(str(s) for s in sorted(self.shapes, key=len))
        return ValueError(
            f"Invalid actions shape {tuple(given)} for the action space {self.space}: expected {expected}"
        )

    def dtype_error(self, given: Any) -> TypeError:
        """The error for float actions (dtype ``given``) of an integer space."""
        return TypeError(
            f"Invalid actions dtype {given} for the action space {self.space}: expected a bool or integer dtype "
            "(float actions would be truncated, 0.7 to 0); round and cast them to integers first"
        )

    def check(self, shape: tuple[int, ...], dtype: Any, integral: bool) -> None:
        """Raise the shape error, then the dtype error (``integral``: the dtype is bool or integer)."""
        if shape not in self.shapes:
            raise self.shape_error(shape)
        if self.integer and not integral:
            raise self.dtype_error(dtype)

    def __call__(self, actions: Any) -> Any:
        """Checked actions of the space dtype with the batch dimension (vector env) or without it (single env)."""
        array = np.asarray(actions)
        self.check(array.shape, array.dtype, array.dtype.kind in _INTEGER_KINDS)
        return self.convert(array)

    def convert(self, array: np.ndarray) -> Any:
        """Unchecked conversion of an array already passed to :meth:`check`."""
        array = array.astype(self.dtype, copy=False).reshape(self.batch_shape)
        if not self.vectorized and isinstance(self.space, spaces.Discrete):
            return array.reshape(-1)[0]  # a NumPy integer scalar (hashable, e.g. FrozenLake's transition table)
        return array


class GymnasiumCore:
    """Steps a Gymnasium env or vector env under steprl's episode-boundary contract, with NumPy arrays.

    ``partial_reset`` overrides the detection of whether a NEXT_STEP/DISABLED vector env resets only the sub-envs
    named by ``options["reset_mask"]`` (Gymnasium's SyncVectorEnv/AsyncVectorEnv do).
    """

    def __init__(self, env: Any, *, check_finite: bool = True, partial_reset: bool | None = None) -> None:
        for name in ("reset", "step", "observation_space", "action_space"):
            if not hasattr(env, name):
                raise TypeError(
                    f"Expected a Gymnasium environment or vector environment, got {type(env).__name__} "
                    f"(no '{name}' attribute)"
                )
        self.env = env
        self.vectorized = is_vector_env(env)
        self.check_finite = check_finite
        if self.vectorized:
            self.num_envs = int(env.num_envs)
            self.observation_space = env.single_observation_space
            self.action_space = env.single_action_space
            self.mode = autoreset_mode(env)
        else:
            self.num_envs = 1
            self.observation_space = env.observation_space
            self.action_space = env.action_space
            self.mode = SINGLE
        check_space(self.observation_space, _OBSERVATION_SPACES, "observation")
        self.actions = ActionConverter(self.action_space, self.num_envs, self.vectorized)
        self.flatten = ObservationFlattener(self.observation_space, self.num_envs, self.vectorized)
        self._float_observations = observation_dtype(self.observation_space).kind == "f"
        self.steps = 0
        if self.mode in (NEXT_STEP, DISABLED):
            supported = supports_partial_reset(env, self.mode) if partial_reset is None else partial_reset
            if not supported:
                raise ValueError(
                    f"The vector environment {type(env.unwrapped).__name__} (autoreset mode {self.mode}) cannot reset "
                    "only its finished sub-environments (options['reset_mask']), so its episode boundaries would be "
                    "recorded as transitions. Create it with gymnasium.make_vec(..., vectorization_mode='sync') or "
                    "gymnasium.vector.SyncVectorEnv/AsyncVectorEnv(shared_memory=True), use "
                    "autoreset_mode=AutoresetMode.SAME_STEP, or pass partial_reset=True (wrap_env/GymnasiumWrapper "
                    "keyword) if its reset honours options['reset_mask']"
                )

    def _observations(self, obs: Any, quantity: str) -> np.ndarray:
        array = self.flatten(obs, quantity, self.steps)
        if self.check_finite and self._float_observations:
            check_finite(quantity, array, self.steps)
        return array

    def _env_reset(self, **kwargs: Any) -> tuple[Any, Any]:
        try:
            return self.env.reset(**kwargs)
        except (ValueError, TypeError) as error:
            self._raise_sub_env_mismatch(error, "reset observation", self.steps)
            raise

    def _env_step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        try:
            return self.env.step(actions)
        except (ValueError, TypeError) as error:
            self._raise_sub_env_mismatch(error, "observation", self.steps + 1)
            raise

    def _raise_sub_env_mismatch(self, error: Exception, quantity: str, step: int) -> None:
        """When a SyncVectorEnv failed to stack its sub-envs' observations, raise the check naming the culprit."""
        observations = getattr(self.env.unwrapped, "_env_obs", None)  # SyncVectorEnv: each sub-env's last one
        if not self.vectorized or not isinstance(observations, list):
            return
        for index, obs in enumerate(observations):
            if obs is None:
                continue
            try:
                self.flatten(obs, quantity, step, sub_env=index)
            except (ValueError, TypeError) as mismatch:
                raise mismatch from error

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, Any]:
        """Reset every (sub-)env; return the ``(N, size)`` observations and the infos."""
        obs, infos = self._env_reset() if seed is None else self._env_reset(seed=seed)
        return self._observations(obs, "reset observation"), infos

    def step(self, actions: Any) -> StepArrays:
        """Step with actions already converted by :attr:`actions`, then reset the finished (sub-)envs."""
        obs, rewards, terminated, truncated, infos = self._env_step(actions)
        self.steps += 1
        n = self.num_envs
        rewards = np.array(rewards, dtype=np.float32).reshape(n, 1)
        terminated = np.array(terminated, dtype=np.bool_).reshape(n, 1)
        truncated = np.array(truncated, dtype=np.bool_).reshape(n, 1)
        if self.check_finite:
            check_finite("reward", rewards, self.steps)
        done = (terminated | truncated).reshape(n)
        any_done = bool(done.any())
        if self.mode == SAME_STEP:
            acting = self._observations(obs, "observation")
            if not any_done:
                return StepArrays(acting, None, rewards, terminated, truncated, infos)
            return StepArrays(
                self._final_observations(acting, done, infos), acting, rewards, terminated, truncated, infos
            )
        next_obs = self._observations(obs, "observation")
        if not any_done:
            return StepArrays(next_obs, None, rewards, terminated, truncated, infos)
        if self.mode == SINGLE:
            reset_obs, _ = self._env_reset()
            acting = self._observations(reset_obs, "reset observation")
        else:
            reset_obs, _ = self._env_reset(options={"reset_mask": done.copy()})
            acting = next_obs.copy()
            acting[done] = self._observations(reset_obs, "reset observation")[done]
        return StepArrays(next_obs, acting, rewards, terminated, truncated, infos)

    def _final_observations(self, acting: np.ndarray, done: np.ndarray, infos: Any) -> np.ndarray:
        """SAME_STEP: the true next observations, taking the finished sub-envs' rows from ``infos["final_obs"]``."""
        if "final_obs" not in infos:
            raise RuntimeError(
                f"The SAME_STEP vector environment {type(self.env).__name__} ended an episode at step {self.steps} "
                "without reporting infos['final_obs']"
            )
        final = infos["final_obs"]
        mask = np.asarray(infos.get("_final_obs", done), dtype=np.bool_)
        next_obs = acting.copy()
        for i in np.flatnonzero(mask):
            next_obs[i] = self.flatten(final[i], "final observation", self.steps, sub_env=int(i))[0]
        if self.check_finite and self._float_observations:
            check_finite("observation", next_obs, self.steps)
        return next_obs
