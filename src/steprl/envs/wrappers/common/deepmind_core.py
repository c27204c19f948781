"""Backend-neutral (NumPy only) view of a DeepMind ``dm_env.Environment`` as a Gymnasium environment.

:class:`DeepMindEnv` adapts a ``dm_env`` environment (e.g. ``dm_control.suite.load(...)``) to the Gymnasium API so
that every backend's Gymnasium wrapper (episode boundaries, shape and finiteness checks, tensors) serves it:

- the observation ``OrderedDict`` becomes one float32 vector: its entries flattened and concatenated in the
  order of the environment's ``observation_spec()`` (a scalar entry takes one slot); ``observation_keys`` and
  ``observation_slices`` tell where each entry lies;
- a ``BoundedArray`` action spec becomes a ``Box`` with its bounds (a ``DiscreteArray`` a ``Discrete``);
- ``TimeStep.step_type``/``discount`` become the two episode-end flags: at ``LAST``, ``discount == 0`` means the
  task terminated and ``discount > 0`` that the episode was cut (the time limit: truncated, so it bootstraps);
- the ``FIRST`` step's missing reward and discount are never reported (``reset`` returns the observation only);
- ``render()`` draws the physics (``physics.render``) when ``render_mode="rgb_array"`` was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

__all__ = ["DeepMindEnv", "DeepMindWrapperMixin", "action_space_of", "is_dm_env"]


def is_dm_env(env: Any) -> bool:
    """Whether ``env`` follows the ``dm_env.Environment`` interface (``dm_env`` installed and an instance of it)."""
    try:
        import dm_env
    except ImportError:
        return False
    return isinstance(env, dm_env.Environment)


def _spec_size(spec: Any) -> int:
    return int(np.prod(spec.shape, dtype=np.int64)) if spec.shape else 1


def action_space_of(spec: Any) -> spaces.Space:
    """The Gymnasium space of a ``dm_env`` action spec (``BoundedArray`` → ``Box``, ``DiscreteArray`` →
    ``Discrete``); any other spec raises ``TypeError``."""
    from dm_env import specs

    if isinstance(spec, specs.DiscreteArray):
        return spaces.Discrete(int(spec.num_values))
    if isinstance(spec, specs.BoundedArray):
        shape = tuple(spec.shape)
        low = np.broadcast_to(np.asarray(spec.minimum, dtype=np.float32), shape)
        high = np.broadcast_to(np.asarray(spec.maximum, dtype=np.float32), shape)
        return spaces.Box(low=low.copy(), high=high.copy(), shape=shape, dtype=np.float32)
    raise TypeError(
        f"Unsupported dm_env action spec {spec!r}: expected a dm_env.specs.BoundedArray (continuous actions) "
        "or a dm_env.specs.DiscreteArray"
    )


class DeepMindEnv(gymnasium.Env):
    """A ``dm_env.Environment`` seen as a single Gymnasium environment with flat float32 observations.

    ``action_repeat`` (default 1) applies each action that many times, summing the rewards and stopping early
    when the episode ends. Attributes the adapter does not define (``physics``, ``task``, ...) are read from the
    DeepMind environment.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        env: Any,
        *,
        action_repeat: int = 1,
        render_mode: str | None = None,
        render_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if not is_dm_env(env):
            raise TypeError(f"Expected a dm_env.Environment (e.g. dm_control.suite.load(...)), got {type(env).__name__}")
        if isinstance(action_repeat, bool) or not isinstance(action_repeat, int) or action_repeat < 1:
            raise ValueError(f"action_repeat must be an integer >= 1, got {action_repeat!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array' (physics.render), got {render_mode!r}")
        self._dm_env = env
        self.action_repeat = action_repeat
        self.render_mode = render_mode
        self._render_kwargs = dict(render_kwargs or {"height": 240, "width": 320})
        spec = env.observation_spec()
        entries = spec.items() if isinstance(spec, Mapping) else [("observation", spec)]
        self.observation_keys: tuple[str, ...] = tuple(key for key, _ in entries)
        sizes = [_spec_size(s) for _, s in entries]
        offsets = np.cumsum([0, *sizes])
        self.observation_slices: dict[str, slice] = {
            key: slice(int(a), int(b)) for key, a, b in zip(self.observation_keys, offsets[:-1], offsets[1:])
        }
        self._dict_observations = isinstance(spec, Mapping)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(int(offsets[-1]),), dtype=np.float32)
        self.action_space = action_space_of(env.action_spec())
        self._needs_reset = True

    def __getattr__(self, key: str) -> Any:
        env = self.__dict__.get("_dm_env")
        if key.startswith("_") or env is None:
            raise AttributeError(key)
        return getattr(env, key)

    def flatten(self, observation: Any) -> np.ndarray:
        """One float32 vector: the observation's entries flattened in the spec's key order."""
        if not self._dict_observations:
            return np.asarray(observation, dtype=np.float32).reshape(-1)
        missing = [key for key in self.observation_keys if key not in observation]
        if missing:
            raise ValueError(f"The DeepMind observation lacks the entries {missing} of its observation_spec()")
        return np.concatenate(
            [np.asarray(observation[key], dtype=np.float32).reshape(-1) for key in self.observation_keys]
        )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode; ``seed`` reseeds the task's random state when it has one (dm_control tasks do)."""
        super().reset(seed=seed)
        if seed is not None:
            task = getattr(self._dm_env, "task", None)
            if task is not None and hasattr(task, "random"):
                task.random.seed(seed)
        time_step = self._dm_env.reset()
        self._needs_reset = False
        return self.flatten(time_step.observation), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Apply ``action`` (``action_repeat`` times); the flags follow the last ``TimeStep``'s type and discount."""
        if self._needs_reset:
            raise RuntimeError("DeepMindEnv.step() called before reset() or after the episode ended: call reset()")
        reward = 0.0
        for _ in range(self.action_repeat):
            time_step = self._dm_env.step(action)
            reward += 0.0 if time_step.reward is None else float(time_step.reward)
            if time_step.last():
                break
        terminated = truncated = False
        if time_step.last():
            self._needs_reset = True
            discount = 1.0 if time_step.discount is None else float(time_step.discount)
            terminated, truncated = discount == 0.0, discount > 0.0
        return self.flatten(time_step.observation), reward, terminated, truncated, {}

    def render(self) -> np.ndarray | None:
        """An RGB frame from ``physics.render`` when ``render_mode == "rgb_array"`` (else nothing)."""
        if self.render_mode != "rgb_array":
            return None
        physics = getattr(self._dm_env, "physics", None)
        if physics is None:
            raise RuntimeError(f"{type(self._dm_env).__name__} has no physics to render")
        return physics.render(**self._render_kwargs)

    def close(self) -> None:
        """Close the DeepMind environment."""
        close = getattr(self._dm_env, "close", None)
        if close is not None:
            close()


