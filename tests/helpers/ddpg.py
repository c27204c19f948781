"""DDPG/TD3 test builders shared by several test modules."""

from __future__ import annotations

import gymnasium as gym
import torch

from steprl.agents.torch.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from steprl.agents.torch.td3 import TD3, TD3_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.deterministic import build_ddpg_models, build_td3_models

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


AGENTS = {"DDPG": (DDPG, DDPG_DEFAULT_CONFIG, build_ddpg_models), "TD3": (TD3, TD3_DEFAULT_CONFIG, build_td3_models)}


class ConstantNoise:
    """A noise returning ``value`` everywhere (to read the applied scale off the actions)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def sample(self, size):
        return torch.full(tuple(size), self.value)


def pendulum(num_envs: int = 1):
    if num_envs == 1:
        return wrap_env(gym.make("Pendulum-v1"), verbose=False)
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def make_agent(name: str, env=None, memory_size: int = 256, models=None, **cfg_updates):
    """A small agent of ``name`` ("DDPG" or "TD3") on ``env`` (default: one Pendulum-v1), logging disabled."""
    cls, defaults, builder = AGENTS[name]
    env = env if env is not None else pendulum()
    cfg = defaults.copy()
    cfg.update(batch_size=8, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    if models is None:
        models = builder(env.observation_space, env.action_space, "cpu", {"hidden": [16, 16]}, env.num_envs)
    memory = RandomMemory(memory_size=memory_size, num_envs=env.num_envs) if memory_size else None
    return cls(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
               action_space=env.action_space, device="cpu")


def crafted_batch(batch: int = 8, terminated=None):
    torch.manual_seed(1)
    states, next_states = torch.randn(batch, 3), torch.randn(batch, 3)
    actions, rewards = torch.rand(batch, 1) * 4 - 2, torch.randn(batch, 1)
    if terminated is None:
        terminated = torch.zeros(batch, 1, dtype=torch.bool)
    return states, actions, rewards, next_states, terminated


def snapshot(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))
