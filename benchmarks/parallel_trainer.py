"""Steps/s of the ParallelTrainer beside the SequentialTrainer: 2 PPO agents on scopes of one vector environment.

Configuration: Pendulum-v1, 16 sync sub-environments (8 per agent), PPO with 256x256 tanh MLPs (policy and value),
rollouts 64, 8 epochs, 8 mini-batches, 1 torch thread per agent (the ParallelTrainer's workers split the parent's
threads: run with ``--threads 2`` on 2 cores), ``--timesteps`` vector steps per run after ``--warmup`` steps
that are not timed (the ParallelTrainer's warm-up includes starting its worker processes, reported apart).
Both trainers run alternately ``--repeats`` times; the median is reported.

    python benchmarks/parallel_trainer.py [--timesteps 1024] [--repeats 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import gymnasium as gym
import torch

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.mlp import build_ppo_models
from steprl.trainers.torch import ParallelTrainer, SequentialTrainer
from steprl.utils import set_seed

NUM_ENVS = 16
QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def build_agent(env: object, scope: int) -> PPO:
    """PPO for ``scope`` sub-environments with the module docstring's configuration."""
    models = build_ppo_models(
        env.observation_space, env.action_space, env.device, {"hidden": [256, 256], "activation": "tanh"}
    )
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=64, learning_epochs=8, mini_batches=8, learning_rate=3e-4)
    cfg["experiment"].update(write_interval=0, checkpoint_interval=0, directory="/tmp/steprl_parallel_bench")
    memory = RandomMemory(memory_size=64, num_envs=scope, device=env.device)
    return PPO(models, memory, env.observation_space, env.action_space, env.device, cfg)


def run(trainer_class: type, timesteps: int, warmup: int, seed: int) -> tuple[float, float]:
    """``(steps/s over the timed steps, seconds of the warm-up)``; steps are vector steps x sub-environments."""
    set_seed(seed)
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=NUM_ENVS, vectorization_mode="sync"), verbose=False)
    agents = [build_agent(env, NUM_ENVS // 2) for _ in range(2)]
    total = warmup + timesteps
    trainer = trainer_class(env=env, agents=agents, agents_scope=[NUM_ENVS // 2] * 2, cfg={**QUIET, "timesteps": total})
    start = time.perf_counter()
    for t in range(warmup):
        trainer._run_step("train", t, total)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    for t in range(warmup, total):
        trainer._run_step("train", t, total)
    elapsed = time.perf_counter() - start
    if isinstance(trainer, ParallelTrainer):
        trainer.close()
    env.close()
    return timesteps * NUM_ENVS / elapsed, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=1024, help="timed vector steps per run")
    parser.add_argument("--warmup", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the parent (split among workers)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"2 PPO agents, Pendulum-v1 x {NUM_ENVS}, {args.timesteps} vector steps timed, {args.threads} thread(s), "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()}",
        flush=True,
    )
    speeds: dict[str, list[float]] = {"SequentialTrainer": [], "ParallelTrainer": []}
    for repeat in range(args.repeats):
        for trainer_class in (SequentialTrainer, ParallelTrainer):
            speed, warm = run(trainer_class, args.timesteps, args.warmup, args.seed)
            speeds[trainer_class.__name__].append(speed)
            print(
                f"repeat {repeat} {trainer_class.__name__:>17}: {speed:8.1f} env steps/s "
                f"(warm-up {warm:5.1f} s, load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
    sequential = statistics.median(speeds["SequentialTrainer"])
    parallel = statistics.median(speeds["ParallelTrainer"])
    print(f"median: SequentialTrainer {sequential:.1f}, ParallelTrainer {parallel:.1f} env steps/s "
          f"(x{parallel / sequential:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
