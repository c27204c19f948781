"""A fast vectorized multi-agent task and IPPO/MAPPO builders for the multi-agent algorithm tests."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch

from steprl.envs.wrappers.torch import MultiAgentEnvWrapper
from steprl.memories.torch import RandomMemory
from steprl.multi_agents.torch.ippo import IPPO, IPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.networks import build_multi_agent_models

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


class CueTask:
    """``num_envs`` copies of a two-agent task, 4 steps per episode (all copies end together).

    Each step draws a cue (one of 3 classes) per agent; an agent observes its own cue and its partner's (two
    one-hots, size 6) and earns 1 when its action names its partner's cue. Summed over both agents a random policy
    earns 4 × 2 / 3 ≈ 2.7 per episode, a perfect one 8. The global state is both cues and the time (size 7).
    """

    possible_agents = ["a", "b"]

    def __init__(self, num_envs: int = 4, seed: int = 0) -> None:
        self.num_envs = num_envs
        self.agents: list[str] = []
        self.generator = torch.Generator().manual_seed(seed)
        self.observation_spaces = {uid: gym.spaces.Box(0, 1, (6,)) for uid in self.possible_agents}
        self.action_spaces = {uid: gym.spaces.Discrete(3) for uid in self.possible_agents}
        self.state_space = gym.spaces.Box(0, 1, (7,))
        self.t = 0
        self.cues = torch.zeros(num_envs, 2, dtype=torch.long)

    @property
    def unwrapped(self) -> CueTask:
        return self


class CueWrapper(MultiAgentEnvWrapper):
    """Tensors of :class:`CueTask` (observation: own cue one-hot + partner cue one-hot; state: both + time)."""

    @property
    def num_envs(self) -> int:
        return self._env.num_envs

    def _draw(self) -> None:
        self._env.cues = torch.randint(0, 3, (self._env.num_envs, 2), generator=self._env.generator)

    def _observations(self) -> dict[str, torch.Tensor]:
        one_hot = torch.nn.functional.one_hot(self._env.cues, 3).float()
        return {"a": one_hot.flatten(1), "b": one_hot.flip(1).flatten(1)}

    def reset(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        self._env.t = 0
        self._env.agents = list(self._env.possible_agents)
        self._draw()
        return self._observations(), {uid: {} for uid in self._env.possible_agents}

    def step(self, actions: dict[str, torch.Tensor]) -> tuple[dict[str, Any], ...]:
        env = self._env
        for uid in env.possible_agents:
            if uid not in actions or actions[uid].shape != (env.num_envs, 1):
                raise ValueError(f"bad action for {uid}")
        rewards = {
            "a": (actions["a"].view(-1) == env.cues[:, 1]).float().view(-1, 1),
            "b": (actions["b"].view(-1) == env.cues[:, 0]).float().view(-1, 1),
        }
        env.t += 1
        self._draw()
        done = env.t >= 4
        if done:
            env.agents = []
        flags = {uid: torch.full((env.num_envs, 1), done) for uid in env.possible_agents}
        no = {uid: torch.zeros(env.num_envs, 1, dtype=torch.bool) for uid in env.possible_agents}
        return self._observations(), rewards, no, flags, {}

    def state(self) -> torch.Tensor:
        one_hot = torch.nn.functional.one_hot(self._env.cues, 3).float().flatten(1)
        return torch.cat([one_hot, torch.full((self._env.num_envs, 1), self._env.t / 4.0)], dim=1)

    def render(self, *args: Any, **kwargs: Any) -> None:
        return None


def build_agent(
    env: Any,
    algorithm: str = "mappo",
    share: bool = False,
    rollouts: int = 8,
    memories: bool = True,
    network: dict[str, Any] | None = None,
    **cfg_updates: Any,
) -> Any:
    """IPPO or MAPPO with small MLPs (one team when ``share``) on ``env``."""
    uids = list(env.possible_agents)
    mappo = algorithm == "mappo"
    models = build_multi_agent_models(
        uids,
        env.observation_spaces,
        env.action_spaces,
        env.device,
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
    return cls(uids, models, mems, env.observation_spaces, env.action_spaces, env.device, cfg, **extra)
