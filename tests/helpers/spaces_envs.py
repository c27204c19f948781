"""Environments with composite observation spaces or malformed observations, for the space and boundary tests."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

NESTED_SPACE = spaces.Dict(
    {
        "pos": spaces.Box(-5.0, 5.0, (2,), np.float32),
        "inv": spaces.Tuple(
            (
                spaces.Discrete(4),
                spaces.MultiBinary(3),
                spaces.Dict({"z": spaces.Box(-1.0, 1.0, (2, 2), np.float32), "a": spaces.Discrete(2)}),
            )
        ),
    }
)
NESTED_SIZE = 1 + 3 + 1 + 4 + 2  # sorted keys: inv (Discrete, MultiBinary, Dict(a, z)), then pos


def nested_observation(t: int, tag: int = 0) -> dict[str, Any]:
    """A value of :data:`NESTED_SPACE` that differs in every leaf for every ``t`` and ``tag``."""
    z = np.array([[t, -t], [tag, 0.5]], np.float32) / 10
    inv = (t % 4, np.array([t % 2, tag % 2, 1], np.int8), {"z": z, "a": (t + tag) % 2})
    return {"pos": np.array([t, -tag], np.float32), "inv": inv}


class NestedEnv(gym.Env):
    """Observations of :data:`NESTED_SPACE` (``nested_observation(t, tag)``); episodes last ``length`` steps."""

    observation_space = NESTED_SPACE
    action_space = spaces.Discrete(2)

    def __init__(self, tag: int = 0, length: int = 3) -> None:
        self.tag = tag
        self.length = length
        self.t = 0
        self.history: list[dict[str, Any]] = []

    def _obs(self) -> dict[str, Any]:
        self.history.append(nested_observation(self.t, self.tag))
        return self.history[-1]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self.t += 1
        return self._obs(), 0.0, self.t >= self.length, False, {}


class MalformedEnv(gym.Env):
    """Returns ``good`` observations except ``bad`` as its ``bad_at``-th one (0: the first reset's, 1: the first
    step's, ...); episodes last 2 steps. Records the actions it receives."""

    def __init__(self, space: spaces.Space, good: Any, bad: Any = None, bad_at: int = -1) -> None:
        self.observation_space = space
        self.action_space = spaces.Discrete(2)
        self.good = good
        self.bad = bad
        self.bad_at = bad_at
        self.returned = 0
        self.t = 0
        self.actions: list[Any] = []

    def _obs(self) -> Any:
        self.returned += 1
        return self.bad if self.returned - 1 == self.bad_at else self.good

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self.actions.append(action)
        self.t += 1
        return self._obs(), 0.0, self.t >= 2, False, {}


class ActionRecorder(MalformedEnv):
    """A well-formed env with the given action space that records the actions it receives (episodes: 2 steps)."""

    def __init__(self, action_space: spaces.Space) -> None:
        super().__init__(spaces.Box(-1.0, 1.0, (1,), np.float32), np.zeros(1, np.float32))
        self.action_space = action_space


class BatchedVectorEnv(gym.vector.VectorEnv):
    """A hand-written same-step vector env (not a SyncVectorEnv) returning the given batched observations."""

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, space: spaces.Space, num_envs: int, reset_obs: Any, step_obs: Any) -> None:
        self.num_envs = num_envs
        self.single_observation_space = space
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.reset_obs = reset_obs
        self.step_obs = step_obs

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        return self.reset_obs, {}

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        flags = np.zeros(self.num_envs, np.bool_)
        return self.step_obs, np.zeros(self.num_envs), flags, flags.copy(), {}


def assert_same_structure(expected: object, actual: object, ravel: bool = False) -> None:
    """Nested dicts/tuples/lists with the same keys and lengths, and numerically equal leaves (``ravel``: leaves are
    compared as flat arrays, for values whose batch layout differs, e.g. ``(N, 1)`` against ``(N,)``)."""
    if isinstance(expected, dict):
        assert set(expected) == set(actual)
        for key in expected:
            assert_same_structure(expected[key], actual[key], ravel)
    elif isinstance(expected, (tuple, list)):
        assert len(expected) == len(actual)
        for e, a in zip(expected, actual):
            assert_same_structure(e, a, ravel)
    else:
        actual_array, expected_array = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
        if ravel:
            actual_array, expected_array = actual_array.ravel(), expected_array.ravel()
        np.testing.assert_allclose(actual_array, expected_array)
