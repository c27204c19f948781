"""The throughput benchmark's PPO configuration run through skrl 1.4.3's JAX backend, for comparison (by hand).

skrl is not a dependency of steprl; install it aside, e.g.::

    pip install --no-deps --target /tmp/skrl_pkg "skrl==1.4.3"
    PYTHONPATH=/tmp/skrl_pkg python benchmarks/peer_skrl_jax.py

Same configuration as ``throughput.py --backend jax`` (8 sync envs, rollouts 128, 4 epochs x 4 mini-batches, 64x64
tanh, XLA on one CPU thread, NumPy memory backend); the time includes skrl's compilation (it jits on first use).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import flax.linen as nn  # noqa: E402
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from skrl import config  # noqa: E402
from skrl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG  # noqa: E402
from skrl.envs.wrappers.jax import wrap_env  # noqa: E402
from skrl.memories.jax import RandomMemory  # noqa: E402
from skrl.models.jax import CategoricalMixin, DeterministicMixin, Model  # noqa: E402
from skrl.trainers.jax import SequentialTrainer  # noqa: E402

NUM_ENVS = 8
config.jax.backend = "numpy"


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(self.num_actions)(x), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(1)(x), {}


class SqueezeActions(gym.vector.VectorActionWrapper):
    """skrl 1.4.3 passes Discrete actions as (N, 1); gymnasium 1.x vector envs want (N,)."""

    def actions(self, actions):
        return np.asarray(actions).reshape(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    best = 0.0
    for _ in range(args.repeats):
        venv = SqueezeActions(gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync"))
        env = wrap_env(venv, verbose=False)
        models = {
            "policy": Policy(env.observation_space, env.action_space, env.device),
            "value": Value(env.observation_space, env.action_space, env.device),
        }
        for role, model in models.items():
            model.init_state_dict(role)
        cfg = PPO_DEFAULT_CONFIG.copy()
        cfg.update(rollouts=128, learning_epochs=4, mini_batches=4)
        cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
        agent = PPO(
            models=models,
            memory=RandomMemory(memory_size=128, num_envs=NUM_ENVS, device=env.device),
            cfg=cfg,
            observation_space=env.observation_space,
            action_space=env.action_space,
            device=env.device,
        )
        trainer = SequentialTrainer(
            env=env,
            agents=agent,
            cfg={"timesteps": args.steps // NUM_ENVS, "headless": True, "disable_progressbar": True},
        )
        start = time.perf_counter()
        trainer.train()
        best = max(best, args.steps / (time.perf_counter() - start))
        env.close()
    print(f"| skrl 1.4.3 JAX SequentialTrainer PPO (train, compilation included) | {best:,.0f} |")


if __name__ == "__main__":
    main()
