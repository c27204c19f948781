# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""SAC on PendulumNoVel-v1, Pendulum with its angular velocity hidden: actor and critics written with the mixins
(400-300 ReLU), learned entropy coefficient, a RandomMemory of 20000 transitions sampled without replacement."""

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, GaussianMixin, Model
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


class Actor(GaussianMixin, Model):
    """Gaussian actor: mean from layers of 400 and 300 ReLU units, squashed into Pendulum's torque range [-2, 2];
    a state-independent log standard deviation."""

    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 clip_log_std=True, min_log_std=-20, max_log_std=2, reduction="sum"):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)
        self.mean_net = mlp(self.num_observations, [400, 300], self.num_actions)
        self.log_std_param = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role):
        return 2.0 * torch.tanh(self.mean_net(inputs["states"])), self.log_std_param, {}


class Critic(DeterministicMixin, Model):
    """Q-value of an observation and an action, concatenated, through layers of 400 and 300 ReLU units."""

    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.q_net = mlp(self.num_observations + self.num_actions, [400, 300], 1)

    def compute(self, inputs, role):
        return self.q_net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=-1)), {}


env = wrap_env(gym.make("PendulumNoVel-v1"))
device = env.device

memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, device=device, replacement=False)

models = {}
models["policy"] = Actor(env.observation_space, env.action_space, device, clip_actions=True)
models["critic_1"] = Critic(env.observation_space, env.action_space, device)
models["critic_2"] = Critic(env.observation_space, env.action_space, device)
models["target_critic_1"] = Critic(env.observation_space, env.action_space, device)
models["target_critic_2"] = Critic(env.observation_space, env.action_space, device)
for model in models.values():
    model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

cfg = SAC_DEFAULT_CONFIG.copy()
cfg["discount_factor"] = 0.98
cfg["batch_size"] = 100
cfg["random_timesteps"] = 0
cfg["learning_starts"] = 1000
cfg["learn_entropy"] = True
cfg["experiment"]["write_interval"] = 75
cfg["experiment"]["checkpoint_interval"] = 750
cfg["experiment"]["directory"] = "runs/torch/PendulumNoVel"

agent = SAC(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 15000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
