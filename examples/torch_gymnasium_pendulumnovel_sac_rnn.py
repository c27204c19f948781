"""SAC_RNN with GRU models on Pendulum with the velocity hidden (observation: cos θ, sin θ only).

The models are the library's recurrent builders (``steprl.models.torch.networks.recurrent``): a GRU policy and GRU
critics in skrl's recurrent-model style. The agent stores each step's hidden state in the replay memory and learns
from whole sequences of ``sequence_length`` steps; ``batch_size`` counts sequences.

    python examples/torch_gymnasium_pendulumnovel_sac_rnn.py [--timesteps 15000]
"""

import argparse

import gymnasium as gym
import numpy as np
import torch

from steprl.agents.torch.sac import SAC_DEFAULT_CONFIG, SAC_RNN
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.recurrent import build_sac_rnn_models
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


class HideVelocity(gym.ObservationWrapper):
    def __init__(self, env):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def observation(self, observation):
        return observation[:2].astype(np.float32)


parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=15_000, help="trainer steps (each steps all 4 sub-envs)")
args = parser.parse_args()

set_seed(0)
torch.set_num_threads(1)
env = wrap_env(gym.make_vec("Pendulum-v1", 4, vectorization_mode="sync", wrappers=[HideVelocity]))
device = env.device
network = {"cell": "gru", "hidden_size": 64, "sequence_length": 8, "hidden": [64], "activation": "relu"}
models = build_sac_rnn_models(env.observation_space, env.action_space, device, network, num_envs=env.num_envs)

cfg = SAC_DEFAULT_CONFIG.copy()
cfg["batch_size"] = 32  # sequences of 8 steps
cfg["discount_factor"] = 0.98
cfg["random_timesteps"] = 250
cfg["learning_starts"] = 250
cfg["experiment"]["write_interval"] = 0
cfg["experiment"]["checkpoint_interval"] = 0
memory = RandomMemory(memory_size=5000, num_envs=env.num_envs, device=device)
agent = SAC_RNN(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device=device)

trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
for timestep in range(args.timesteps):
    trainer.train(timestep=timestep)

returns = trainer.run_episodes(4)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
