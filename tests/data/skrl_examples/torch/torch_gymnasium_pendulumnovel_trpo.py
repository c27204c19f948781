# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""TRPO on 4 synchronous PendulumNoVel-v1 environments (gym.vector.make), Pendulum with its angular velocity hidden:
Gaussian policy and value written with the mixins, running standard scalers, a 1024-step rollout in a RandomMemory."""

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from steprl.agents.torch.trpo import TRPO, TRPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, GaussianMixin, Model
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed

set_seed()  # pass a number for a fixed seed


class MaskAngularVelocity(gym.ObservationWrapper):
    """Pendulum observations are (cos theta, sin theta, angular velocity); this zeroes the velocity, which the agent
    then has to infer from what it saw before."""

    KEEP = np.array([1, 1, 0])

    def observation(self, observation):
        return observation * self.KEEP


def pendulum_without_velocity():
    return MaskAngularVelocity(gym.make("Pendulum-v1"))


gym.envs.registration.register(id="PendulumNoVel-v1", entry_point=pendulum_without_velocity)


def mlp(width_in, hidden, width_out):
    """Linear layers through the ``hidden`` widths, ReLU after each of them, a plain linear output layer."""
    layers = []
    for width in hidden:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    return nn.Sequential(*layers, nn.Linear(width_in, width_out))


class Policy(GaussianMixin, Model):
    """Gaussian policy: mean from two hidden layers of 64 ReLU units, squashed into Pendulum's torque range
    [-2, 2]; the log standard deviation is a free parameter, the same for every state."""

    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 clip_log_std=True, min_log_std=-20, max_log_std=2, reduction="sum"):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)
        self.mean_net = mlp(self.num_observations, [64, 64], self.num_actions)
        self.log_std_param = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role):
        return 2.0 * torch.tanh(self.mean_net(inputs["states"])), self.log_std_param, {}


class Value(DeterministicMixin, Model):
    """State value from two hidden layers of 64 ReLU units."""

    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.value_net = mlp(self.num_observations, [64, 64], 1)

    def compute(self, inputs, role):
        return self.value_net(inputs["states"]), {}


env = wrap_env(gym.vector.make("PendulumNoVel-v1", num_envs=4, asynchronous=False))
device = env.device

memory = RandomMemory(memory_size=1024, num_envs=env.num_envs, device=device)

models = {"policy": Policy(env.observation_space, env.action_space, device, clip_actions=True),
          "value": Value(env.observation_space, env.action_space, device)}

cfg = TRPO_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 1024
cfg["learning_epochs"] = 10
cfg["mini_batches"] = 32
cfg["discount_factor"] = 0.99
cfg["lambda"] = 0.95
cfg["learning_rate"] = 1e-3
cfg["grad_norm_clip"] = 0.5
cfg["state_preprocessor"] = RunningStandardScaler
cfg["state_preprocessor_kwargs"] = {"size": env.observation_space, "device": device}
cfg["value_preprocessor"] = RunningStandardScaler
cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
cfg["experiment"]["write_interval"] = 500
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/torch/PendulumNoVel"

agent = TRPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
             action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 100000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
