"""Data-parallel JAX PPO on CartPole-v1: environment steps per second with 1 and 2 processes, and what the
cross-process reduction costs per update.

    python benchmarks/jax_distributed_scaling.py [--processes 1 2] [--updates 30]

Each configuration launches this file as its worker through ``python -m steprl.utils.distributed.jax`` (one process
runs it directly). Every process trains the CartPole preset's PPO (8 sub-environments, rollouts 32, 20 epochs x 1
mini-batch, 64x64 tanh, KL-adaptive learning rate) for ``--updates`` updates; the clock runs from the end of the
first update (compilation excluded) to the end of the last. Throughput counts the environment steps of every
process. Per update: the update's wall time (collectives included) and, timed separately in the same processes,
the reduction alone: the update's 21 means over processes (20 gradient steps and the KL) of a gradient-sized tree
inside one ``compile_update`` call, minus the same call without them.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULT = "JAX_SCALING "
ROLLOUTS, EPOCHS, NUM_ENVS = 32, 20, 8


def _worker(updates: int) -> None:
    import flax.linen as nn
    import gymnasium as gym
    import jax
    import jax.numpy as jnp

    from steprl import config
    from steprl.agents.jax.parallel import compile_update, mean_over_processes
    from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
    from steprl.envs.wrappers.jax import wrap_env
    from steprl.memories.jax import RandomMemory
    from steprl.models.jax import CategoricalMixin, DeterministicMixin, Model
    from steprl.resources.schedulers.jax import KLAdaptiveLR
    from steprl.trainers.jax import SequentialTrainer
    from steprl.utils import set_seed

    def mlp(x: jax.Array, outputs: int) -> jax.Array:
        return nn.Dense(outputs)(nn.tanh(nn.Dense(64)(nn.tanh(nn.Dense(64)(x)))))

    class Policy(CategoricalMixin, Model):
        def __init__(self, observation_space: Any, action_space: Any, device: Any = None, **kwargs: Any) -> None:
            Model.__init__(self, observation_space, action_space, device, **kwargs)
            CategoricalMixin.__init__(self)

        @nn.compact
        def __call__(self, inputs: dict, role: str) -> tuple:
            return mlp(inputs["states"], self.num_actions), {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space: Any, action_space: Any, device: Any = None, **kwargs: Any) -> None:
            Model.__init__(self, observation_space, action_space, device, **kwargs)
            DeterministicMixin.__init__(self)

        @nn.compact
        def __call__(self, inputs: dict, role: str) -> tuple:
            return mlp(inputs["states"], 1), {}

    seed = set_seed(0)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync"), verbose=False)
    env.reset(seed=seed)
    models = {"policy": Policy(env.observation_space, env.action_space), "value": Value(env.observation_space, None)}
    for role, model in models.items():
        model.init_state_dict(role)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=ROLLOUTS, learning_epochs=EPOCHS, mini_batches=1, discount_factor=0.98, learning_rate=1e-3,
        learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 0.008},
        grad_norm_clip=0.5, experiment={"write_interval": 0, "checkpoint_interval": 0},
    )  # fmt: skip
    agent = PPO(models=models, memory=RandomMemory(ROLLOUTS, NUM_ENVS), cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space)  # fmt: skip
    ends: list[float] = []
    spans: list[float] = []
    update = agent._update_jit

    def timed_update(*args: Any) -> Any:
        start = time.perf_counter()
        out = jax.block_until_ready(update(*args))
        ends.append(time.perf_counter())
        spans.append(ends[-1] - start)
        return out

    agent._update_jit = timed_update
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": ROLLOUTS * updates, "headless": True,
                                                            "disable_progressbar": True})  # fmt: skip
    trainer.train()
    seconds = ends[-1] - ends[0]
    steps = (len(ends) - 1) * ROLLOUTS * NUM_ENVS * config.jax.world_size

    grads = (agent.policy.state_dict.params, agent.value.state_dict.params)

    def reductions(tree: Any, count: int) -> Any:
        def body(carry: Any, _: Any) -> tuple:
            reduced = mean_over_processes(carry) if count else carry
            return jax.tree_util.tree_map(lambda x: x * 1.0001, reduced), None

        return jax.lax.scan(body, tree, None, length=EPOCHS + 1)[0]

    timings = {}
    for count in (0, 1):
        call = compile_update(lambda tree, count=count: reductions(tree, count))
        jax.block_until_ready(call(grads))
        start = time.perf_counter()
        for _ in range(20):
            jax.block_until_ready(call(grads))
        timings[count] = (time.perf_counter() - start) / 20
    size = sum(int(jnp.size(x)) for x in jax.tree_util.tree_leaves(grads))
    result = {
        "rank": config.jax.rank, "steps_per_s": steps / seconds, "update_ms": 1e3 * sum(spans[1:]) / len(spans[1:]),
        "reduction_ms": 1e3 * (timings[1] - timings[0]), "call_ms": 1e3 * timings[0], "floats": size,
    }  # fmt: skip
    print(RESULT + json.dumps(result), flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.updates)
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env["JAX_PLATFORMS"] = "cpu"
    for processes in args.processes:
        with tempfile.TemporaryDirectory() as directory:
            command = [sys.executable, "-m", "steprl.utils.distributed.jax", "--nproc_per_node", str(processes),
                       "--coordinator_address", f"127.0.0.1:{_free_port()}", str(Path(__file__).resolve()),
                       "--worker", "--updates", str(args.updates)]  # fmt: skip
            done = subprocess.run(command, env=env, cwd=directory, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            sys.exit(f"{processes} process(es) failed:\n{done.stderr[-3000:]}")
        rows = [json.loads(line[len(RESULT) :]) for line in done.stdout.splitlines() if line.startswith(RESULT)]
        mean = {key: sum(r[key] for r in rows) / len(rows) for key in ("update_ms", "reduction_ms", "call_ms")}
        print(
            f"{processes} process(es): {rows[0]['steps_per_s']:.0f} env steps/s (all processes), update "
            f"{mean['update_ms']:.1f} ms, reduction {mean['reduction_ms']:.2f} ms per update "
            f"({EPOCHS + 1} means of {rows[0]['floats']} floats; the compiled call alone {mean['call_ms']:.2f} ms)"
        )


if __name__ == "__main__":
    main()
