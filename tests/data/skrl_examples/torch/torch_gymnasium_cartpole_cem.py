# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""CEM on CartPole-v1: a categorical policy (mixin, unnormalized log-probabilities) trained from 1000-step rollouts kept
in a RandomMemory."""

import gymnasium as gym
import torch.nn as nn

from steprl.agents.torch.cem import CEM, CEM_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, Model
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed

set_seed()  # pass a number for a fixed seed


def make_env(env_id, **vector_options):
    """``gym.make(env_id)``, or ``gym.vector.make(env_id, **vector_options)`` when vector options are given. When this
    Gymnasium no longer registers that version, the first registered version of the same environment is built."""
    build = gym.vector.make if vector_options else gym.make
    try:
        return build(env_id, **vector_options)
    except (gym.error.DeprecatedEnv, gym.error.VersionNotFound):
        family = env_id.rsplit("-v", 1)[0] + "-v"
        available = next(name for name in gym.envs.registry if name.startswith(family))
        print(f"{env_id} is not registered here, building {available} instead")
        return build(available, **vector_options)


class Policy(CategoricalMixin, Model):
    """Action logits from two hidden layers of 64 ReLU units."""

    def __init__(self, observation_space, action_space, device, unnormalized_log_prob=True):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob)
        self.logits = nn.Sequential(nn.Linear(self.num_observations, 64), nn.ReLU(),
                                    nn.Linear(64, 64), nn.ReLU(),
                                    nn.Linear(64, self.num_actions))

    def compute(self, inputs, role):
        return self.logits(inputs["states"]), {}


env = wrap_env(make_env("CartPole-v1"))
device = env.device

memory = RandomMemory(memory_size=1000, num_envs=env.num_envs, device=device, replacement=False)

models = {"policy": Policy(env.observation_space, env.action_space, device)}
for model in models.values():
    model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

cfg = CEM_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 1000
cfg["learning_starts"] = 100
cfg["experiment"]["write_interval"] = 1000
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/torch/CartPole"

agent = CEM(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 100000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
