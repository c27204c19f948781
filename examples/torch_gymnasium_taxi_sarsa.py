"""SARSA on Taxi (Taxi-v4: the deterministic Taxi-v3 task), written the skrl 1.x way (only the import root differs).

    python examples/torch_gymnasium_taxi_sarsa.py [--timesteps 12500]

The policy is a Q-table model (TabularMixin) exploring epsilon-greedily; SARSA learns the values of that
exploring policy, so a small epsilon keeps it close to the greedy one used for evaluation. `--timesteps` counts
vector steps (16 sub-environments). The optimal mean return is about 7.9.
"""

import argparse

import gymnasium as gym
import torch

from steprl.agents.torch.sarsa import SARSA, SARSA_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.models.torch import Model, TabularMixin
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed


class EpsilonGreedyPolicy(TabularMixin, Model):
    """One Q-table per sub-environment when shared=False (skrl's layout), else one table for all of them."""

    def __init__(self, observation_space, action_space, device, num_envs=1, epsilon=0.1, shared=True):
        Model.__init__(self, observation_space, action_space, device)
        TabularMixin.__init__(self, num_envs)
        self.epsilon = epsilon
        tables = 1 if shared else num_envs
        self.q_table = torch.zeros((tables, observation_space.n, action_space.n), dtype=torch.float32, device=self.device)

    def compute(self, inputs, role):
        states = inputs["states"].view(-1).long()
        rows = torch.arange(states.shape[0], device=self.device) if self.q_table.shape[0] > 1 else 0
        q_values = self.q_table[rows, states]
        greedy = torch.argmax(q_values, dim=-1, keepdim=True)
        # exploit with ties broken at random (argmax alone always picks the first of equal values), and explore:
        # a uniformly random action with probability epsilon (no host synchronisation)
        ties = q_values == q_values.max(dim=-1, keepdim=True).values
        exploit = (ties * torch.rand_like(q_values)).argmax(dim=-1, keepdim=True)
        explore = torch.rand(greedy.shape, device=self.device) < self.epsilon
        actions = torch.where(explore, torch.randint_like(greedy, int(self.action_space.n)), exploit)
        return actions, {"mean_actions": greedy}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=12_500)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    set_seed(args.seed)
    env = wrap_env(gym.make_vec("Taxi-v4", num_envs=args.num_envs, vectorization_mode="sync"))
    device = env.device

    models = {"policy": EpsilonGreedyPolicy(env.observation_space, env.action_space, device, num_envs=env.num_envs, epsilon=0.02)}

    cfg = SARSA_DEFAULT_CONFIG.copy()
    cfg["discount_factor"] = 0.95
    cfg["learning_rate"] = 0.2
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}

    agent = SARSA(models=models, memory=None, cfg=cfg, observation_space=env.observation_space,
                  action_space=env.action_space, device=device)

    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
    trainer.train()

    returns = trainer.run_episodes(16)
    print(f"evaluation return: {sum(returns) / len(returns):.2f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
