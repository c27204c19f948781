"""The throughput benchmark's PPO configuration run through skrl 1.4.3, for comparison (run by hand).

skrl is not a dependency of steprl; install it aside, e.g.::

    pip install --no-deps --target /tmp/skrl_pkg "skrl==1.4.3"
    PYTHONPATH=/tmp/skrl_pkg python benchmarks/peer_skrl.py
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from skrl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import CategoricalMixin, DeterministicMixin, Model
from skrl.trainers.torch import SequentialTrainer
from throughput import NUM_ENVS, mlp  # same networks and env count as the steprl benchmark


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


class SqueezeActions(gym.vector.VectorActionWrapper):
    """skrl 1.4.3 passes Discrete actions as (N, 1); gymnasium 1.x vector envs want (N,)."""

    def actions(self, actions):
        return np.asarray(actions).reshape(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    best = 0.0
    for _ in range(args.repeats):
        env = wrap_env(SqueezeActions(gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync")), verbose=False)
        models = {"policy": Policy(env.observation_space, env.action_space, "cpu"),
                  "value": Value(env.observation_space, env.action_space, "cpu")}
        cfg = PPO_DEFAULT_CONFIG.copy()
        cfg.update(rollouts=128, learning_epochs=4, mini_batches=4)
        cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
        agent = PPO(models=models, memory=RandomMemory(memory_size=128, num_envs=NUM_ENVS, device="cpu"), cfg=cfg,
                    observation_space=env.observation_space, action_space=env.action_space, device="cpu")
        trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.steps // NUM_ENVS, "headless": True,
                                                                "disable_progressbar": True})
        start = time.perf_counter()
        trainer.train()
        best = max(best, args.steps / (time.perf_counter() - start))
        env.close()
    print(f"| skrl 1.4.3 SequentialTrainer PPO (train) | {best:,.0f} |")


if __name__ == "__main__":
    main()
