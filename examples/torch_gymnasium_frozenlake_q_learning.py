"""Q-learning on the non-slippery FrozenLake-v1, written the skrl 1.x way (only the import root differs).

    python examples/torch_gymnasium_frozenlake_q_learning.py [--timesteps 2500]

The policy is a Q-table model (TabularMixin) exploring epsilon-greedily; evaluation is greedy (`mean_actions`).
`--timesteps` counts vector steps (8 sub-environments). The optimal return is 1.0.
"""

import argparse

import gymnasium as gym
import torch

from steprl.agents.torch.q_learning import Q_LEARNING, Q_LEARNING_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.models.torch import Model, TabularMixin
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


class EpsilonGreedyPolicy(TabularMixin, Model):
    """One Q-table shared by every sub-environment: shape (1, n_states, n_actions).

    skrl's examples allocate one table per sub-environment, (num_envs, n_states, n_actions): steprl accepts both.
    """

    def __init__(self, observation_space, action_space, device, num_envs=1, epsilon=0.1):
        Model.__init__(self, observation_space, action_space, device)
        TabularMixin.__init__(self, num_envs)
        self.epsilon = epsilon
        self.q_table = torch.zeros((1, observation_space.n, action_space.n), dtype=torch.float32, device=self.device)

    def compute(self, inputs, role):
        q_values = self.q_table[0, inputs["states"].view(-1).long()]
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
    parser.add_argument("--timesteps", type=int, default=2_500)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    set_seed(args.seed)
    env = wrap_env(gym.make_vec("FrozenLake-v1", num_envs=args.num_envs, vectorization_mode="sync", is_slippery=False))
    device = env.device

    models = {"policy": EpsilonGreedyPolicy(env.observation_space, env.action_space, device, num_envs=env.num_envs, epsilon=0.1)}

    cfg = Q_LEARNING_DEFAULT_CONFIG.copy()
    cfg["discount_factor"] = 0.95
    cfg["learning_rate"] = 0.1
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}

    agent = Q_LEARNING(models=models, memory=None, cfg=cfg, observation_space=env.observation_space,
                       action_space=env.action_space, device=device)

    trainer_cfg = {"timesteps": args.timesteps, "headless": True}
    trainer = ManualTrainer(env=env, agents=agent, cfg=trainer_cfg)
    for timestep in range(trainer_cfg["timesteps"]):
        trainer.train(timestep=timestep)

    returns = trainer.run_episodes(8)
    print(f"evaluation return: {sum(returns) / len(returns):.2f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
