"""Training throughput of MAPPO on simple_spread_v3, PyTorch against JAX (run by hand).

Both backends train the preset's MAPPO (8 copies, 64×64 tanh, one policy and one value shared by the three agents
with agent ids, rollouts 100, 5 epochs × 2 minibatches) on one CPU thread; after a warm-up of ``--warmup`` vector
steps (JAX compiles its step and update there) the next ``--steps`` vector steps are timed. ``--backend both`` runs
the two measurements at the same time in two processes, so that they share the machine's load alike. A line of
raw environment stepping (random actions, no agent) is measured too.

    python benchmarks/ma_jax_throughput.py [--backend both] [--steps 1000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

COPIES = 8
NETWORK = {"hidden": [64, 64], "activation": "tanh", "share_parameters": True}
AGENT = {
    "rollouts": 100, "learning_epochs": 5, "mini_batches": 2, "learning_rate": 7e-4, "grad_norm_clip": 10.0,
    "entropy_loss_scale": 0.01, "append_agent_id": True, "experiment": {"write_interval": 0, "checkpoint_interval": 0},
}  # fmt: skip
QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def _envs() -> list:
    from mpe2 import simple_spread_v3

    return [simple_spread_v3.parallel_env(N=3, max_cycles=25, continuous_actions=False) for _ in range(COPIES)]


def measure(backend: str, steps: int, warmup: int) -> float:
    """Environment steps per second of MAPPO training on ``backend`` (after ``warmup`` vector steps)."""
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    from steprl.utils import set_seed

    module = f"steprl.multi_agents.{backend}"
    wrap_env = __import__(f"steprl.envs.wrappers.{backend}", fromlist=["wrap_env"]).wrap_env
    memories = __import__(f"steprl.memories.{backend}", fromlist=["RandomMemory"])
    trainers = __import__(f"steprl.trainers.{backend}", fromlist=["SequentialTrainer"])
    mappo = __import__(f"{module}.mappo", fromlist=["MAPPO"])
    networks = __import__(f"{module}.networks", fromlist=["build_multi_agent_models"])
    set_seed(0)
    env = wrap_env(_envs(), verbose=False)
    env.reset(seed=0)
    uids = env.possible_agents
    network = {k: v for k, v in NETWORK.items() if k != "share_parameters"}
    models = networks.build_multi_agent_models(
        uids, env.observation_spaces, env.action_spaces, env.device, network, env.state_spaces, share_parameters=True
    )
    cfg = mappo.MAPPO_DEFAULT_CONFIG.copy()
    cfg.update(AGENT)
    mems = {uid: memories.RandomMemory(memory_size=100, num_envs=env.num_envs) for uid in uids}
    agent = mappo.MAPPO(
        uids, models, mems, env.observation_spaces, env.action_spaces, env.device, cfg, env.state_spaces
    )
    trainers.SequentialTrainer(env=env, agents=agent, cfg={"timesteps": warmup, **QUIET}).train()
    trainer = trainers.SequentialTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    start = time.perf_counter()
    trainer.train()
    return steps * COPIES / (time.perf_counter() - start)


def raw(steps: int) -> float:
    """Environment steps per second of the 8 copies stepped with random actions, without steprl."""
    import numpy as np

    envs = _envs()
    rng = np.random.default_rng(0)
    for i, env in enumerate(envs):
        env.reset(seed=i)
    start = time.perf_counter()
    for _ in range(steps):
        for env in envs:
            if not env.agents:
                env.reset()
            env.step({uid: int(rng.integers(5)) for uid in env.agents})
    return steps * COPIES / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["torch", "jax", "raw", "both"], default="both")
    parser.add_argument("--steps", type=int, default=1000, help="timed vector steps")
    parser.add_argument("--warmup", type=int, default=200, help="vector steps before timing (JAX compiles there)")
    args = parser.parse_args()
    if args.backend != "both":
        rate = raw(args.steps) if args.backend == "raw" else measure(args.backend, args.steps, args.warmup)
        print(f"{args.backend}: {rate:,.0f} environment steps/s")
        return
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    command = [sys.executable, __file__, "--steps", str(args.steps), "--warmup", str(args.warmup), "--backend"]
    runs = [subprocess.Popen([*command, name]) for name in ("torch", "jax", "raw")]
    for run in runs:
        run.wait()


if __name__ == "__main__":
    main()
