"""PPO on 4 vectorized Pendulum-v1 environments (JAX), skrl-style: Gaussian policy and value written with the mixins,
running standard scalers, the KL-adaptive learning rate under its skrl 1.0 name ``KLAdaptiveRL``."""

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from steprl import config
from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import DeterministicMixin, GaussianMixin, Model
from steprl.resources.preprocessors.jax import RunningStandardScaler
from steprl.resources.schedulers.jax import KLAdaptiveRL
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed

config.jax.backend = "numpy"
set_seed()


class Policy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False,
                 clip_log_std=True, min_log_std=-20, max_log_std=2, reduction="sum", **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)

    @nn.compact
    def __call__(self, inputs, role):
        hidden = nn.relu(nn.Dense(64)(inputs["states"]))
        hidden = nn.relu(nn.Dense(64)(hidden))
        mean = 2 * nn.tanh(nn.Dense(self.num_actions)(hidden))  # Pendulum's torque is in [-2, 2]
        return mean, self.param("log_std", lambda _: jnp.zeros(self.num_actions)), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        hidden = nn.relu(nn.Dense(64)(inputs["states"]))
        hidden = nn.relu(nn.Dense(64)(hidden))
        return nn.Dense(1)(hidden), {}


env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=4, vectorization_mode="sync"))
device = env.device

memory = RandomMemory(memory_size=1024, num_envs=env.num_envs, device=device)

models = {
    "policy": Policy(env.observation_space, env.action_space, device, clip_actions=True),
    "value": Value(env.observation_space, env.action_space, device),
}
for role, model in models.items():
    model.init_state_dict(role)

cfg = PPO_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 1024
cfg["learning_epochs"] = 10
cfg["mini_batches"] = 32
cfg["discount_factor"] = 0.9
cfg["lambda"] = 0.95
cfg["learning_rate"] = 1e-3
cfg["learning_rate_scheduler"] = KLAdaptiveRL
cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
cfg["grad_norm_clip"] = 0.5
cfg["ratio_clip"] = 0.2
cfg["value_clip"] = 0.2
cfg["clip_predicted_values"] = False
cfg["entropy_loss_scale"] = 0.0
cfg["value_loss_scale"] = 0.5
cfg["kl_threshold"] = 0
cfg["state_preprocessor"] = RunningStandardScaler
cfg["state_preprocessor_kwargs"] = {"size": env.observation_space, "device": device}
cfg["value_preprocessor"] = RunningStandardScaler
cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
cfg["experiment"]["write_interval"] = 500
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/jax/Pendulum"

agent = PPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 100000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
