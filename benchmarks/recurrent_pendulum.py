"""Each recurrent agent against its feed-forward twin on Pendulum with the velocity hidden.

The environment is Pendulum-v1 observed through (cos θ, sin θ) only: the angular velocity, which a swing-up needs,
must be inferred from successive observations. Every pair trains the same models (``steprl.models.torch.networks.
recurrent``) with the same settings and budget (environment steps, updates, samples per update), once with a GRU
core (``*_RNN`` agent) and once with its feed-forward twin (``cell = "none"``: a Linear layer of the same width; the
plain agent). Score: mean deterministic return of 8 evaluation episodes (whole rounds of the sub-environments)
after training and, with ``--evaluate-every``, during it.

The settings are those of the ``*_rnn`` sections of the ``steprl train`` preset for Pendulum-v1
(``src/steprl/cli/presets/Pendulum-v1.toml``); ``--set`` overrides any of them (``timesteps=4000``,
``network.hidden_size=32``, ``agent.batch_size=16``). A replay twin samples ``batch_size x sequence_length``
single transitions per update, as many as its recurrent agent's ``batch_size`` sequences hold.

Each finished run appends its rows (one per evaluation) to ``--out``; ``--table`` prints the table of a results
file. ``--velocity`` runs the control: plain Pendulum-v1, velocity observed.

    python benchmarks/recurrent_pendulum.py --agents sac td3 ddpg rpo trpo --seeds 0 1 2 --out results.jsonl
    python benchmarks/recurrent_pendulum.py --agents td3 --seeds 0 --set timesteps=6000 --evaluate-every 2000
    python benchmarks/recurrent_pendulum.py --table results.jsonl
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from collections import defaultdict
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from steprl.cli.presets import Preset, parse_preset, preset_source, read_preset_file, resolve_agent_cfg
from steprl.cli.registry import import_path
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}

# agent -> (module, class, model builder); the feed-forward twin is the same class without "_RNN"
AGENTS: dict[str, tuple[str, str, str]] = {
    "sac": ("sac", "SAC", "build_sac_rnn_models"),
    "td3": ("td3", "TD3", "build_td3_rnn_models"),
    "ddpg": ("ddpg", "DDPG", "build_ddpg_rnn_models"),
    "rpo": ("rpo", "RPO", "build_rpo_rnn_models"),
    "trpo": ("trpo", "TRPO", "build_trpo_rnn_models"),
}
REPLAY = ("sac", "td3", "ddpg")


class HiddenVelocity(gym.ObservationWrapper):
    """Pendulum observed as (cos θ, sin θ): the angular velocity is dropped."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[:2].astype(np.float32)


def settings(agent: str, overrides: list[str]) -> Preset:
    """The preset's ``<agent>_rnn`` table with ``key=value`` / ``table.key=value`` overrides applied (and checked)."""
    data = read_preset_file(preset_source("Pendulum-v1"))
    section = data[f"{agent}_rnn"]
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects key=value (e.g. network.hidden_size=32), got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        *tables, name = key.split(".")
        target = section
        for table_name in tables:
            target = target.setdefault(table_name, {})
        target[name] = value
    return parse_preset(data, "Pendulum-v1", f"{agent}_rnn")


