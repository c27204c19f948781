"""ManualTrainer dispatch on multi-agent environments: dict actions, shared states, episode end = no agents."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from steprl.envs.wrappers.torch import MultiAgentEnvWrapper
from steprl.trainers.torch import ManualTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


class TwoAgentEnv:
    """Parallel two-agent env: obs = [t], episode of 3 steps, reward = action; state = [t, 10 * t]."""

    def __init__(self) -> None:
        self.possible_agents = ["a", "b"]
        self.agents: list[str] = []
        self.observation_spaces = {uid: gym.spaces.Box(-10, 10, (1,)) for uid in self.possible_agents}
        self.action_spaces = {uid: gym.spaces.Discrete(3) for uid in self.possible_agents}
        self.state_space = gym.spaces.Box(-100, 100, (2,))
        self.t = 0
        self.resets = 0
        self.received: list[dict[str, Any]] = []

    @property
    def unwrapped(self) -> TwoAgentEnv:
        return self


class TwoAgentWrapper(MultiAgentEnvWrapper):
    def _obs(self) -> dict[str, torch.Tensor]:
        return {uid: torch.tensor([[float(self._env.t)]]) for uid in self._env.possible_agents}

    def reset(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        self._env.t = 0
        self._env.resets += 1
        self._env.agents = list(self._env.possible_agents)
        return self._obs(), {uid: {} for uid in self._env.possible_agents}

    def step(self, actions: dict[str, torch.Tensor]) -> tuple[dict[str, Any], ...]:
        self._env.received.append({k: v.clone() for k, v in actions.items()})
        self._env.t += 1
        done = self._env.t >= 3
        if done:
            self._env.agents = []
        flags = {uid: torch.tensor([[done]]) for uid in self._env.possible_agents}
        rewards = {uid: actions[uid].float().view(1, 1) for uid in self._env.possible_agents}
        return self._obs(), rewards, flags, {uid: torch.tensor([[False]]) for uid in self._env.possible_agents}, {}

    def state(self) -> torch.Tensor:
        return torch.tensor([[float(self._env.t), 10.0 * self._env.t]])

    def render(self, *args: Any, **kwargs: Any) -> None:
        return None


class FakeMultiAgent:
    """Acts 2 for agent a and 1 for b (mean actions 0) and records what the trainer passes."""

    def __init__(self) -> None:
        self.possible_agents = ["a", "b"]
        self.records: list[dict[str, Any]] = []
        self.training = True
        self.posts = 0

    def init(self, trainer_cfg: Any = None) -> None:
        pass

    def set_running_mode(self, mode: str) -> None:
        self.training = mode == "train"

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def act(self, states: dict[str, torch.Tensor], timestep: int, timesteps: int) -> tuple[dict, dict, dict]:
        actions = {"a": torch.tensor([[2]]), "b": torch.tensor([[1]])}
        outputs = {uid: {"mean_actions": torch.tensor([[0]])} for uid in actions}
        return actions, {uid: None for uid in actions}, outputs

    def record_transition(self, **kwargs: Any) -> None:
        self.records.append(kwargs)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        self.posts += 1

    def track_data(self, tag: str, value: Any) -> None:
        pass


def test_multi_agent_train_and_eval_dispatch():
    raw = TwoAgentEnv()
    env = TwoAgentWrapper(raw)
    agent = FakeMultiAgent()
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 10, **QUIET})
    for _ in range(4):
        trainer.train()
    assert raw.received[0] == {"a": torch.tensor([[2]]), "b": torch.tensor([[1]])}
    assert raw.resets == 2  # initial + after the 3-step episode ended (agents list emptied)
    first = agent.records[0]
    assert torch.equal(first["infos"]["shared_states"], torch.tensor([[0.0, 0.0]]))
    assert torch.equal(first["infos"]["shared_next_states"], torch.tensor([[1.0, 10.0]]))
    fourth = agent.records[3]
    assert torch.equal(fourth["states"]["a"], torch.tensor([[0.0]]))  # fresh episode after the reset
    assert torch.equal(fourth["infos"]["shared_states"], torch.tensor([[0.0, 0.0]]))
    assert trainer.episode_returns("train") == [9.0]  # (2 + 1) per step, summed over agents
    assert agent.posts == 4
    trainer.eval()
    assert raw.received[-1] == {"a": torch.tensor([[0]]), "b": torch.tensor([[0]])}  # mean actions in eval
    assert agent.posts == 4


def test_multi_agent_sequential_entry_points():
    env = TwoAgentWrapper(TwoAgentEnv())
    agent = FakeMultiAgent()
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 6, **QUIET})
    trainer.multi_agent_train()
    assert len(agent.records) == 6
    np.testing.assert_allclose(trainer.episode_returns("train"), [9.0, 9.0])
