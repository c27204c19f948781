"""DDPG on 10 vectorized Pendulum-v1 environments (JAX), skrl-style: deterministic actor and critic written with
the mixins, Ornstein-Uhlenbeck noise."""

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from steprl import config
from steprl.agents.jax.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import DeterministicMixin, Model
from steprl.resources.noises.jax import OrnsteinUhlenbeckNoise
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed

config.jax.backend = "numpy"
set_seed()


class Actor(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        hidden = nn.relu(nn.Dense(400)(inputs["states"]))
        hidden = nn.relu(nn.Dense(300)(hidden))
        return 2 * nn.tanh(nn.Dense(self.num_actions)(hidden)), {}  # Pendulum's torque is in [-2, 2]


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        hidden = jnp.concatenate([inputs["states"], inputs["taken_actions"]], axis=-1)
        hidden = nn.relu(nn.Dense(400)(hidden))
        hidden = nn.relu(nn.Dense(300)(hidden))
        return nn.Dense(1)(hidden), {}


env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=10, vectorization_mode="sync"))
device = env.device

memory = RandomMemory(memory_size=100000, num_envs=env.num_envs, device=device, replacement=False)

models = {
    "policy": Actor(env.observation_space, env.action_space, device),
    "target_policy": Actor(env.observation_space, env.action_space, device),
    "critic": Critic(env.observation_space, env.action_space, device),
    "target_critic": Critic(env.observation_space, env.action_space, device),
}
for role, model in models.items():
    model.init_state_dict(role)
for model in models.values():
    model.init_parameters(method_name="normal", stddev=0.1)

cfg = DDPG_DEFAULT_CONFIG.copy()
cfg["exploration"]["noise"] = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.1, base_scale=1.0, device=device)
cfg["batch_size"] = 100
cfg["random_timesteps"] = 100
cfg["learning_starts"] = 100
cfg["experiment"]["write_interval"] = 75
cfg["experiment"]["checkpoint_interval"] = 750
cfg["experiment"]["directory"] = "runs/jax/Pendulum"

agent = DDPG(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
             action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 15000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
