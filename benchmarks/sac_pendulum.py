"""SAC on Pendulum-v1: steprl (ManualTrainer) beside a minimal hand-written loop (benchmarks/sac_handwritten.py),
and steprl's JAX SAC (``--backend jax``).

Configuration: 1 environment, 20k steps, batch 256, 256x256 ReLU MLPs, uniform random actions and no updates for
the first 1000 steps, lr 1e-3, gamma 0.99, tau 0.005, automatic entropy tuning, 1 torch thread (JAX: XLA on one
thread). Prints the training steps/s and the final deterministic evaluation return (10 episodes) of each run; the
loops run alternately per seed so that a varying machine load affects them alike. The JAX run compiles its per-step
and update functions before the timed loop and reports that compile time apart.

    python benchmarks/sac_pendulum.py [--seeds 0 1] [--timesteps 20000] [--only steprl|handwritten|jax]
    python benchmarks/sac_pendulum.py --backend jax      # steprl torch beside steprl JAX
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

# JAX on one CPU thread, like torch.set_num_threads(1) (read when jax is first imported)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import gymnasium as gym
import numpy as np
import torch

from steprl import config
from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.sac import build_sac_models
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sac_handwritten  # noqa: E402

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def run_steprl(
    seed: int = 0,
    timesteps: int = 20_000,
    hidden: tuple[int, ...] = (256, 256),
    batch_size: int = 256,
    learning_starts: int = 1000,
    write_interval: int = 0,
) -> dict[str, float]:
    """Train through ``ManualTrainer.train()`` step by step, then evaluate deterministically on 10 episodes."""
    set_seed(seed)
    env = wrap_env(gym.make("Pendulum-v1"), verbose=False)
    eval_env = wrap_env(gym.make("Pendulum-v1"), verbose=False)
    env.reset(seed=seed)
    eval_env.reset(seed=seed + 1000)
    models = build_sac_models(env.observation_space, env.action_space, env.device, {"hidden": list(hidden)})
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(
        batch_size=batch_size,
        actor_learning_rate=1e-3,
        critic_learning_rate=1e-3,
        entropy_learning_rate=1e-3,
        discount_factor=0.99,
        polyak=0.005,
        random_timesteps=learning_starts,
        learning_starts=learning_starts,
    )
    cfg["experiment"].update(write_interval=write_interval, checkpoint_interval=0, directory="/tmp/steprl_sac_bench")
    memory = RandomMemory(memory_size=timesteps, num_envs=1, device=env.device)
    agent = SAC(models, memory, env.observation_space, env.action_space, env.device, cfg)
    trainer = ManualTrainer(env=env, agents=agent, cfg={**QUIET, "timesteps": timesteps})
    start = time.perf_counter()
    for t in range(timesteps):
        trainer.train(timestep=t)
    train_s = time.perf_counter() - start
    evaluator = ManualTrainer(env=eval_env, agents=agent, cfg={**QUIET, "timesteps": timesteps})
    returns = evaluator.run_episodes(10)
    env.close()
    eval_env.close()
    if agent.writer is not None:
        agent.writer.close()
    return {"steps_per_s": timesteps / train_s, "train_s": train_s, "eval_return": float(np.mean(returns))}


def _compile_jax(agent: Any, states: np.ndarray) -> float:
    """Compile the JAX agent's per-step and update functions (their results are discarded); seconds taken."""
    import jax

    start = time.perf_counter()
    params = {role: agent._model(role).state_dict.params for role in agent._act_roles()}
    for training in (True, False):
        jax.block_until_ready(agent._act_jit[training](params, None, agent._key, 0, states, None))
    arrays = tuple(agent.memory.tensors[name] for name in ("states", "actions", "rewards", "next_states", "terminated"))
    jax.block_until_ready(agent._update_jit(agent._train_state(), agent._key, arrays, np.int32(1), np.int32(1)))
    return time.perf_counter() - start


