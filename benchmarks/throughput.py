"""Throughput of the ManualTrainer PPO loop on CartPole-v1 beside two floors and the peers, measured in the same run.

Configuration: 1024 samples per update (rollouts 128 at 8 envs; rollouts = 1024 / num_envs in general), 4 epochs
x 4 mini-batches, 64x64 tanh MLPs, lr 1e-3, gradient clipping 0.5, 1 torch thread. Floors: (1) raw vector-env
stepping with random actions, (2) stepping plus one policy forward per step. Peers: a CleanRL-style hand-written
loop (``peer_handwritten_ppo.py``), Stable-Baselines3 and skrl when importable (``peer_libraries.py``; a peer that
is missing is skipped with the reason). For each seed every loop runs once, one after the other (interleaved), in
this process; the table gives medians over the seeds, each learning loop's greedy evaluation return (3 episodes,
per seed), steprl's speed over the fastest peer's and its share of the stepping+forward floor, and the load average.
``--num-envs 1 8 32 128`` and ``--modes sync async`` give the scaling table. ``--backend jax`` adds the JAX PPO
(XLA on one CPU thread) at 8 envs, its compilation time reported apart.

    python benchmarks/throughput.py [--steps 30000] [--seeds 0 1 2] [--num-envs 8] [--modes sync]
                                    [--peers handwritten sb3 skrl] [--peers-path /work/peers] [--backend torch|jax]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
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
from peer_handwritten_ppo import Hyper, greedy_return

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
from steprl.trainers.torch import ManualTrainer

NUM_ENVS = 8
SAMPLES_PER_UPDATE = 1024


def hyper_for(num_envs: int) -> Hyper:
    """The benchmark's settings at ``num_envs`` environments (same samples per update at every size)."""
    return Hyper(rollouts=max(1, SAMPLES_PER_UPDATE // num_envs))


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


def make_env(num_envs: int = NUM_ENVS, mode: str = "sync") -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode=mode)


def raw_stepping(steps: int, num_envs: int, mode: str, seed: int) -> float:
    env = make_env(num_envs, mode)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(256)]
    start = time.perf_counter()
    for i in range(steps // num_envs):
        env.step(actions[i % 256])
    elapsed = time.perf_counter() - start
    env.close()
    return steps // num_envs * num_envs / elapsed


def stepping_plus_forward(steps: int, num_envs: int, mode: str, seed: int) -> float:
    env = make_env(num_envs, mode)
    obs, _ = env.reset(seed=seed)
    net = mlp(4, 2)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps // num_envs):
            logits = net(torch.from_numpy(obs).float())
            actions = torch.distributions.Categorical(logits=logits, validate_args=False).sample()
            obs, *_ = env.step(actions.numpy())
    elapsed = time.perf_counter() - start
    env.close()
    return steps // num_envs * num_envs / elapsed


@dataclass
class Run:
    """One PPO run: env steps/s with and without compilation, compilation time, update time, final returns."""

    steps_per_s: float
    steps_per_s_compiled: float  # compilation (first calls beyond their steady cost) excluded
    compile_s: float
    update_ms: float  # median wall time of one update (epochs x mini-batches), results ready
    mean_return: float  # mean of the last 20 training episodes
    eval_return: float = float("nan")  # greedy policy, 3 evaluation episodes


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
    vector_steps = steps // env.num_envs
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": vector_steps, "headless": True,
                                                        "disable_progressbar": True, "close_environment_at_exit": False})
    acts: list[float] = []
    updates: list[float] = []
    act, update = agent.act, agent._update
    agent.act = _timed(acts, act, lambda: None)
    agent._update = _timed(updates, update, ready)
    start = time.perf_counter()
    for t in range(vector_steps):
        trainer.train(timestep=t)
    elapsed = time.perf_counter() - start
    agent.act, agent._update = act, update
    compile_s = max(0.0, acts[0] - float(np.median(acts)) + (updates[0] - float(np.median(updates)) if updates else 0.0))
    returns = trainer.episode_returns("train")[-20:]
    env.close()
    update_ms = 1000 * float(np.median(updates)) if updates else float("nan")
    done = vector_steps * env.num_envs
    return Run(done / elapsed, done / (elapsed - compile_s), compile_s, update_ms, float(np.mean(returns)))


