"""Throughput of the ManualTrainer PPO loop on CartPole-v1 beside two floors measured in the same run.

Configuration (issue #2): 8 sync vector envs, rollouts 128, 4 epochs, 4 mini-batches, 64x64 tanh MLPs,
100k environment steps, 1 torch thread. Floors: (1) raw vector-env stepping with random actions,
(2) stepping plus one policy forward per step. ``--backend jax`` adds the JAX PPO on the same configuration
(XLA on one CPU thread), its compilation time reported apart, and the time of one update on each backend.

    python benchmarks/throughput.py [--steps 100000] [--repeats 3] [--backend torch|jax]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# one CPU thread for XLA too (read when JAX starts, so before anything imports it)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

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


@dataclass
class Run:
    """One PPO run: env steps/s with and without compilation, compilation time, update time, final returns."""

    steps_per_s: float
    steps_per_s_compiled: float  # compilation (first calls beyond their steady cost) excluded
    compile_s: float
    update_ms: float  # median wall time of one update (epochs x mini-batches), results ready
    mean_return: float


def _timed(calls: list[float], method: Callable[..., Any], ready: Callable[[], None]) -> Callable[..., Any]:
    """``method`` recording its wall time in ``calls`` (``ready`` waits for asynchronous results)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tick = time.perf_counter()
        result = method(*args, **kwargs)
        ready()
        calls.append(time.perf_counter() - tick)
        return result

    return wrapper


def measure_ppo(env: Any, agent: Any, steps: int, ready: Callable[[], None] = lambda: None) -> Run:
    """Train ``agent`` for ``steps`` env steps with the ManualTrainer, timing its ``act`` and ``_update`` calls.

    Compilation time = (first act - median act) + (first update - median update): what the first calls cost
    beyond a steady call (zero on torch up to first-call overheads).
    """
    vector_steps = steps // NUM_ENVS
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": vector_steps, "headless": True,
                                                        "disable_progressbar": True, "close_environment_at_exit": False})
    acts: list[float] = []
    updates: list[float] = []
    agent.act = _timed(acts, agent.act, lambda: None)
    agent._update = _timed(updates, agent._update, ready)
    start = time.perf_counter()
    for t in range(vector_steps):
        trainer.train(timestep=t)
    elapsed = time.perf_counter() - start
    compile_s = max(0.0, acts[0] - float(np.median(acts)) + (updates[0] - float(np.median(updates)) if updates else 0.0))
    returns = trainer.episode_returns("train")[-20:]
    env.close()
    update_ms = 1000 * float(np.median(updates)) if updates else float("nan")
    return Run(steps / elapsed, steps / (elapsed - compile_s), compile_s, update_ms, float(np.mean(returns)))


def steprl_ppo(steps: int) -> Run:
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
    return measure_ppo(env, agent, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=("torch", "jax"), default="torch",
                        help="jax: also run the JAX PPO (NumPy and JAX memories) beside the torch one")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows: dict[str, list[float]] = {"raw env stepping (random actions)": [], "env stepping + policy forward": []}
    runs: dict[str, list[Run]] = {"steprl ManualTrainer PPO (torch)": []}
    if args.backend == "jax":
        from throughput_jax import jax_ppo

        runs.update({"steprl ManualTrainer PPO (JAX, NumPy memory)": [], "steprl ManualTrainer PPO (JAX, JAX memory)": []})
    for _ in range(args.repeats):
        rows["raw env stepping (random actions)"].append(raw_stepping(args.steps))
        rows["env stepping + policy forward"].append(stepping_plus_forward(args.steps))
        runs["steprl ManualTrainer PPO (torch)"].append(steprl_ppo(args.steps))
        if args.backend == "jax":
            runs["steprl ManualTrainer PPO (JAX, NumPy memory)"].append(jax_ppo(args.steps, NUM_ENVS, "numpy"))
            runs["steprl ManualTrainer PPO (JAX, JAX memory)"].append(jax_ppo(args.steps, NUM_ENVS, "jax"))
    print(f"CartPole-v1, {NUM_ENVS} sync envs, {args.steps} env steps, best of {args.repeats}, 1 CPU thread")
    print("| loop | env steps/s | env steps/s, compilation excluded | compilation (s) | one update (ms) |")
    print("|---|---|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {max(values):,.0f} | | | |")
    for name, results in runs.items():
        best = max(results, key=lambda r: r.steps_per_s_compiled)
        print(f"| {name} | {best.steps_per_s:,.0f} | {best.steps_per_s_compiled:,.0f} | {best.compile_s:.1f} | "
              f"{min(r.update_ms for r in results):.1f} |")
    for name, results in runs.items():
        print(f"({name}: mean of the last 20 training episode returns {results[-1].mean_return:.1f})")


if __name__ == "__main__":
    main()
