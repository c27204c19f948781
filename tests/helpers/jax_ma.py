"""The cue task for the JAX multi-agent tests (NumPy arrays) and JAX IPPO/MAPPO builders."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from steprl.envs.wrappers.jax import MultiAgentEnvWrapper
from steprl.memories.jax import RandomMemory
from steprl.multi_agents.jax.ippo import IPPO, IPPO_DEFAULT_CONFIG
from steprl.multi_agents.jax.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
from steprl.multi_agents.jax.networks import build_multi_agent_models

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


class NumpyCueTask:
    """``num_envs`` copies of the two-agent cue task of ``helpers.ma_agents.CueTask`` (4 steps per episode).

    Each step draws a cue (one of 3) per agent; an agent observes its own cue and its partner's (two one-hots) and
    earns 1 when its action names its partner's cue: random ≈ 2.7 per episode summed over both agents, best 8.
    """

    possible_agents = ["a", "b"]

    def __init__(self, num_envs: int = 4, seed: int = 0) -> None:
        self.num_envs = num_envs
        self.agents: list[str] = []
        self.rng = np.random.default_rng(seed)
        self.observation_spaces = {uid: gym.spaces.Box(0, 1, (6,)) for uid in self.possible_agents}
        self.action_spaces = {uid: gym.spaces.Discrete(3) for uid in self.possible_agents}
        self.state_space = gym.spaces.Box(0, 1, (7,))
        self.t = 0
        self.cues = np.zeros((num_envs, 2), np.int64)

    @property
    def unwrapped(self) -> NumpyCueTask:
        return self


class NumpyCueWrapper(MultiAgentEnvWrapper):
    """NumPy arrays of :class:`NumpyCueTask` (observation: own cue + partner cue one-hots; state: both + time)."""

    @property
    def num_envs(self) -> int:
        return self._env.num_envs

    def _observations(self) -> dict[str, np.ndarray]:
        one_hot = np.eye(3, dtype=np.float32)[self._env.cues]
        return {"a": one_hot.reshape(-1, 6), "b": one_hot[:, ::-1].reshape(-1, 6)}

    def reset(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        self._env.t = 0
        self._env.agents = list(self._env.possible_agents)
        self._env.cues = self._env.rng.integers(0, 3, (self._env.num_envs, 2))
        return self._observations(), {uid: {} for uid in self._env.possible_agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        env = self._env
        a, b = (np.asarray(actions[uid]).reshape(-1) for uid in ("a", "b"))
        rewards = {
            "a": (a == env.cues[:, 1]).astype(np.float32).reshape(-1, 1),
            "b": (b == env.cues[:, 0]).astype(np.float32).reshape(-1, 1),
        }
        env.t += 1
        env.cues = env.rng.integers(0, 3, (env.num_envs, 2))
        done = env.t >= 4
        if done:
            env.agents = []
        flags = {uid: np.full((env.num_envs, 1), done) for uid in env.possible_agents}
        no = {uid: np.zeros((env.num_envs, 1), bool) for uid in env.possible_agents}
        return self._observations(), rewards, no, flags, {}

    def state(self) -> np.ndarray:
        one_hot = np.eye(3, dtype=np.float32)[self._env.cues].reshape(-1, 6)
        return np.concatenate([one_hot, np.full((self._env.num_envs, 1), self._env.t / 4.0, np.float32)], axis=1)

    def render(self, *args: Any, **kwargs: Any) -> None:
        return None


def build_jax_agent(
    env: Any,
    algorithm: str = "mappo",
    share: bool = False,
    rollouts: int = 8,
    memories: bool = True,
    network: dict[str, Any] | None = None,
    **cfg_updates: Any,
) -> Any:
    """JAX IPPO or MAPPO with small MLPs (one team when ``share``) on ``env``."""
    uids = list(env.possible_agents)
    mappo = algorithm == "mappo"
    models = build_multi_agent_models(
        uids,
        env.observation_spaces,
        env.action_spaces,
        None,
        network or {"hidden": [32, 32], "activation": "tanh"},
        env.state_spaces if mappo else None,
        share_parameters=share,
    )
    cfg = (MAPPO_DEFAULT_CONFIG if mappo else IPPO_DEFAULT_CONFIG).copy()
    cfg.update(rollouts=rollouts, append_agent_id=share, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    mems = {uid: RandomMemory(memory_size=rollouts, num_envs=env.num_envs) for uid in uids} if memories else None
    extra = {"shared_observation_spaces": env.state_spaces} if mappo else {}
    cls = MAPPO if mappo else IPPO
    return cls(uids, models, mems, env.observation_spaces, env.action_spaces, None, cfg, **extra)
