"""skrl 1.x's ``torch_gymnasium_pendulum_sac.py`` with ``skrl`` replaced by ``steprl`` in the imports.

Differences from skrl's script: the policy is steprl's tanh-squashed Gaussian (``MLPSquashedGaussianPolicy``: the
log-probability includes the tanh correction, so the temperature is tuned against the density of the actions
actually taken), 256x256 networks and rl-zoo's hyperparameters (lr 1e-3, batch 256, gamma 0.99, learning starts
1000), ``gym.make`` instead of ``gym.vector.make``, and a ``--timesteps`` option for the smoke test.

    python examples/torch_gymnasium_pendulum_sac.py [--timesteps 15000]
"""

import argparse

import gymnasium as gym
import torch
import torch.nn as nn

# import the steprl components to build the RL system
from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, Model
from steprl.models.torch.networks.sac import MLPSquashedGaussianPolicy
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed

parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=15000)
args = parser.parse_args()

# seed for reproducibility
set_seed(42)
torch.set_num_threads(1)


# define the critic (a deterministic model) using a mixin
class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)

        self.net = nn.Sequential(nn.Linear(self.num_observations + self.num_actions, 256),
                                 nn.ReLU(),
                                 nn.Linear(256, 256),
                                 nn.ReLU(),
                                 nn.Linear(256, 1))

    def compute(self, inputs, role):
        return self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=1)), {}


# load and wrap the gymnasium environment
env = gym.make("Pendulum-v1")
env = wrap_env(env)

device = env.device


# instantiate a memory as experience replay
memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, device=device, replacement=True)


# instantiate the agent's models (function approximators).
# SAC requires 5 models: the policy, two critics and their target copies
models = {}
models["policy"] = MLPSquashedGaussianPolicy(env.observation_space, env.action_space, device, hidden=[256, 256], activation="relu")
models["critic_1"] = Critic(env.observation_space, env.action_space, device)
models["critic_2"] = Critic(env.observation_space, env.action_space, device)
models["target_critic_1"] = Critic(env.observation_space, env.action_space, device)
models["target_critic_2"] = Critic(env.observation_space, env.action_space, device)


# configure and instantiate the agent
cfg = SAC_DEFAULT_CONFIG.copy()
cfg["discount_factor"] = 0.99
cfg["batch_size"] = 256
cfg["random_timesteps"] = 1000
cfg["learning_starts"] = 1000
cfg["actor_learning_rate"] = 1e-3
cfg["critic_learning_rate"] = 1e-3
cfg["learn_entropy"] = True
cfg["entropy_learning_rate"] = 1e-3
cfg["initial_entropy_value"] = 0.2
# logging to TensorBoard and write checkpoints (in timesteps)
cfg["experiment"]["write_interval"] = 75
cfg["experiment"]["checkpoint_interval"] = 750
cfg["experiment"]["directory"] = "runs/torch/Pendulum"

agent = SAC(models=models,
            memory=memory,
            cfg=cfg,
            observation_space=env.observation_space,
            action_space=env.action_space,
            device=device)


# configure and instantiate the RL trainer
cfg_trainer = {"timesteps": args.timesteps, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])

# start training
trainer.train()

# deterministic evaluation over 10 episodes (a steprl addition)
returns = trainer.run_episodes(10)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
