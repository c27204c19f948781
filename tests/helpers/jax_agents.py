"""JAX models written the skrl way and a small JAX on-policy agent builder (shared by the JAX agent tests)."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from helpers.backends import jax_backend
from helpers.envs import CountingEnv
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


class CategoricalPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self, unnormalized_log_prob)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(16)(inputs["states"]))
        return nn.Dense(self.num_actions)(x), {}


class GaussianPolicy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, reduction="sum", **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        GaussianMixin.__init__(self, clip_actions, True, -20, 2, reduction)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(16)(inputs["states"]))
        mean = nn.Dense(self.num_actions)(x)
        if "alpha" in inputs:  # RPO: the model perturbs its mean with the key the mixin hands it
            mean = mean + jax.random.uniform(inputs["key"], mean.shape, minval=-inputs["alpha"], maxval=inputs["alpha"])
        return mean, self.param("log_std", lambda _: jnp.zeros(self.num_actions)), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space=None, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(16)(inputs["states"]))
        return nn.Dense(1)(x), {}


def counting_env(num_envs: int = 2, backend: str = "numpy") -> Any:
    """A wrapped sync vector env of CountingEnvs (episode lengths 3, 4, ...) on the given JAX array backend."""
    fns = [lambda i=i: CountingEnv(length=3 + i, tag=i) for i in range(num_envs)]
    with jax_backend(backend):
        return wrap_env(gym.vector.SyncVectorEnv(fns), verbose=False)


def pendulum_env(num_envs: int = 2, backend: str = "numpy") -> Any:
    with jax_backend(backend):
        env = gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync")
        env.reset(seed=0)
        return wrap_env(env, verbose=False)


def build_agent(cls: type, defaults: dict, env: Any, backend: str = "numpy", rollouts: int = 8, **cfg: Any) -> Any:
    """``cls`` (a JAX rollout agent) with small models and a rollout memory on ``backend``."""
    config = defaults.copy()
    config.update(rollouts=rollouts, experiment=dict(NO_LOGS))
    config.update(cfg)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    policy_cls = CategoricalPolicy if discrete else GaussianPolicy
    with jax_backend(backend):
        models = {"policy": policy_cls(env.observation_space, env.action_space), "value": Value(env.observation_space)}
        for role, model in models.items():
            model.init_state_dict(role)
        memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs)
        return cls(models=models, memory=memory, cfg=config, observation_space=env.observation_space,
                   action_space=env.action_space)  # fmt: skip


def host(tree: Any) -> Any:
    """``tree`` as nested NumPy arrays (for comparisons)."""
    return jax.tree_util.tree_map(np.asarray, tree)
