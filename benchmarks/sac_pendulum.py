"""SAC on Pendulum-v1: steprl (ManualTrainer) beside its peers in the same run — a minimal hand-written loop
(benchmarks/sac_handwritten.py), Stable-Baselines3 and skrl when importable (benchmarks/sac_peers.py; a peer that is
not is skipped with the reason) — and steprl's JAX SAC (``--backend jax``).

Configuration: 1 environment, 20k steps, batch 256, 256x256 ReLU MLPs, uniform random actions and no updates for
the first 1000 steps, lr 1e-3, gamma 0.99, tau 0.005, automatic entropy tuning, 1 torch thread (JAX: XLA on one
thread). Prints the training steps/s and the final deterministic evaluation return (10 episodes) of each run; the
loops run alternately per seed so that a varying machine load affects them alike. The JAX run compiles its per-step
and update functions before the timed loop and reports that compile time apart.

    python benchmarks/sac_pendulum.py [--seeds 0 1] [--timesteps 20000] [--only steprl|handwritten|sb3|skrl|jax]
    python benchmarks/sac_pendulum.py --peers-path /work/peers   # peers installed aside (pip install --target)
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
import sac_peers  # noqa: E402

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


def _runners(args: argparse.Namespace) -> dict[str, Any]:
    """The loops of this run by name (steprl first), peers that cannot be imported skipped with the reason."""
    hidden = tuple(args.hidden)
    runners: dict[str, Any] = {"steprl": lambda seed: run_steprl(seed, args.timesteps, hidden, write_interval=args.write_interval)}
    if args.backend == "jax":
        runners["jax"] = lambda seed: run_jax(seed, args.timesteps, hidden, write_interval=args.write_interval)
        return runners
    runners["handwritten"] = lambda seed: sac_handwritten.run(seed, args.timesteps, hidden)
    for name in args.peers:
        try:
            runner = sac_peers.peer_runner(name)
        except ImportError as error:
            print(f"skipping {sac_peers.PEERS[name]}: {error} (install it aside and pass --peers-path)")
            continue
        runners[name] = lambda seed, runner=runner: runner(seed, args.timesteps, hidden)
    return runners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--only", choices=["steprl", "handwritten", *sac_peers.PEERS, "jax"], default=None)
    parser.add_argument("--backend", choices=["torch", "jax"], default="torch",
                        help="jax: steprl torch beside steprl JAX (instead of beside the peers)")
    parser.add_argument("--peers", choices=tuple(sac_peers.PEERS), nargs="*", default=list(sac_peers.PEERS),
                        help="library peers to run beside the hand-written loop when importable")
    parser.add_argument("--peers-path", default="", help="a folder appended to sys.path (peers installed aside)")
    parser.add_argument("--write-interval", type=int, default=0, help="steprl TensorBoard write interval (0: off)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="steprl device (the peers run on the CPU)")
    args = parser.parse_args()
    if args.peers_path:
        if not os.path.isdir(args.peers_path):
            parser.error(f"--peers-path {args.peers_path!r} is not a folder: give the --target folder of the pip install")
        sys.path.append(args.peers_path)
    torch.set_num_threads(args.threads)
    config.torch.device = args.device  # wrappers, models and memory follow the default device
    print(
        f"SAC Pendulum-v1, {args.timesteps} steps, hidden {tuple(args.hidden)}, {args.threads} torch thread(s), "
        f"load {os.getloadavg()}"
    )
    runners = {name: run for name, run in _runners(args).items() if args.only in (None, name)}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in runners}
    for seed in args.seeds:  # interleaved: every loop once per seed, so that the machine's load affects them alike
        for name, run in runners.items():
            result = run(seed)
            results[name].append(result)
            compiled = f", compile {result['compile_s']:.1f} s apart" if "compile_s" in result else ""
            print(
                f"{name:>11} seed {seed}: {result['steps_per_s']:7.1f} steps/s ({result['train_s']:6.1f} s{compiled}), "
                f"evaluation return {result['eval_return']:7.1f}  (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
    speeds = {name: float(np.mean([r["steps_per_s"] for r in runs])) for name, runs in results.items() if runs}
    for name, runs in results.items():
        ret = np.mean([r["eval_return"] for r in runs])
        print(f"{name:>11} mean: {speeds[name]:7.1f} steps/s, evaluation return {ret:7.1f} over {len(runs)} seed(s)")
    if "steprl" in speeds and "jax" in speeds:
        print(f"steprl JAX / steprl torch speed: {speeds['jax'] / speeds['steprl']:.3f}")
    peers = {name: speed for name, speed in speeds.items() if name not in ("steprl", "jax")}
    if "steprl" in speeds and peers:
        fastest = max(peers, key=peers.__getitem__)
        print(f"steprl / fastest peer ({fastest}) speed: {speeds['steprl'] / peers[fastest]:.3f}")


if __name__ == "__main__":
    main()
