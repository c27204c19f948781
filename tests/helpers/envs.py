"""Small deterministic Gymnasium environments for the tests."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class CountingEnv(gym.Env):
    """Observation ``[episode_id, t, env_tag]``; the episode terminates (or truncates) after ``length`` steps.

    Reward = the action taken + 1 (so the test can prove every action was applied).
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, length: int = 3, tag: int = 0, truncate: bool = False) -> None:
        self.length = length
        self.tag = tag
        self.truncate = truncate
        self.observation_space = gym.spaces.Box(-1e6, 1e6, shape=(3,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.episode = -1
        self.t = 0
        self.render_calls = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.episode, self.t, self.tag], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        done = self.t >= self.length
        return self._obs(), float(action) + 1.0, done and not self.truncate, done and self.truncate, {}

    def render(self) -> np.ndarray:
        self.render_calls += 1
        return np.zeros((2, 2, 3), dtype=np.uint8)


class ConstantEnv(gym.Env):
    """Never terminates: constant observation and reward 1; time limits come from ``TimeLimit`` (truncation)."""

    def __init__(self, terminate_instead: bool = False, limit: int = 5) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.terminate_instead = terminate_instead
        self.limit = limit
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        end = self.t >= self.limit
        if self.terminate_instead:
            return np.zeros(1, dtype=np.float32), 1.0, end, False, {}
        return np.zeros(1, dtype=np.float32), 1.0, False, end, {}


def counting_vec(num_envs: int = 3, mode: str = "NextStep", truncate: bool = False) -> gym.vector.SyncVectorEnv:
    """Sync vector env of CountingEnvs with episode lengths 3, 4, 5, ... (one per sub-env)."""
    fns = [lambda i=i: CountingEnv(length=3 + i, tag=i, truncate=truncate) for i in range(num_envs)]
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=gym.vector.AutoresetMode(mode))
