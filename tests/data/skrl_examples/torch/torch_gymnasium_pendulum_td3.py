# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""TD3 on Pendulum-v1: actor and critics written with the mixins (400-300 ReLU), Gaussian exploration noise (0, 0.1) and
target-smoothing noise (0, 0.2) clipped at 0.5, a RandomMemory of 20000 transitions sampled without replacement."""

import gymnasium as gym
import torch
import torch.nn as nn

from steprl.agents.torch.td3 import TD3, TD3_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, Model
from steprl.resources.noises.torch import GaussianNoise
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


def mlp(width_in, hidden, width_out):
    """Linear layers through the ``hidden`` widths, ReLU after each of them, a plain linear output layer."""
    layers = []
    for width in hidden:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    return nn.Sequential(*layers, nn.Linear(width_in, width_out))


class Actor(DeterministicMixin, Model):
    """Deterministic actor: layers of 400 and 300 ReLU units, output squashed into Pendulum's torque range [-2, 2]."""

    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.action_net = mlp(self.num_observations, [400, 300], self.num_actions)

    def compute(self, inputs, role):
        return 2.0 * torch.tanh(self.action_net(inputs["states"])), {}


class Critic(DeterministicMixin, Model):
    """Q-value of an observation and an action, concatenated, through layers of 400 and 300 ReLU units."""

    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.q_net = mlp(self.num_observations + self.num_actions, [400, 300], 1)

    def compute(self, inputs, role):
        return self.q_net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=-1)), {}


env = wrap_env(make_env("Pendulum-v1"))
device = env.device

memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, device=device, replacement=False)

models = {}
models["policy"] = Actor(env.observation_space, env.action_space, device)
models["target_policy"] = Actor(env.observation_space, env.action_space, device)
models["critic_1"] = Critic(env.observation_space, env.action_space, device)
models["critic_2"] = Critic(env.observation_space, env.action_space, device)
models["target_critic_1"] = Critic(env.observation_space, env.action_space, device)
models["target_critic_2"] = Critic(env.observation_space, env.action_space, device)
for model in models.values():
    model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

cfg = TD3_DEFAULT_CONFIG.copy()
cfg["exploration"]["noise"] = GaussianNoise(0, 0.1, device=device)
cfg["smooth_regularization_noise"] = GaussianNoise(0, 0.2, device=device)
cfg["smooth_regularization_clip"] = 0.5
cfg["discount_factor"] = 0.98
cfg["batch_size"] = 100
cfg["random_timesteps"] = 1000
cfg["learning_starts"] = 1000
cfg["experiment"]["write_interval"] = 75
cfg["experiment"]["checkpoint_interval"] = 750
cfg["experiment"]["directory"] = "runs/torch/Pendulum"

agent = TD3(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 15000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
