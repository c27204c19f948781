"""Checkpoint and resume: PPO on CartPole-v1 trains half its budget, saves, and a fresh agent continues exactly.

A checkpoint holds everything the run needs (models, optimizer, scheduler, counters, the partial rollout, RNG
states); ``agent.load(path, resume=True)`` restores all of it and ``agent.timestep`` says where to continue.

    python examples/torch_gymnasium_cartpole_ppo_resume.py [--timesteps 100000]
"""

import argparse
import os
import tempfile

import gymnasium as gym
import torch.nn as nn

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer
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


def build(env):
    memory = RandomMemory(memory_size=32, num_envs=env.num_envs, device=env.device)
    models = {
        "policy": Policy(env.observation_space, env.action_space, env.device),
        "value": Value(env.observation_space, env.action_space, env.device),
    }
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 32
    cfg["learning_epochs"] = 20
    cfg["mini_batches"] = 1
    cfg["discount_factor"] = 0.98
    cfg["lambda"] = 0.8
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["value_loss_scale"] = 0.5
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    return PPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
               action_space=env.action_space, device=env.device)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    set_seed(args.seed)
    trainer_cfg = {"timesteps": args.timesteps, "headless": True}
    path = os.path.join(tempfile.mkdtemp(), "agent.pt")

    # first process: train half the budget, then save (mid-rollout is fine: the partial rollout is kept)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=args.num_envs, vectorization_mode="sync"))
    agent = build(env)
    trainer = ManualTrainer(env=env, agents=agent, cfg=trainer_cfg)
    for timestep in range(args.timesteps // 2):
        trainer.train(timestep=timestep)
    agent.save(path)
    print(f"saved at timestep {agent.timestep} ({agent.training_steps} training steps)")

    # "second process": a fresh agent loads the checkpoint and continues from the stored timestep
    resumed = build(env)
    resumed.load(path, resume=True)
    trainer = ManualTrainer(env=env, agents=resumed, cfg=trainer_cfg)
    for timestep in range(resumed.timestep, args.timesteps):
        trainer.train(timestep=timestep)

    returns = trainer.run_episodes(10)
    print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