def build_steprl_ppo(num_envs: int = NUM_ENVS, mode: str = "sync", seed: int = 0,
                     compile_update: bool = False) -> tuple[Any, PPO]:
    """The wrapped env (reset with ``seed``) and the benchmark's steprl PPO (``compile_update``: torch.compile'd nets)."""
    torch.manual_seed(seed)
    env = wrap_env(make_env(num_envs, mode), verbose=False)
    env.reset(force=True, seed=seed)
    models = {
        "policy": Policy(env.observation_space, env.action_space, "cpu"),
        "value": Value(env.observation_space, env.action_space, "cpu"),
    }
    if compile_update:
        for model in models.values():
            model.net = torch.compile(model.net)
    hyper = hyper_for(num_envs)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=hyper.rollouts, learning_epochs=hyper.epochs, mini_batches=hyper.mini_batches,
               learning_rate=hyper.learning_rate, discount_factor=hyper.gamma, grad_norm_clip=hyper.max_grad_norm,
               ratio_clip=hyper.clip, experiment={"write_interval": 0, "checkpoint_interval": 0})
    cfg["lambda"] = hyper.gae_lambda
    agent = PPO(models=models, memory=RandomMemory(memory_size=hyper.rollouts, num_envs=num_envs, device="cpu"), cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space, device="cpu")
    return env, agent


def steprl_ppo(steps: int, num_envs: int = NUM_ENVS, mode: str = "sync", seed: int = 0) -> Run:
    env, agent = build_steprl_ppo(num_envs, mode, seed)
    run = measure_ppo(env, agent, steps)
    net = agent.policy.net

    def act(obs: np.ndarray) -> int:
        with torch.no_grad():
            return int(net(torch.as_tensor(obs)).argmax(-1)[0])

    run.eval_return = greedy_return(act, seed=seed)
    return run


def handwritten(steps: int, num_envs: int, mode: str, seed: int) -> tuple[float, float]:
    from peer_handwritten_ppo import greedy, train

    speed, agent = train(steps, num_envs, mode, seed, hyper_for(num_envs))
    return speed, greedy_return(greedy(agent), seed=seed)


PEERS = {"handwritten": "CleanRL-style hand-written loop", "sb3": "Stable-Baselines3 PPO", "skrl": "skrl PPO (SequentialTrainer)"}


def _peer_runner(name: str) -> Callable[[int, int, str, int], tuple[float, float]]:
    """The peer's runner, or ``ImportError`` naming what is missing."""
    if name == "handwritten":
        return handwritten
    import peer_libraries

    module = "stable_baselines3" if name == "sb3" else "skrl"
    __import__(module)
    runner = peer_libraries.sb3_ppo if name == "sb3" else peer_libraries.skrl_ppo
    return lambda steps, n, mode, seed: runner(steps, n, mode, seed, hyper_for(n))


def _peer_label(name: str) -> str:
    if name == "handwritten":
        return PEERS[name]
    module = __import__("stable_baselines3" if name == "sb3" else "skrl")
    return f"{PEERS[name].split(' ', 1)[0]} {module.__version__} {PEERS[name].split(' ', 1)[1]}".strip()