def evaluate(trainer: ManualTrainer, n: int, episodes: int = 8) -> float:
    """Mean deterministic return of ``episodes`` 200-step evaluation episodes (rounded up to whole rounds of the
    ``n`` sub-environments; ends the training episodes in progress)."""
    returns = torch.zeros(n)
    rounds = -(-episodes // n)
    for _ in range(200 * rounds):
        _, rewards, _, _, _ = trainer.eval()
        returns += rewards.view(-1).cpu()
    return float(returns.mean()) / rounds


def run(agent: str, recurrent: bool, seed: int, overrides: list[str] | None = None, progress: int = 0,
        velocity: bool = False, evaluate_every: int = 0) -> list[dict[str, Any]]:
    """Train one agent on hidden-velocity Pendulum (``velocity``: on plain Pendulum, a control); one result row
    (score, wall time) at the end and every ``evaluate_every`` environment steps. ``progress``: every that many
    environment steps, print the mean return of the training episodes finished since the last print."""
    module, name, builder = AGENTS[agent]
    preset = settings(agent, overrides or [])
    replay = agent in REPLAY
    set_seed(seed)
    torch.set_num_threads(1)
    n = preset.num_envs
    steps = preset.timesteps // n
    env = wrap_env(gym.make_vec("Pendulum-v1", n, vectorization_mode="sync", wrappers=[] if velocity else [HiddenVelocity]),
                   verbose=False)
    env.reset(seed=seed)
    network = {**preset.network, "cell": preset.network.get("cell", "gru") if recurrent else "none"}
    models = import_path(f"steprl.models.torch.networks.recurrent:{builder}")(
        env.observation_space, env.action_space, env.device, network, n)
    cls = import_path(f"steprl.agents.torch.{module}:{name}_RNN" if recurrent else f"steprl.agents.torch.{module}:{name}")
    cfg = {**resolve_agent_cfg(preset, env.observation_space), "experiment": dict(NO_LOGS)}
    if replay and not recurrent:  # as many single transitions per update as the recurrent agent's sequences hold
        cfg["batch_size"] = int(cfg["batch_size"]) * int(network["sequence_length"])
    memory = RandomMemory(preset.memory_size // n if replay else int(cfg["rollouts"]), n)
    learner = cls(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                  action_space=env.action_space, device=env.device)
    trainer = ManualTrainer(env=env, agents=learner, cfg={"timesteps": steps, **QUIET})
    episode, finished, count = torch.zeros(n), torch.zeros(()), torch.zeros(())
    rows: list[dict[str, Any]] = []
    start, seconds = time.perf_counter(), 0.0
    for t in range(steps):
        _, rewards, terminated, truncated, _ = trainer.train(timestep=t)
        if progress:
            done = (terminated | truncated).view(-1).cpu()
            episode += rewards.view(-1).cpu()
            finished += (episode * done).sum()
            count += done.sum()
            episode *= ~done
            if (t + 1) * n % progress < n:
                print(f"  {agent}{'_rnn' if recurrent else ''} seed {seed} step {(t + 1) * n}: training return "
                      f"{float(finished / count.clamp(min=1)):.0f} ({int(count)} episodes, "
                      f"{time.perf_counter() - start:.0f} s)", flush=True)
                finished.zero_()
                count.zero_()
        if t + 1 == steps or (evaluate_every and (t + 1) * n % evaluate_every < n):
            seconds += time.perf_counter() - start
            rows.append({"agent": agent, "recurrent": recurrent, "seed": seed, "return": evaluate(trainer, n),
                         "env_steps": (t + 1) * n, "seconds": round(seconds, 1), "overrides": overrides or [],
                         "velocity": velocity})
            print(json.dumps(rows[-1]), flush=True)
            start = time.perf_counter()
    env.close()
    return rows


def table(path: str) -> str:
    """A Markdown table of a results file: per agent and evaluation point, mean ± std over seeds and the per-seed
    scores of the recurrent agent and of its twin (a later row of the same run and point wins)."""
    scores: dict[tuple[str, int, bool], dict[int, float]] = defaultdict(dict)
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            scores[(row["agent"], row["env_steps"], row["recurrent"])][row["seed"]] = row["return"]
    lines = ["| agent / twin | env steps | recurrent (GRU) | feed-forward twin | per seed (recurrent / feed-forward) |",
             "| --- | --- | --- | --- | --- |"]

    def summary(values: dict[int, float]) -> str:
        v = np.array(list(values.values()))
        return f"{v.mean():.0f} ± {v.std():.0f}" if v.size else "-"

    def seeds(values: dict[int, float]) -> str:
        return ", ".join(f"{s}: {values[s]:.0f}" for s in sorted(values)) or "-"

    for agent, (_, name, _) in AGENTS.items():
        for steps in sorted({key[1] for key in scores if key[0] == agent}):
            rnn, ff = scores.get((agent, steps, True), {}), scores.get((agent, steps, False), {})
            lines.append(f"| {name}_RNN / {name} | {steps:,} | {summary(rnn)} | {summary(ff)} "
                         f"| {seeds(rnn)} / {seeds(ff)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", nargs="+", choices=list(AGENTS), default=list(AGENTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", choices=["rnn", "ff"], default=["rnn", "ff"],
                        help="run the recurrent agent, its feed-forward twin, or both")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override preset settings")
    parser.add_argument("--progress", type=int, default=0, metavar="STEPS",
                        help="print the training episodes' mean return every STEPS environment steps")
    parser.add_argument("--velocity", action="store_true", help="control: observe the velocity (plain Pendulum)")
    parser.add_argument("--evaluate-every", type=int, default=0, metavar="STEPS",
                        help="also evaluate (and record a row) every STEPS environment steps")
    parser.add_argument("--out", default="recurrent_pendulum.jsonl", help="results file (JSON lines, appended)")
    parser.add_argument("--table", metavar="RESULTS", help="print the table of a results file and exit")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    for agent in args.agents:
        for seed in args.seeds:
            for variant in args.variants:
                rows = run(agent, variant == "rnn", seed, args.set, args.progress, args.velocity, args.evaluate_every)
                with open(args.out, "a") as f:
                    f.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
