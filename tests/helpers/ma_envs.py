"""Small deterministic multi-agent environments (PettingZoo parallel API) and a recording multi-agent object."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.utils import seeding
from mpe2 import simple_spread_v3


@contextlib.contextmanager
def seeded_construction(seed: int = 0) -> Iterator[None]:
    """mpe2 envs draw a generator from OS entropy when built: make that draw use ``seed`` instead."""
    draw = seeding.np_random
    seeding.np_random = lambda value=None: draw(seed if value is None else value)
    try:
        yield
    finally:
        seeding.np_random = draw


def simple_spread(copies: int = 1, cycles: int = 25, seed: int = 0) -> list[Any]:
    """``copies`` simple_spread_v3 parallel envs (3 agents, discrete actions) built without OS entropy."""
    with seeded_construction(seed):
        return [simple_spread_v3.parallel_env(N=3, max_cycles=cycles) for _ in range(copies)]


def simple_spread_aec() -> Any:
    """simple_spread_v3's AEC (turn-based) env, built without OS entropy."""
    with seeded_construction():
        return simple_spread_v3.env()


class ParallelCountingEnv:
    """A PettingZoo-style parallel env whose agents finish after their own number of steps.

    Agent ``uid`` observes ``[episode, t, index of uid, tag]`` and gets reward ``action + 1 + 10 * index``; it
    terminates (``truncate``: truncates) after ``lengths[uid]`` steps and then leaves ``agents``. The global state
    is ``[episode, t, tag]``. ``obs_only_reset`` makes ``reset`` return only the observations (older PettingZoo).
    """

    metadata: dict[str, Any] = {}

    def __init__(
        self,
        lengths: Mapping[str, int] | None = None,
        tag: int = 0,
        truncate: bool = False,
        obs_only_reset: bool = False,
    ) -> None:
        self.lengths = dict(lengths or {"a": 3, "b": 3})
        self.possible_agents = list(self.lengths)
        self.agents: list[str] = []
        self.tag = tag
        self.truncate = truncate
        self.obs_only_reset = obs_only_reset
        self.state_space = spaces.Box(-1e6, 1e6, (3,), np.float32)
        self.episode = -1
        self.t = 0
        self.received: list[dict[str, Any]] = []
        self.closed = False

    def observation_space(self, uid: str) -> spaces.Space:
        return spaces.Box(-1e6, 1e6, (4,), np.float32)

    def action_space(self, uid: str) -> spaces.Space:
        return spaces.Discrete(3)

    def _obs(self, uid: str) -> np.ndarray:
        return np.array([self.episode, self.t, self.possible_agents.index(uid), self.tag], dtype=np.float32)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        self.episode += 1
        self.t = 0
        self.agents = list(self.possible_agents)
        obs = {uid: self._obs(uid) for uid in self.agents}
        return obs if self.obs_only_reset else (obs, {uid: {"episode_id": self.episode} for uid in self.agents})

    def step(self, actions: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
        if set(actions) != set(self.agents):
            raise AssertionError(f"stepped with actions for {sorted(actions)}, alive agents {sorted(self.agents)}")
        self.received.append(dict(actions))
        self.t += 1
        obs, rewards, terminated, truncated, infos = {}, {}, {}, {}, {}
        for uid in self.agents:
            done = self.t >= self.lengths[uid]
            obs[uid] = self._obs(uid)
            rewards[uid] = float(actions[uid]) + 1.0 + 10.0 * self.possible_agents.index(uid)
            terminated[uid] = done and not self.truncate
            truncated[uid] = done and self.truncate
            infos[uid] = {}
        self.agents = [uid for uid in self.agents if not (terminated[uid] or truncated[uid])]
        return obs, rewards, terminated, truncated, infos

    def state(self) -> np.ndarray:
        return np.array([self.episode, self.t, self.tag], dtype=np.float32)

    def render(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


class RecordingMultiAgent:
    """A multi-agent object that acts ``policy(uid, states)`` (default: action 1 of shape ``(N, 1)``) and records.

    ``mean_actions`` are 0, to see which actions the trainer applies in evaluation.
    """

    def __init__(
        self,
        possible_agents: list[str],
        policy: Callable[[str, torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.possible_agents = list(possible_agents)
        self.policy = policy or (lambda uid, obs: torch.ones((obs.shape[0], 1), dtype=torch.int64))
        self.transitions: list[dict[str, Any]] = []
        self.training = True
        self.posts = 0

    def init(self, trainer_cfg: Any = None) -> None:
        pass

    def set_running_mode(self, mode: str) -> None:
        self.training = mode == "train"

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def act(self, states: Mapping[str, torch.Tensor], timestep: int, timesteps: int) -> tuple[dict, dict, dict]:
        actions = {uid: self.policy(uid, obs) for uid, obs in states.items()}
        outputs = {uid: {"mean_actions": torch.zeros_like(a)} for uid, a in actions.items()}
        return actions, {uid: None for uid in actions}, outputs

    def record_transition(self, **kwargs: Any) -> None:
        def clone(value: Any) -> Any:
            if isinstance(value, torch.Tensor):
                return value.clone()
            if isinstance(value, Mapping):
                return {k: clone(v) for k, v in value.items()}
            return value

        self.transitions.append({**clone(kwargs), "training": self.training})

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        self.posts += 1

    def track_data(self, tag: str, value: Any) -> None:
        pass
