"""Throughput of the ManualTrainer PPO loop on CartPole-v1 beside two floors measured in the same run.

Configuration (issue #2): 8 sync vector envs, rollouts 128, 4 epochs, 4 mini-batches, 64x64 tanh MLPs,
100k environment steps, 1 torch thread. Floors: (1) raw vector-env stepping with random actions,
(2) stepping plus one policy forward per step.

    python benchmarks/throughput.py [--steps 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
from steprl.trainers.torch import ManualTrainer

NUM_ENVS = 8


def mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, outputs))


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)
        self.net = mlp(self.num_observations, self.num_actions)

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.net = mlp(self.num_observations, 1)

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def make_env() -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync")


def raw_stepping(steps: int) -> float:
    env = make_env()
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(256)]
    start = time.perf_counter()
    for i in range(steps // NUM_ENVS):
        env.step(actions[i % 256])
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def stepping_plus_forward(steps: int) -> float:
    env = make_env()
    obs, _ = env.reset(seed=0)
    net = mlp(4, 2)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps // NUM_ENVS):
            logits = net(torch.from_numpy(obs).float())
            actions = torch.distributions.Categorical(logits=logits, validate_args=False).sample()
            obs, *_ = env.step(actions.numpy())
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def steprl_ppo(steps: int) -> tuple[float, float]:
    env = wrap_env(make_env(), verbose=False)
    env.reset(force=True, seed=0)
    models = {
        "policy": Policy(env.observation_space, env.action_space, "cpu"),
        "value": Value(env.observation_space, env.action_space, "cpu"),
    }
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=128, learning_epochs=4, mini_batches=4, experiment={"write_interval": 0, "checkpoint_interval": 0})
    agent = PPO(models=models, memory=RandomMemory(memory_size=128, num_envs=NUM_ENVS, device="cpu"), cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space, device="cpu")
    vector_steps = steps // NUM_ENVS
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": vector_steps, "headless": True,
                                                        "disable_progressbar": True, "close_environment_at_exit": False})
    start = time.perf_counter()
    for t in range(vector_steps):
        trainer.train(timestep=t)
    elapsed = time.perf_counter() - start
    returns = trainer.episode_returns("train")[-20:]
    env.close()
    return steps / elapsed, float(np.mean(returns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows: dict[str, list[float]] = {"raw env stepping (random actions)": [], "env stepping + policy forward": [],
                                    "steprl ManualTrainer PPO (train)": []}
    last_return = float("nan")
    for _ in range(args.repeats):
        rows["raw env stepping (random actions)"].append(raw_stepping(args.steps))
        rows["env stepping + policy forward"].append(stepping_plus_forward(args.steps))
        sps, last_return = steprl_ppo(args.steps)
        rows["steprl ManualTrainer PPO (train)"].append(sps)
    print(f"CartPole-v1, {NUM_ENVS} sync envs, {args.steps} env steps, best of {args.repeats}, 1 torch thread")
    print("| loop | env steps/s |")
    print("|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {max(values):,.0f} |")
    print(f"(mean of the last 20 training episode returns of the PPO run: {last_return:.1f})")


if __name__ == "__main__":
    main()
