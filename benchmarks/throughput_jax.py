"""The JAX side of ``throughput.py``: PPO with flax models on the same CartPole-v1 configuration as torch."""

from __future__ import annotations

import flax.linen as nn
import gymnasium as gym
import jax
from throughput import Run, make_env, measure_ppo

from steprl import config
from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import CategoricalMixin, DeterministicMixin, Model
from steprl.utils import set_seed


def mlp(x: jax.Array, outputs: int) -> jax.Array:
    x = nn.tanh(nn.Dense(64)(x))
    x = nn.tanh(nn.Dense(64)(x))
    return nn.Dense(outputs)(x)


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        return mlp(inputs["states"], self.num_actions), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        return mlp(inputs["states"], 1), {}


def jax_ppo(steps: int, num_envs: int, backend: str) -> Run:
    """The torch benchmark's PPO (rollouts 128, 4 epochs x 4 mini-batches, 64x64 tanh) on JAX arrays/``backend``."""
    config.jax.backend = backend
    set_seed(0)
    env = wrap_env(make_env(), verbose=False)
    env.reset(force=True, seed=0)
    assert env.num_envs == num_envs
    space = gym.spaces.Box(-1, 1, env.observation_space.shape, seed=0)  # a seeded sample for init_state_dict
    models = {
        "policy": Policy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    for role, model in models.items():
        model.init_state_dict(role, inputs={"states": space.sample().reshape(1, -1)})
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=128, learning_epochs=4, mini_batches=4, experiment={"write_interval": 0, "checkpoint_interval": 0}
    )
    agent = PPO(
        models=models,
        memory=RandomMemory(memory_size=128, num_envs=num_envs),
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    policy = models["policy"]
    return measure_ppo(env, agent, steps, ready=lambda: jax.block_until_ready(policy.state_dict.params))
