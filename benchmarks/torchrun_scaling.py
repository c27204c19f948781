"""Data-parallel scaling of ``steprl train``: environment steps per second with 1 and K ranks (torchrun, gloo on
CPU), and what the ranks' collectives cost per update.

    python benchmarks/torchrun_scaling.py [--ranks 1 2] [--env CartPole-v1 --agent ppo] [--timesteps 50000]

Every configuration trains the preset once with the same total budget (``--timesteps`` counts the environment steps
of all ranks) and no evaluation before the final one. Each rank runs this file as its worker (``--worker``), which
times every collective (all-reduce, all-gather, broadcast) and every update of the agent, then calls the command
itself; rank 0's ``summary.json`` gives the throughput (environment steps of all ranks per second of training).
Before each update the ranks meet at a barrier (timed apart), so the collectives inside the update measure
communication rather than one rank waiting for another to finish its rollout. One line per configuration: steps/s,
updates per rank, and per update the number of collectives, their time, the update's own time (collectives
included) and the wait at the barrier, as means over ranks.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

COLLECTIVES = ("all_reduce", "all_gather", "broadcast", "broadcast_object_list")
RESULT_PREFIX = "TORCHRUN_SCALING "


def _timed(function: Callable[..., Any], stats: dict[str, float], key: str, when: str = "") -> Callable[..., Any]:
    """``function`` adding its call count to ``stats[key + "_n"]`` and its wall time to ``stats[key + "_s"]``
    (only while ``stats[when]`` is set, when ``when`` is given); ``stats[key]`` is set during the call."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when and not stats[when]:
            return function(*args, **kwargs)
        tick = time.perf_counter()
        stats[key] = 1
        try:
            return function(*args, **kwargs)
        finally:
            stats[key] = 0
            stats[f"{key}_s"] += time.perf_counter() - tick
            stats[f"{key}_n"] += 1

    return wrapper


def worker(agent: str, train_args: list[str]) -> int:
    """One rank: instrument the collectives and the agent's updates, run ``steprl train``, print the counts."""
    import torch.distributed as dist

    from steprl.cli import main
    from steprl.cli.registry import agents_for

    stats = {"collective": 0, "collective_s": 0.0, "collective_n": 0, "update": 0, "update_s": 0.0, "update_n": 0,
             "wait": 0, "wait_s": 0.0, "wait_n": 0}  # fmt: skip
    for name in COLLECTIVES:  # those of the updates (not the start-up broadcasts)
        setattr(dist, name, _timed(getattr(dist, name), stats, "collective", when="update"))
    agent_class = agents_for("torch")[agent].agent_class()
    update = _timed(agent_class._update, stats, "update")
    wait = _timed(lambda: dist.barrier() if dist.is_initialized() else None, stats, "wait")

    def aligned_update(self: Any, *args: Any, **kwargs: Any) -> Any:
        wait()  # the ranks enter the update together: its collectives then time communication, not the skew
        return update(self, *args, **kwargs)

    agent_class._update = aligned_update
    code = main(["train", "--agent", agent, *train_args])
    print(RESULT_PREFIX + json.dumps({"rank": int(os.getenv("RANK", "0")), **stats}), flush=True)
    return code


def run(ranks: int, env: str, agent: str, timesteps: int, seed: int, directory: str) -> dict[str, Any]:
    """Train once with ``ranks`` processes; the throughput and the per-update costs."""
    run_dir = os.path.join(directory, f"{env}_{agent}_{ranks}")
    train = ["--env", env, "--timesteps", str(timesteps), "--seed", str(seed), "--eval-every", "0",
             "--eval-episodes", "2", "--no-progress", "--run-dir", run_dir]  # fmt: skip
    me = [os.path.abspath(__file__), "--worker", "--agent", agent, "--"]
    if ranks == 1:
        command = [sys.executable, *me, *train]
    else:
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks)]
        command = [*torchrun, "--standalone", *me, *train]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    rows = [json.loads(line[len(RESULT_PREFIX) :]) for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    with open(os.path.join(run_dir, "summary.json"), encoding="utf-8") as file:
        summary = json.load(file)
    updates = sum(r["update_n"] for r in rows) / len(rows)
    per_update = max(updates, 1)
    return {
        "ranks": ranks,
        "steps_per_s": summary["steps_per_s"],
        "train_time_s": summary["train_time_s"],
        "final_return": summary["final_mean_return"],
        "updates_per_rank": updates,
        "collectives_per_update": sum(r["collective_n"] for r in rows) / len(rows) / per_update,
        "collective_ms_per_update": 1e3 * sum(r["collective_s"] for r in rows) / len(rows) / per_update,
        "update_ms": 1e3 * sum(r["update_s"] for r in rows) / len(rows) / per_update,
        "wait_ms": 1e3 * sum(r["wait_s"] for r in rows) / len(rows) / per_update,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--agent", default="ppo")
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("train_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.agent, args.train_args)
    with tempfile.TemporaryDirectory() as directory:
        for ranks in args.ranks:
            row = run(ranks, args.env, args.agent, args.timesteps, args.seed, directory)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(
                f"[load average {load}] "
                f"{args.agent} {args.env}, {ranks} rank(s), {args.timesteps} env steps: {row['steps_per_s']:.0f} steps/s "
                f"(train {row['train_time_s']:.1f} s, final return {row['final_return']}); "
                f"{row['updates_per_rank']:.0f} updates per rank, per update {row['collectives_per_update']:.1f} "
                f"collectives taking {row['collective_ms_per_update']:.2f} ms of an update of {row['update_ms']:.2f} ms "
                f"(before it, {row['wait_ms']:.2f} ms waiting for the slowest rank)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
