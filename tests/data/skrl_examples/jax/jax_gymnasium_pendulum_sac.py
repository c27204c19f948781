"""SAC on Pendulum-v1 (JAX), skrl-style: Gaussian actor and two critics (plus targets) written with the mixins."""

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from steprl import config
from steprl.agents.jax.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import DeterministicMixin, GaussianMixin, Model
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed

config.jax.backend = "numpy"
set_seed()


class Actor(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False,
                 clip_log_std=True, min_log_std=-5, max_log_std=2, reduction="sum", **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)

    @nn.compact
    def __call__(self, inputs, role):
        hidden = nn.relu(nn.Dense(400)(inputs["states"]))
        hidden = nn.relu(nn.Dense(300)(hidden))
        mean = 2 * nn.tanh(nn.Dense(self.num_actions)(hidden))  # Pendulum's torque is in [-2, 2]
        return mean, self.param("log_std", lambda _: jnp.zeros(self.num_actions)), {}


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


env = wrap_env(gym.make("Pendulum-v1"))
device = env.device

memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, device=device, replacement=False)

models = {"policy": Actor(env.observation_space, env.action_space, device, clip_actions=True)}
for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
    models[role] = Critic(env.observation_space, env.action_space, device)
for role, model in models.items():
    model.init_state_dict(role)
for model in models.values():
    model.init_parameters(method_name="normal", stddev=0.1)

cfg = SAC_DEFAULT_CONFIG.copy()
cfg["discount_factor"] = 0.98
cfg["batch_size"] = 100
cfg["random_timesteps"] = 0
cfg["learning_starts"] = 1000
cfg["learn_entropy"] = True
cfg["experiment"]["write_interval"] = 75
cfg["experiment"]["checkpoint_interval"] = 750
cfg["experiment"]["directory"] = "runs/jax/Pendulum"

agent = SAC(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 15000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