class DeepMindWrapperMixin:
    """A ``dm_env.Environment`` (e.g. ``dm_control.suite.load("cartpole", "swingup")``) as a one-environment
    steprl wrapper: the backend's Gymnasium wrapper over :class:`DeepMindEnv`.

    Observations: ``(1, size)`` float32, the observation dict flattened in the order of ``observation_spec()``
    (``observation_keys``/``observation_slices`` locate each entry). Actions: a ``Box`` with the action spec's
    bounds. ``terminated`` when an episode ends with discount 0, ``truncated`` when it ends with a positive
    discount (the time limit). The episode restarts by itself after its last step; ``step`` still returns its
    true final observation. ``action_repeat`` repeats each action (rewards summed); ``render_mode="rgb_array"``
    makes ``render()`` return ``physics.render(**render_kwargs)`` frames (it returns ``None`` otherwise).
    """

    def __init__(
        self,
        env: Any,
        *,
        action_repeat: int = 1,
        render_mode: str | None = None,
        render_kwargs: Mapping[str, Any] | None = None,
        check_finite: bool = True,
    ) -> None:
        adapter = DeepMindEnv(env, action_repeat=action_repeat, render_mode=render_mode, render_kwargs=render_kwargs)
        super().__init__(adapter, check_finite=check_finite)  # type: ignore[call-arg]
