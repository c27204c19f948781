"""CEM on CartPole-v1 (JAX), skrl-style: a categorical policy written with the mixins."""

import flax.linen as nn
import gymnasium as gym

from steprl import config
from steprl.agents.jax.cem import CEM, CEM_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import CategoricalMixin, Model
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed

config.jax.backend = "numpy"
set_seed()


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self, unnormalized_log_prob)

    @nn.compact
    def __call__(self, inputs, role):
        hidden = nn.relu(nn.Dense(64)(inputs["states"]))
        hidden = nn.relu(nn.Dense(64)(hidden))
        return nn.Dense(self.num_actions)(hidden), {}


env = wrap_env(gym.make("CartPole-v1"))
device = env.device

memory = RandomMemory(memory_size=1000, num_envs=env.num_envs, device=device, replacement=False)

models = {"policy": Policy(env.observation_space, env.action_space, device)}
for role, model in models.items():
    model.init_state_dict(role)
for model in models.values():
    model.init_parameters(method_name="normal", stddev=0.1)

cfg = CEM_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 1000
cfg["learning_starts"] = 100
cfg["experiment"]["write_interval"] = 1000
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/jax/CartPole"

agent = CEM(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 100000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
