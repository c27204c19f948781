"""A2C on CartPole-v1 with the SequentialTrainer, written the skrl 1.x way (only the import root differs).

Same hyperparameters as the ``[a2c]`` table of steprl's CartPole-v1 preset (``steprl train --agent a2c``).
``--timesteps`` counts trainer (vector) steps: 8 sub-environments step per timestep. The default (400k
environment steps, about 30 s) reached 500 with seed 42 (these models keep PyTorch's default initialization).

    python examples/torch_gymnasium_cartpole_a2c.py [--timesteps 50000]
"""

import argparse

import gymnasium as gym
import torch.nn as nn

from steprl.agents.torch.a2c import A2C, A2C_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
from steprl.resources.schedulers.torch import KLAdaptiveLR
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


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    set_seed(args.seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="sync"))
    device = env.device

    memory = RandomMemory(memory_size=16, num_envs=env.num_envs, device=device)
    models = {
        "policy": Policy(env.observation_space, env.action_space, device),
        "value": Value(env.observation_space, env.action_space, device),
    }

    cfg = A2C_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 16  # memory_size
    cfg["mini_batches"] = 2
    cfg["discount_factor"] = 0.98
    cfg["lambda"] = 0.9
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.004}
    cfg["grad_norm_clip"] = 0.5
    cfg["entropy_loss_scale"] = 0.0
    cfg["experiment"]["write_interval"] = 0
    cfg["experiment"]["checkpoint_interval"] = 0

    agent = A2C(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device=device)

    trainer = SequentialTrainer(cfg={"timesteps": args.timesteps, "headless": True}, env=env, agents=agent)
    trainer.train()

    returns = trainer.run_episodes(8)
    print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
