"""The seed program on JAX: a PPO agent built the skrl way (flax models with mixins, RandomMemory,
PPO_DEFAULT_CONFIG.copy() edited) trained with the ManualTrainer's train loop, then evaluated with its eval loop."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from helpers.jax_agents import CategoricalPolicy, Value

from steprl import config
from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.resources.schedulers.jax import KLAdaptiveLR
from steprl.trainers.jax import ManualTrainer
from steprl.utils import set_seed


@pytest.mark.slow
def test_seed_program_learns_cartpole_on_jax() -> None:
    set_seed(42)
    env = gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="sync")
    env.reset(seed=42)
    env = wrap_env(env, verbose=False)
    models = {"policy": CategoricalPolicy(env.observation_space, env.action_space, env.device),
              "value": Value(env.observation_space, env.action_space, env.device)}  # fmt: skip
    for role, model in models.items():
        model.init_state_dict(role)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=32, learning_epochs=20, mini_batches=1, discount_factor=0.98, learning_rate=1e-3,
               learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 0.008})  # fmt: skip
    cfg["lambda"] = 0.8
    cfg["value_loss_scale"] = 0.5
    cfg["experiment"]["write_interval"] = 0
    cfg["experiment"]["checkpoint_interval"] = 0
    agent = PPO(models=models, memory=RandomMemory(memory_size=32, num_envs=8, device=env.device), cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space, device=env.device)  # fmt: skip

    trainer = ManualTrainer(
        env=env, agents=agent, cfg={"timesteps": 50000, "headless": False, "close_environment_at_exit": False}
    )
    for timestep in range(6000):  # 48k environment steps
        trainer.train(timestep=timestep)
    returns = []
    episode_return = np.zeros(8)
    for timestep in range(1000):
        _, rewards, terminated, truncated, _ = trainer.eval(timestep=timestep)
        episode_return += np.asarray(rewards)[:, 0]
        done = np.asarray(terminated)[:, 0] | np.asarray(truncated)[:, 0]
        returns += episode_return[done].tolist()
        episode_return[done] = 0.0
    assert config.jax.backend == "numpy"
    assert returns and np.mean(returns) >= 475
