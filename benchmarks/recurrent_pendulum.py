"""Each recurrent agent against its feed-forward twin on Pendulum with the velocity hidden.

The environment is Pendulum-v1 observed through (cos θ, sin θ) only: the angular velocity, which a swing-up needs,
must be inferred from successive observations. Every pair trains the same models (``steprl.models.torch.networks.
recurrent``) on the same budget (environment steps, updates, samples per update), once with a GRU core
(``*_RNN`` agent) and once with its feed-forward twin (``cell = "none"``: a Linear layer of the same width; the
plain agent). Score: mean deterministic return of one evaluation episode per sub-environment after training.

Each finished run appends one JSON line to ``--out``; ``--table`` prints the table of a results file.

    python benchmarks/recurrent_pendulum.py --agents sac td3 ddpg rpo trpo --seeds 0 1 2 --out results.jsonl
    python benchmarks/recurrent_pendulum.py --table results.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from steprl.cli.registry import import_path
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.resources.noises.torch import GaussianNoise
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


class HiddenVelocity(gym.ObservationWrapper):
    """Pendulum observed as (cos θ, sin θ): the angular velocity is dropped."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[:2].astype(np.float32)


REPLAY = {"num_envs": 4, "timesteps": 3_000, "memory_size": 12_000, "sequence_length": 8, "sequences": 32}
ROLLOUT = {"num_envs": 8, "timesteps": 12_500, "rollouts": 64, "sequence_length": 16}
NETWORK = {"hidden_size": 64, "hidden": [64], "activation": "relu"}

# agent -> (module, class, builder, agent cfg); the feed-forward twin is the same class without "_RNN"
AGENTS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "sac": ("sac", "SAC", "build_sac_rnn_models", {"discount_factor": 0.98, "learning_starts": 250, "random_timesteps": 250}),
    "td3": ("td3", "TD3", "build_td3_rnn_models", {"discount_factor": 0.98, "learning_starts": 250, "random_timesteps": 250,
                                                   "smooth_regularization_clip": 0.5}),
    "ddpg": ("ddpg", "DDPG", "build_ddpg_rnn_models", {"discount_factor": 0.98, "learning_starts": 250,
                                                       "random_timesteps": 250}),
    "rpo": ("rpo", "RPO", "build_rpo_rnn_models", {"learning_epochs": 5, "mini_batches": 4, "discount_factor": 0.9,
                                                   "lambda": 0.95, "learning_rate": 1e-3, "alpha": 0.2}),
    "trpo": ("trpo", "TRPO", "build_trpo_rnn_models", {"learning_epochs": 5, "mini_batches": 4, "discount_factor": 0.9,
                                                       "lambda": 0.95}),
}


def run(agent: str, recurrent: bool, seed: int) -> dict[str, Any]:
    """Train one agent on hidden-velocity Pendulum and return its score and wall time."""
    module, name, builder, agent_cfg = AGENTS[agent]
    replay = agent in ("sac", "td3", "ddpg")
    budget = REPLAY if replay else ROLLOUT
    set_seed(seed)
    torch.set_num_threads(1)
    n = budget["num_envs"]
    env = wrap_env(gym.make_vec("Pendulum-v1", n, vectorization_mode="sync", wrappers=[HiddenVelocity]), verbose=False)
    env.reset(seed=seed)
    network = {**NETWORK, "sequence_length": budget["sequence_length"], "cell": "gru" if recurrent else "none"}
    models = import_path(f"steprl.models.torch.networks.recurrent:{builder}")(
        env.observation_space, env.action_space, env.device, network, n)
    cls = import_path(f"steprl.agents.torch.{module}:{name}_RNN" if recurrent else f"steprl.agents.torch.{module}:{name}")
    cfg = {**agent_cfg, "experiment": dict(NO_LOGS)}
    if replay:
        # same samples per update: sequences x length for the recurrent agent, as many single transitions otherwise
        cfg["batch_size"] = budget["sequences"] if recurrent else budget["sequences"] * budget["sequence_length"]
        memory = RandomMemory(budget["memory_size"] // n, n)
        if agent != "sac":
            cfg["exploration"] = {"noise": GaussianNoise(0.0, 0.1, device=env.device), "final_scale": 1.0}
        if agent == "td3":
            cfg["smooth_regularization_noise"] = GaussianNoise(0.0, 0.2, device=env.device)
    else:
        cfg["rollouts"] = budget["rollouts"]
        memory = RandomMemory(budget["rollouts"], n)
    learner = cls(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                  action_space=env.action_space, device=env.device)
    trainer = ManualTrainer(env=env, agents=learner, cfg={"timesteps": budget["timesteps"], **QUIET})
    start = time.perf_counter()
    for t in range(budget["timesteps"]):
        trainer.train(timestep=t)
    seconds = time.perf_counter() - start
    returns = torch.zeros(n)
    for _ in range(200):  # Pendulum episodes last 200 steps: one evaluation episode per sub-environment
        _, rewards, _, _, _ = trainer.eval()
        returns += rewards.view(-1).cpu()
    env.close()
    return {"agent": agent, "recurrent": recurrent, "seed": seed, "return": float(returns.mean()),
            "env_steps": budget["timesteps"] * n, "seconds": round(seconds, 1)}


def table(path: str) -> str:
    """A Markdown table (mean ± std over seeds, per-seed scores) of a results file."""
    scores: dict[tuple[str, bool], dict[int, float]] = defaultdict(dict)
    steps: dict[str, int] = {}
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            scores[(row["agent"], row["recurrent"])][row["seed"]] = row["return"]
            steps[row["agent"]] = row["env_steps"]
    lines = ["| agent | env steps | recurrent (GRU) | feed-forward twin | seeds (recurrent / feed-forward) |",
             "| --- | --- | --- | --- | --- |"]
    for agent in AGENTS:
        rnn, ff = scores.get((agent, True), {}), scores.get((agent, False), {})
        if not rnn and not ff:
            continue

        def summary(values: dict[int, float]) -> str:
            v = np.array(list(values.values()))
            return f"{v.mean():.0f} ± {v.std():.0f}" if v.size else "-"

        def seeds(values: dict[int, float]) -> str:
            return ", ".join(f"{values[s]:.0f}" for s in sorted(values))

        lines.append(f"| {AGENTS[agent][1]}_RNN / {AGENTS[agent][1]} | {steps[agent]:,} | {summary(rnn)} | {summary(ff)} "
                     f"| {seeds(rnn)} / {seeds(ff)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", nargs="+", choices=list(AGENTS), default=list(AGENTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="recurrent_pendulum.jsonl", help="results file (JSON lines, appended)")
    parser.add_argument("--table", metavar="RESULTS", help="print the table of a results file and exit")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    for agent in args.agents:
        for seed in args.seeds:
            for recurrent in (True, False):
                row = run(agent, recurrent, seed)
                print(json.dumps(row), flush=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
