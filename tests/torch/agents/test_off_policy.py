"""The replay-agent base: training-step counting, replay writes, update triggers, soft updates, checkpoints."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import pytest
import torch
from helpers.envs import CountingEnv
from helpers.models import CategoricalPolicy, Value

from steprl.agents.torch.off_policy import OffPolicyAgent, soft_update
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer

CFG = {"gradient_steps": 2, "batch_size": 4, "discount_factor": 0.99, "polyak": 0.5, "random_timesteps": 3,
       "learning_starts": 5, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}


class ToyAgent(OffPolicyAgent):
    """Acts with its categorical policy and records every update batch."""

    def __init__(self, memory: Any, env: Any, **cfg: Any) -> None:
        policy = CategoricalPolicy(env.observation_space, env.action_space)
        super().__init__({"policy": policy}, memory, env.observation_space, env.action_space, "cpu", {**CFG, **cfg})
        self.policy = policy
        self.checkpoint_modules["policy"] = policy
        self.batches: list[torch.Tensor] = []
        self.random_calls = 0

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> Any:
        if self.training and self.training_steps < self._random_timesteps:
            self.random_calls += 1
        return super().act(states, timestep, timesteps)

    def _policy_act(self, states: torch.Tensor, timestep: int, timesteps: int) -> Any:
        return self.policy.act({"states": states}, role="policy")

    def _update_step(self, states, actions, rewards, next_states, terminated) -> None:  # noqa: ANN001
        self.batches.append(states)


def make(num_envs: int = 2, **cfg: Any) -> tuple[ToyAgent, Any, RandomMemory]:
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: CountingEnv(length=4)] * num_envs), verbose=False)
    memory = RandomMemory(memory_size=50, num_envs=num_envs)
    return ToyAgent(memory, env, **cfg), env, memory


def test_training_steps_drive_random_exploration_learning_starts_and_updates() -> None:
    agent, env, memory = make()
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, "headless": True, "disable_progressbar": True})
    for t in range(4):
        trainer.train(timestep=t)
        trainer.eval(timestep=t)  # evaluation steps neither count nor write to the replay memory
    assert agent.training_steps == 4 and len(memory) == 4 * 2 and agent.random_calls == 3 and not agent.batches
    for t in range(4, 8):
        trainer.train(timestep=1000 + t)  # the caller's numbering does not matter either
    assert agent.training_steps == 8
    assert len(agent.batches) == 2 * 3  # updates after the 6th, 7th and 8th training steps, 2 gradient steps each
    assert all(batch.shape == (4, 3) for batch in agent.batches)


def test_stored_next_states_are_the_true_final_observations() -> None:
    agent, env, memory = make(num_envs=1)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, "headless": True, "disable_progressbar": True})
    for t in range(6):
        trainer.train(timestep=t)
    states = memory.get_tensor_by_name("states")[:6, 0]
    next_states = memory.get_tensor_by_name("next_states")[:6, 0]
    terminated = memory.get_tensor_by_name("terminated")[:6, 0, 0]
    assert terminated.tolist() == [False, False, False, True, False, False]
    assert next_states[3].tolist() == [0.0, 4.0, 0.0]  # episode 0's last observation, not the reset one
    assert states[4].tolist() == [1.0, 0.0, 0.0]  # the next transition starts the new episode


def test_soft_update_moves_by_exactly_polyak() -> None:
    target, source = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in target.parameters()]
    soft_update(target, source, 0.25)
    for old, new, src in zip(before, target.parameters(), source.parameters()):
        torch.testing.assert_close(new, 0.75 * old + 0.25 * src)
    env = wrap_env(CountingEnv(), verbose=False)
    model_target, model_source = Value(env.observation_space), Value(env.observation_space)
    snapshot = [p.detach().clone() for p in model_target.parameters()]
    soft_update(model_target, model_source, 0.1)  # a Model uses its own update_parameters
    for old, new, src in zip(snapshot, model_target.parameters(), model_source.parameters()):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * src)


def test_checkpoint_keeps_training_steps_and_optionally_the_replay_memory(tmp_path: os.PathLike) -> None:
    agent, env, memory = make(checkpoint_memory=True)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, "headless": True, "disable_progressbar": True})
    for t in range(7):
        trainer.train(timestep=t)
    path = os.path.join(tmp_path, "agent.pt")
    agent.save(path)

    resumed, _, resumed_memory = make(checkpoint_memory=True)
    resumed.load(path)
    assert resumed.training_steps == 7 and len(resumed_memory) == len(memory)
    torch.testing.assert_close(
        resumed_memory.get_tensor_by_name("states")[:7], memory.get_tensor_by_name("states")[:7], equal_nan=True
    )
    plain, _, plain_memory = make()
    plain.load(path)  # an agent without checkpoint_memory ignores the stored buffer (with a warning)
    assert plain.training_steps == 7 and len(plain_memory) == 0


def test_batch_and_polyak_validation() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        make(batch_size=0)
    with pytest.raises(ValueError, match="polyak"):
        make(polyak=1.5)


def test_rewards_shaper_applies_to_stored_rewards_only() -> None:
    agent, env, memory = make(rewards_shaper=lambda rewards, timestep, timesteps: rewards * 10.0)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, "headless": True, "disable_progressbar": True})
    _, rewards, *_ = trainer.train(timestep=0)
    torch.testing.assert_close(memory.get_tensor_by_name("rewards")[0], rewards * 10.0)
    assert trainer.episode_returns("train") == [] and rewards.max() <= 2.0  # the env's rewards are untouched
