"""IPPO on PettingZoo MPE simple_spread_v3 with the ManualTrainer, written the skrl 1.x way.

Three agents must cover three landmarks; 8 copies of the environment are stepped as one batch. The agents share
one policy and one value network (parameter sharing), with a one-hot agent id appended to their inputs.

    python examples/torch_pettingzoo_simple_spread_ippo.py [--timesteps 37500]
"""

import argparse

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from mpe2 import simple_spread_v3

from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
from steprl.multi_agents.torch.ippo import IPPO, IPPO_DEFAULT_CONFIG
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64),
            nn.Tanh(),
            nn.Linear(64, 64),
            nn.Tanh(),
            nn.Linear(64, self.num_actions),
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space=None, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1)
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=37_500, help="vector steps (x 8 copies = environment steps)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(1)  # small networks: one CPU thread is the fastest
    set_seed(args.seed)
    env = wrap_env([simple_spread_v3.parallel_env(N=3, max_cycles=25, continuous_actions=False) for _ in range(8)])
    env.reset(seed=args.seed)
    device = env.device

    # one network for the three agents: observation + one-hot agent id (cfg["append_agent_id"])
    num_agents = len(env.possible_agents)
    size = env.observation_space("agent_0").shape[0] + num_agents
    inputs = gym.spaces.Box(-np.inf, np.inf, (size,))
    policy = Policy(inputs, env.action_space("agent_0"), device)
    value = Value(inputs, None, device)
    models = {uid: {"policy": policy, "value": value} for uid in env.possible_agents}
    memories = {uid: RandomMemory(memory_size=100, num_envs=env.num_envs, device=device) for uid in env.possible_agents}

    cfg = IPPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 100
    cfg["learning_epochs"] = 5
    cfg["mini_batches"] = 2
    cfg["learning_rate"] = 7e-4
    cfg["grad_norm_clip"] = 10.0
    cfg["entropy_loss_scale"] = 0.01
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
    cfg["append_agent_id"] = True
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}

    agent = IPPO(
        possible_agents=env.possible_agents,
        models=models,
        memories=memories,
        cfg=cfg,
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        device=device,
    )

    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
    for timestep in range(args.timesteps):
        next_states, rewards, terminated, truncated, infos = trainer.train(timestep=timestep)

    returns = trainer.run_episodes(24)  # greedy actions; return summed over the three agents
    print(
        f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes (random policy: about -84)"
    )


if __name__ == "__main__":
    main()