def run_jax(
    seed: int = 0,
    timesteps: int = 20_000,
    hidden: tuple[int, ...] = (256, 256),
    batch_size: int = 256,
    learning_starts: int = 1000,
    write_interval: int = 0,
) -> dict[str, float]:
    """steprl's JAX SAC with :func:`run_steprl`'s configuration; compile time measured apart."""
    from steprl.agents.jax.sac import SAC as JaxSAC
    from steprl.agents.jax.sac import SAC_DEFAULT_CONFIG as JAX_SAC_DEFAULT_CONFIG
    from steprl.envs.wrappers.jax import wrap_env as jax_wrap_env
    from steprl.memories.jax import RandomMemory as JaxRandomMemory
    from steprl.models.jax.networks.sac import build_sac_models as build_jax_sac_models
    from steprl.trainers.jax import ManualTrainer as JaxManualTrainer

    set_seed(seed)
    env = jax_wrap_env(gym.make("Pendulum-v1"), verbose=False)
    eval_env = jax_wrap_env(gym.make("Pendulum-v1"), verbose=False)
    env.reset(seed=seed)
    eval_env.reset(seed=seed + 1000)
    models = build_jax_sac_models(env.observation_space, env.action_space, None, {"hidden": list(hidden)})
    cfg = JAX_SAC_DEFAULT_CONFIG.copy()
    cfg.update(
        batch_size=batch_size,
        actor_learning_rate=1e-3,
        critic_learning_rate=1e-3,
        entropy_learning_rate=1e-3,
        discount_factor=0.99,
        polyak=0.005,
        random_timesteps=learning_starts,
        learning_starts=learning_starts,
    )
    cfg["experiment"].update(write_interval=write_interval, checkpoint_interval=0, directory="/tmp/steprl_sac_bench")
    memory = JaxRandomMemory(memory_size=timesteps, num_envs=1)
    agent = JaxSAC(models, memory, env.observation_space, env.action_space, None, cfg)
    trainer = JaxManualTrainer(env=env, agents=agent, cfg={**QUIET, "timesteps": timesteps})
    compile_s = _compile_jax(agent, np.zeros((1, *env.observation_space.shape), np.float32))
    start = time.perf_counter()
    for t in range(timesteps):
        trainer.train(timestep=t)
    train_s = time.perf_counter() - start
    evaluator = JaxManualTrainer(env=eval_env, agents=agent, cfg={**QUIET, "timesteps": timesteps})
    returns = evaluator.run_episodes(10)
    env.close()
    eval_env.close()
    if agent.writer is not None:
        agent.writer.close()
    return {
        "steps_per_s": timesteps / train_s, "train_s": train_s, "compile_s": compile_s,
        "eval_return": float(np.mean(returns)),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--only", choices=["steprl", "handwritten", "jax"], default=None)
    parser.add_argument("--backend", choices=["torch", "jax"], default="torch",
                        help="jax: steprl torch beside steprl JAX (instead of beside the hand-written loop)")
    parser.add_argument("--write-interval", type=int, default=0, help="steprl TensorBoard write interval (0: off)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="steprl device (the hand-written loop runs on the CPU)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config.torch.device = args.device  # wrappers, models and memory follow the default device
    hidden = tuple(args.hidden)
    print(
        f"SAC Pendulum-v1, {args.timesteps} steps, hidden {hidden}, {args.threads} torch thread(s), load {os.getloadavg()}"
    )
    results: dict[str, list[dict[str, float]]] = {"steprl": [], "handwritten": [], "jax": []}
    names = ("steprl", "jax") if args.backend == "jax" else ("steprl", "handwritten")
    for seed in args.seeds:
        for name in names:
            if args.only not in (None, name):
                continue
            if name == "steprl":
                result = run_steprl(seed, args.timesteps, hidden, write_interval=args.write_interval)
            elif name == "jax":
                result = run_jax(seed, args.timesteps, hidden, write_interval=args.write_interval)
            else:
                result = sac_handwritten.run(seed, args.timesteps, hidden)
            results[name].append(result)
            compiled = f", compile {result['compile_s']:.1f} s apart" if "compile_s" in result else ""
            print(
                f"{name:>11} seed {seed}: {result['steps_per_s']:7.1f} steps/s ({result['train_s']:6.1f} s{compiled}), "
                f"evaluation return {result['eval_return']:7.1f}  (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
    for name, runs in results.items():
        if runs:
            speed = np.mean([r["steps_per_s"] for r in runs])
            ret = np.mean([r["eval_return"] for r in runs])
            print(f"{name:>11} mean: {speed:7.1f} steps/s, evaluation return {ret:7.1f} over {len(runs)} seed(s)")
    if results["steprl"] and results["jax"]:
        ratio = np.mean([r["steps_per_s"] for r in results["jax"]]) / np.mean([r["steps_per_s"] for r in results["steprl"]])
        print(f"steprl JAX / steprl torch speed: {ratio:.3f}")
    if results["steprl"] and results["handwritten"]:
        ratio = np.mean([r["steps_per_s"] for r in results["steprl"]]) / np.mean(
            [r["steps_per_s"] for r in results["handwritten"]]
        )
        print(f"steprl / hand-written speed: {ratio:.3f}")


if __name__ == "__main__":
    main()
