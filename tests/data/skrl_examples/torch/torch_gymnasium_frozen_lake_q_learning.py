# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""Q-learning on FrozenLake-v0, or on the version this Gymnasium registers: an epsilon-greedy tabular policy written
with TabularMixin, no memory."""

import gymnasium as gym
import torch

from steprl.agents.torch.q_learning import Q_LEARNING, Q_LEARNING_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.models.torch import Model, TabularMixin
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


class EpsilonGreedyTable(TabularMixin, Model):
    """One Q-table per environment (initialised to ones); acts greedily on it, except for a random action with
    probability ``epsilon``."""

    def __init__(self, observation_space, action_space, device, num_envs=1, epsilon=0.1):
        Model.__init__(self, observation_space, action_space, device)
        TabularMixin.__init__(self, num_envs)
        self.epsilon = epsilon
        self.q_table = torch.ones((num_envs, self.num_observations, self.num_actions), dtype=torch.float32,
                                  device=self.device)

    def compute(self, inputs, role):
        states = inputs["states"]
        rows = self.q_table[torch.arange(self.num_envs, device=self.device).unsqueeze(1), states]
        actions = rows.argmax(dim=-1, keepdim=True).reshape(-1, 1)
        explore = torch.rand(states.shape[0], device=self.device) < self.epsilon
        count = int(explore.sum())
        if count:
            actions[explore] = torch.randint(self.num_actions, (count, 1), device=self.device)
        return actions, {}


env = wrap_env(make_env("FrozenLake-v0"))
device = env.device

models = {"policy": EpsilonGreedyTable(env.observation_space, env.action_space, device, num_envs=env.num_envs,
                                     epsilon=0.1)}

cfg = Q_LEARNING_DEFAULT_CONFIG.copy()
cfg["discount_factor"] = 0.999
cfg["alpha"] = 0.4
cfg["experiment"]["write_interval"] = 1600
cfg["experiment"]["checkpoint_interval"] = 8000
cfg["experiment"]["directory"] = "runs/torch/FrozenLake"

agent = Q_LEARNING(models=models, memory=None, cfg=cfg, observation_space=env.observation_space,
                   action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 80000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
