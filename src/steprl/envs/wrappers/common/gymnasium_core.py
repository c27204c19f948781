"""Backend-neutral (NumPy only) Gymnasium stepping with one episode-boundary contract for every autoreset mode.

Contract (single envs, and vector envs in the NEXT_STEP, SAME_STEP and DISABLED autoreset modes):

- ``step`` returns, for every sub-env, the true observation that followed the action (the final observation of an
  episode that just ended, never a reset observation), flattened to ``(N, size)``.
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


def _leaves(space: spaces.Space, obs: Any, n: int) -> list[np.ndarray]:
    if isinstance(space, spaces.Dict):
        return [leaf for key in sorted(space.spaces) for leaf in _leaves(space.spaces[key], obs[key], n)]
    if isinstance(space, spaces.Tuple):
        return [leaf for subspace, value in zip(space.spaces, obs) for leaf in _leaves(subspace, value, n)]
    return [np.asarray(obs).reshape(n, -1)]


def flatten_observations(space: spaces.Space, obs: Any, n: int) -> np.ndarray:
    """A new ``(n, size)`` array holding the (batched, or single when ``n == 1``) observations (Dict keys sorted)."""
    dtype = observation_dtype(space)
    leaves = _leaves(space, obs, n)
    if len(leaves) == 1:
        return np.array(leaves[0], dtype=dtype)
    return np.concatenate(leaves, axis=1, dtype=dtype)


def check_finite(quantity: str, values: np.ndarray, step: int) -> None:
    """Raise ``ValueError`` naming the step, the sub-envs and the quantity when ``values`` hold NaN or inf."""
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        rows = np.flatnonzero(~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1))
        raise ValueError(
            f"The environment returned a non-finite {quantity} (NaN or inf) at step {step} in sub-environment(s) "
            f"{rows.tolist()}: {values[rows[:4]].tolist()}"
        )


class ActionConverter:
    """Checks the shape of batched actions and converts them to what the Gymnasium env expects."""

    def __init__(self, space: spaces.Space, num_envs: int, vectorized: bool) -> None:
        check_space(space, _ACTION_SPACES, "action")
        self.space = space
        self.vectorized = vectorized
        self.dtype = np.dtype(space.dtype)
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

    def __call__(self, actions: np.ndarray) -> Any:
        """Actions of the space dtype with the batch dimension (vector env) or without it (single env)."""
        array = np.asarray(actions, dtype=self.dtype).reshape(self.batch_shape)
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
        array = flatten_observations(self.observation_space, obs, self.num_envs)
        if self.check_finite and self._float_observations:
            check_finite(quantity, array, self.steps)
        return array

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, Any]:
        """Reset every (sub-)env; return the ``(N, size)`` observations and the infos."""
        obs, infos = self.env.reset() if seed is None else self.env.reset(seed=seed)
        return self._observations(obs, "reset observation"), infos

    def step(self, actions: Any) -> StepArrays:
        """Step with actions already converted by :attr:`actions`, then reset the finished (sub-)envs."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
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
            acting = self._observations(obs, "reset observation")
            if not any_done:
                return StepArrays(acting, None, rewards, terminated, truncated, infos)
            return StepArrays(
                self._final_observations(acting, done, infos), acting, rewards, terminated, truncated, infos
            )
        next_obs = self._observations(obs, "observation")
        if not any_done:
            return StepArrays(next_obs, None, rewards, terminated, truncated, infos)
        if self.mode == SINGLE:
            reset_obs, _ = self.env.reset()
            acting = self._observations(reset_obs, "reset observation")
        else:
            reset_obs, _ = self.env.reset(options={"reset_mask": done.copy()})
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
            next_obs[i] = flatten_observations(self.observation_space, final[i], 1)[0]
        if self.check_finite and self._float_observations:
            check_finite("observation", next_obs, self.steps)
        return next_obs
