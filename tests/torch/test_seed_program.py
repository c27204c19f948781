"""The ManualTrainer seed program of the issue, verbatim in shape, with a small budget."""

from __future__ import annotations

import gymnasium as gym
import pytest
from helpers.models import CategoricalPolicy, Value

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


@pytest.mark.parametrize("vector", [True, False])
@pytest.mark.parametrize("as_list", [True, False])
def test_seed_program(vector: bool, as_list: bool) -> None:
    set_seed(0)
    raw = gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync") if vector else gym.make("CartPole-v1")
    env = wrap_env(raw)
    memory = RandomMemory(memory_size=16, num_envs=env.num_envs, device=env.device)
    models = {"policy": CategoricalPolicy(env.observation_space, env.action_space, env.device),
              "value": Value(env.observation_space, env.action_space, env.device)}
    cfg_agent = PPO_DEFAULT_CONFIG.copy()
    cfg_agent["experiment"]["write_interval"] = 0
    cfg_agent["experiment"]["checkpoint_interval"] = 0
    agent = PPO(models=models, memory=memory, cfg=cfg_agent, observation_space=env.observation_space,
                action_space=env.action_space, device=env.device)
    agents = [agent] if as_list else agent

    from steprl.trainers.torch import ManualTrainer as Imported  # the seed's import line

    assert Imported is ManualTrainer
    cfg = {"timesteps": 200, "headless": False}
    trainer = ManualTrainer(env=env, agents=agents, cfg=cfg)
    for timestep in range(cfg["timesteps"]):
        trainer.train(timestep=timestep)
    for timestep in range(cfg["timesteps"]):
        trainer.eval(timestep=timestep)

    assert trainer.agents is agent
    assert len(trainer.episode_returns("train")) > 0
    assert trainer._loop.modes["eval"].progress.n == cfg["timesteps"] * env.num_envs  # every eval step ran (the bar counts env steps)
    assert memory.filled  # 200 steps > 16 rollouts: updates happened
    assert PPO_DEFAULT_CONFIG["experiment"]["write_interval"] == "auto"  # the edit did not leak into the defaults
