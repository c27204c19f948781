"""PPO_RNN with GRU models on a partially observable CartPole (velocities hidden), with the ManualTrainer.

The observation keeps only the cart position and the pole angle, so a memoryless policy cannot see how fast
things move; the GRU has to infer it. skrl-style recurrent models: ``get_specification()`` declares the hidden
state sizes, ``compute`` receives ``inputs["rnn"]`` (and ``inputs["terminated"]`` for sequences).

    python examples/torch_gymnasium_cartpole_nvel_ppo_gru.py [--timesteps 12500]
"""

import argparse

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from steprl.agents.torch.ppo import PPO_DEFAULT_CONFIG, PPO_RNN
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


class HideVelocities(gym.ObservationWrapper):
    def __init__(self, env):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)

    def observation(self, observation):
        return observation[[0, 2]].astype(np.float32)


class GRUModel(CategoricalMixin, DeterministicMixin, Model):
    """A GRU with a policy (categorical) and a value (deterministic) head; used as two separate instances here
    (one per role), it may also be shared (the same instance under both roles)."""

    def __init__(self, observation_space, action_space, device, num_envs, hidden=64, sequence_length=32):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)
        DeterministicMixin.__init__(self)
        self.num_envs, self.hidden, self.sequence_length = num_envs, hidden, sequence_length
        self.gru = nn.GRU(self.num_observations, hidden, batch_first=True)
        self.policy_head = nn.Sequential(nn.Linear(hidden, 64), nn.Tanh(), nn.Linear(64, self.num_actions))
        self.value_head = nn.Sequential(nn.Linear(hidden, 64), nn.Tanh(), nn.Linear(64, 1))

    def get_specification(self):
        return {"rnn": {"sequence_length": self.sequence_length, "sizes": [(1, self.num_envs, self.hidden)]}}

    def act(self, inputs, role):
        if role == "policy":
            return CategoricalMixin.act(self, inputs, role)
        return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role):
        states, hidden = inputs["states"], inputs["rnn"][0]
        terminated = inputs.get("terminated")
        if self.training:  # (N*L, obs) sequences starting from the stored hidden state
            length = self.sequence_length
            x = states.view(-1, length, states.shape[-1])
            hidden = hidden.view(1, -1, length, self.hidden)[:, :, 0, :].contiguous()
            if terminated is not None and torch.any(terminated):  # reset the state after episode ends
                terminated = terminated.view(-1, length)
                cuts = [0, *(terminated[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist(), length]
                outputs = []
                for i0, i1 in zip(cuts[:-1], cuts[1:]):
                    out, hidden = self.gru(x[:, i0:i1], hidden)
                    hidden = hidden.masked_fill(terminated[:, i1 - 1].view(1, -1, 1), 0.0)
                    outputs.append(out)
                out = torch.cat(outputs, dim=1)
            else:
                out, hidden = self.gru(x, hidden)
        else:  # one step per environment
            out, hidden = self.gru(states.view(-1, 1, states.shape[-1]), hidden)
        features = out.flatten(0, 1)
        head = self.policy_head if role == "policy" else self.value_head
        return head(features), {"rnn": [hidden]}


parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=12_500, help="trainer steps (each steps all 8 sub-envs)")
args = parser.parse_args()

set_seed(0)
torch.set_num_threads(1)
env = wrap_env(gym.vector.SyncVectorEnv([lambda: HideVelocities(gym.make("CartPole-v1"))] * 8))
device = env.device
policy = GRUModel(env.observation_space, env.action_space, device, num_envs=env.num_envs)
value = GRUModel(env.observation_space, env.action_space, device, num_envs=env.num_envs)

cfg = PPO_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 32
cfg["learning_epochs"] = 4
cfg["mini_batches"] = 1
cfg["discount_factor"] = 0.999
cfg["lambda"] = 0.98
cfg["learning_rate"] = 1e-3
cfg["entropy_loss_scale"] = 0.0
cfg["experiment"]["write_interval"] = 0
cfg["experiment"]["checkpoint_interval"] = 0
memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=device)
agent = PPO_RNN(models={"policy": policy, "value": value}, memory=memory, cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space, device=device)

trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
for timestep in range(args.timesteps):
    trainer.train(timestep=timestep)

returns = trainer.run_episodes(8)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
