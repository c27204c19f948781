"""RPO on Pendulum-v1 with the SequentialTrainer, written the skrl 1.x way (only the import root differs).

The policy applies RPO's perturbation itself: the agent passes ``inputs["alpha"]`` in training (acting and updates)
and the policy adds ``U(-alpha, alpha)`` noise to its mean; evaluation passes no alpha, so it acts with the plain
mean. Same hyperparameters as the ``[rpo]`` table of steprl's Pendulum-v1 preset (``steprl train --agent rpo``).
``--timesteps`` counts trainer (vector) steps: 8 sub-environments step per timestep. The default (200k
environment steps) reached -196 with seed 42.

    python examples/torch_gymnasium_pendulum_rpo.py [--timesteps 25000]
"""

import argparse

import gymnasium as gym
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LinearLR

from steprl.agents.torch.rpo import RPO, RPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, GaussianMixin, Model
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed


class Policy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 clip_log_std=True, min_log_std=-20, max_log_std=2, reduction="sum"):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)
        self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(),
                                 nn.Linear(64, 64), nn.Tanh(),
                                 nn.Linear(64, self.num_actions))
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role):
        mean = self.net(inputs["states"])
        # RPO: perturb the mean with uniform noise when the agent asks for it (training only)
        if "alpha" in inputs:
            mean = mean + torch.empty_like(mean).uniform_(-inputs["alpha"], inputs["alpha"])
        return mean, self.log_std_parameter, {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(),
                                 nn.Linear(64, 64), nn.Tanh(),
                                 nn.Linear(64, 1))

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    set_seed(args.seed)
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=8, vectorization_mode="sync"))
    device = env.device

    memory = RandomMemory(memory_size=128, num_envs=env.num_envs, device=device)
    models = {
        "policy": Policy(env.observation_space, env.action_space, device),
        "value": Value(env.observation_space, env.action_space, device),
    }

    cfg = RPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 128  # memory_size
    cfg["learning_epochs"] = 10
    cfg["mini_batches"] = 16
    cfg["alpha"] = 0.5
    cfg["discount_factor"] = 0.9
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = LinearLR  # per learning epoch: 10 per update, 195 updates in 25k timesteps
    cfg["learning_rate_scheduler_kwargs"] = {"start_factor": 1.0, "end_factor": 0.05, "total_iters": 1950}
    cfg["grad_norm_clip"] = 0.5
    cfg["ratio_clip"] = 0.2
    cfg["value_loss_scale"] = 0.5
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space, "device": device}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
    cfg["experiment"]["write_interval"] = 0
    cfg["experiment"]["checkpoint_interval"] = 0

    agent = RPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device=device)

    trainer = SequentialTrainer(cfg={"timesteps": args.timesteps, "headless": True}, env=env, agents=agent)
    trainer.train()

    returns = trainer.run_episodes(8)
    print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
