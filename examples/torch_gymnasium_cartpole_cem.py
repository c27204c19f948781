"""CEM (cross-entropy method) on CartPole-v1, written the skrl 1.x way (only the import root differs).

    python examples/torch_gymnasium_cartpole_cem.py [--timesteps 10000]

Every `rollouts` steps, the policy takes one cross-entropy step towards the actions of the elite episodes (the
top 30 % by discounted return). `--timesteps` counts vector steps (16 sub-environments).
"""

import argparse

import gymnasium as gym
import torch.nn as nn

from steprl.agents.torch.cem import CEM, CEM_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, Model
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device, unnormalized_log_prob=True):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob)
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, self.num_actions)
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=10_000)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()

    set_seed(args.seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=args.num_envs, vectorization_mode="sync"))
    device = env.device

    cfg = CEM_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 100  # vector steps between updates (the memory holds exactly one rollout)
    cfg["percentile"] = 0.70
    cfg["learning_rate"] = 1e-2
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}

    memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=device)
    models = {"policy": Policy(env.observation_space, env.action_space, device)}
    agent = CEM(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device=device)

    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
    trainer.train()

    returns = trainer.run_episodes(10)
    print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
