"""DQN on CartPole-v1: steprl's torch agent beside its JAX agent, in the same process, with the command's preset.

Both agents are built as ``steprl train --agent dqn`` builds them (the CartPole-v1 preset's agent table, memory size
and network; ``--hidden`` replaces the preset's hidden layers), on one CPU thread each (torch.set_num_threads(1);
XLA without its Eigen thread pool). Each run trains ``--timesteps`` steps through ``ManualTrainer.train()``; the
first ``--warmup`` steps (past ``learning_starts``, so that JAX has compiled its per-step call and its update) are
timed apart as "warm-up" and left out of the steps/s. Runs alternate torch, JAX per seed, so that a varying machine
load affects both alike. Prints one JSON line per run and the JAX/torch ratio of the median steps/s.

    python benchmarks/dqn_cartpole.py [--seeds 0] [--timesteps 6000] [--warmup 1500] [--hidden 64 64]
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gymnasium as gym  # noqa: E402
import torch  # noqa: E402

from steprl import config  # noqa: E402
from steprl.cli.presets import load_preset, resolve_agent_cfg  # noqa: E402
from steprl.cli.registry import agents_for, import_path  # noqa: E402
from steprl.cli.train import strict_config  # noqa: E402
from steprl.utils import set_seed  # noqa: E402

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def run(backend: str, seed: int, timesteps: int, warmup: int, hidden: list[int] | None) -> dict[str, Any]:
    """Train one agent on ``backend``; ``{"backend", "seed", "warmup_s", "steps_per_s", "hidden"}``."""
    set_seed(seed)
    if backend == "jax":
        config.jax.key = seed
    preset = load_preset("CartPole-v1", "dqn")
    network = dict(preset.network)
    if hidden:
        network["hidden"] = hidden
    wrap_env = import_path(f"steprl.envs.wrappers.{backend}:wrap_env")
    memory_cls = import_path(f"steprl.memories.{backend}:RandomMemory")
    trainer_cls = import_path(f"steprl.trainers.{backend}:ManualTrainer")
    env = wrap_env(gym.make("CartPole-v1"), verbose=False)
    env.reset(seed=seed)
    entry = agents_for(backend)["dqn"]
    with strict_config():
        cfg = resolve_agent_cfg(preset, env.observation_space, backend)
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0, "directory": "/tmp/steprl_dqn_bench"}
    models = entry.build_models(env.observation_space, env.action_space, env.device, network, 1)
    memory = memory_cls(memory_size=preset.memory_size, num_envs=1, device=env.device)
    agent = entry.agent_class()(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                                action_space=env.action_space, device=env.device)  # fmt: skip
    trainer = trainer_cls(env=env, agents=agent, cfg={**QUIET, "timesteps": timesteps})
    start = time.perf_counter()
    for t in range(warmup):
        trainer.train(timestep=t)
    middle = time.perf_counter()
    for t in range(warmup, timesteps):
        trainer.train(timestep=t)
    end = time.perf_counter()
    env.close()
    return {
        "backend": backend,
        "seed": seed,
        "hidden": network.get("hidden"),
        "warmup_s": round(middle - start, 2),
        "steps_per_s": round((timesteps - warmup) / (end - middle), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--timesteps", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=1500, help="steps timed apart (past learning_starts = 1000)")
    parser.add_argument("--hidden", type=int, nargs="+", default=None, help="hidden layers (default: the preset's)")
    args = parser.parse_args()
    if not 0 < args.warmup < args.timesteps:
        parser.error(f"--warmup must be in (0, --timesteps), got {args.warmup} with --timesteps {args.timesteps}")
    torch.set_num_threads(1)
    rates: dict[str, list[float]] = {"torch": [], "jax": []}
    for seed in args.seeds:
        for backend in ("torch", "jax"):
            result = run(backend, seed, args.timesteps, args.warmup, args.hidden)
            rates[backend].append(result["steps_per_s"])
            print(json.dumps(result), flush=True)
    ratio = statistics.median(rates["jax"]) / statistics.median(rates["torch"])
    print(json.dumps({"jax_over_torch": round(ratio, 2)}))


if __name__ == "__main__":
    main()