def run_configuration(args: argparse.Namespace, num_envs: int, mode: str, peers: dict[str, Callable]) -> None:
    """All loops at ``num_envs`` / ``mode``, interleaved per seed; prints the table of medians."""
    speeds: dict[str, list[float]] = {"raw vector-env stepping, random actions": [],
                                      "stepping + one MLP policy forward per step": [], "steprl ManualTrainer PPO": []}
    evals: dict[str, list[float]] = {"steprl ManualTrainer PPO": []}
    for name in peers:
        speeds[_peer_label(name)], evals[_peer_label(name)] = [], []
    jax_runs: list[Run] = []
    load_before = os.getloadavg()
    for seed in args.seeds:
        speeds["raw vector-env stepping, random actions"].append(raw_stepping(args.steps, num_envs, mode, seed))
        speeds["stepping + one MLP policy forward per step"].append(stepping_plus_forward(args.steps, num_envs, mode, seed))
        run = steprl_ppo(args.steps, num_envs, mode, seed)
        speeds["steprl ManualTrainer PPO"].append(run.steps_per_s)
        evals["steprl ManualTrainer PPO"].append(run.eval_return)
        for name, runner in peers.items():
            speed, evaluation = runner(args.steps, num_envs, mode, seed)
            speeds[_peer_label(name)].append(speed)
            evals[_peer_label(name)].append(evaluation)
        if args.backend == "jax" and num_envs == NUM_ENVS and mode == "sync":
            from throughput_jax import jax_ppo

            jax_runs.append(jax_ppo(args.steps, NUM_ENVS, "jax"))
        print(f"  seed {seed} done: " + ", ".join(f"{k.split(',')[0]} {v[-1]:,.0f}" for k, v in speeds.items()), flush=True)
    load_after = os.getloadavg()
    print(f"\nCartPole-v1, {num_envs} {mode} envs, rollouts {hyper_for(num_envs).rollouts}, {args.steps} env steps per run, "
          f"seeds {args.seeds}, 1 torch thread; load average (1/5/15 min) {load_before[0]:.2f}/{load_before[1]:.2f}/"
          f"{load_before[2]:.2f} before, {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after")
    print("| loop | env steps/s (median) | per seed | evaluation return per seed |")
    print("|---|---|---|---|")
    for name, values in speeds.items():
        per_seed = " / ".join(f"{v:,.0f}" for v in values)
        ev = " / ".join(f"{v:.0f}" for v in evals.get(name, []))
        print(f"| {name} | {statistics.median(values):,.0f} | {per_seed} | {ev} |")
    if jax_runs:
        print(f"| steprl ManualTrainer PPO (JAX) | {statistics.median(r.steps_per_s for r in jax_runs):,.0f} | "
              f"compilation excluded {statistics.median(r.steps_per_s_compiled for r in jax_runs):,.0f} | |")
    ours = statistics.median(speeds["steprl ManualTrainer PPO"])
    floor = statistics.median(speeds["stepping + one MLP policy forward per step"])
    summary = f"steprl = {ours / floor:.0%} of the stepping+forward floor"
    peer_medians = {name: statistics.median(speeds[_peer_label(name)]) for name in peers}
    if peer_medians:
        fastest = max(peer_medians, key=peer_medians.get)
        summary += f"; {ours / peer_medians[fastest]:.2f}x the fastest peer ({_peer_label(fastest)})"
    print(summary + "\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30_000, help="env steps per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[NUM_ENVS], help="e.g. 1 8 32 128")
    parser.add_argument("--modes", choices=("sync", "async"), nargs="+", default=["sync"],
                        help="gymnasium SyncVectorEnv and/or AsyncVectorEnv (one worker process per env)")
    parser.add_argument("--peers", choices=tuple(PEERS), nargs="*", default=list(PEERS))
    parser.add_argument("--peers-path", default="", help="a folder appended to sys.path (peers installed aside)")
    parser.add_argument("--backend", choices=("torch", "jax"), default="torch",
                        help="jax: also run the JAX PPO (JAX memory) at 8 sync envs")
    args = parser.parse_args()
    if args.peers_path:
        if not os.path.isdir(args.peers_path):
            parser.error(f"--peers-path {args.peers_path!r} is not a folder: give the --target folder of the pip install")
        sys.path.append(args.peers_path)
    if any(n < 1 for n in args.num_envs):
        parser.error(f"--num-envs must be positive integers, got {args.num_envs}")
    torch.set_num_threads(1)
    peers: dict[str, Callable] = {}
    for name in args.peers:
        try:
            peers[name] = _peer_runner(name)
        except ImportError as error:
            print(f"skipping {PEERS[name]}: {error} (install it aside and pass --peers-path)")
    for mode in args.modes:
        for num_envs in args.num_envs:
            run_configuration(args, num_envs, mode, peers)


if __name__ == "__main__":
    main()
