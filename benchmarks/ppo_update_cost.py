"""Cost of the torch PPO update per minibatch step, of the rollout preparation and of one ``act`` call.

The configuration of ``throughput.py`` (CartPole-v1, 8 envs, rollouts 128, 4 epochs x 4 mini-batches, 64x64 tanh,
1 torch thread). The agent first trains for ``--warmup`` env steps so that the memory holds a real rollout, then
``_update`` and ``act`` are timed on it ``--repeats`` times (medians of CPU time, one thread). One minibatch step = (update - rollout
preparation) / (epochs x mini-batches). ``--compile`` times the opt-in compiled update as well: its first update
(compilation included), its steady update, and the break-even (updates, and env steps) after which it pays back.
``--breakdown STEPS`` trains for STEPS env steps and splits the loop's CPU time per 1024 samples into ``act``,
``env.step`` (gymnasium's own step and resets inside it), recording, the update, and the rest.

    python benchmarks/ppo_update_cost.py [--repeats 200] [--compile] [--breakdown 30720]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from throughput import NUM_ENVS, build_steprl_ppo

from steprl.trainers.torch import ManualTrainer

ROLLOUTS, EPOCHS, MINI_BATCHES = 128, 4, 4


def _median_s(call: Callable[[], object], repeats: int) -> float:
    """Median CPU seconds of ``call`` (process time: on a loaded machine wall time mostly measures the waiting)."""
    times = []
    for _ in range(repeats):
        tick = time.process_time()
        call()
        times.append(time.process_time() - tick)
    return statistics.median(times)


def measure(repeats: int, warmup: int, compile_update: bool) -> dict[str, float]:
    """Median seconds of one update, one rollout preparation and one ``act`` (and the first update's time)."""
    env, agent = build_steprl_ppo(NUM_ENVS, compile_update=compile_update)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": warmup // NUM_ENVS, "headless": True,
                                                       "disable_progressbar": True, "close_environment_at_exit": False})
    timed_first: list[float] = []
    update = agent._update

    def first_update(*args: object, **kwargs: object) -> None:
        tick = time.perf_counter()
        update(*args, **kwargs)
        timed_first.append(time.perf_counter() - tick)

    agent._update = first_update
    for t in range(warmup // NUM_ENVS):
        trainer.train(timestep=t)
    agent._update = update
    states = torch.randn(NUM_ENVS, 4)
    agent.set_running_mode("train")

    def act() -> None:
        with torch.no_grad():
            agent.act(states, 0, 1)

    result = {
        "update": _median_s(lambda: agent._update(0, 1), repeats),
        "prepare": _median_s(agent._prepare_rollout, repeats),
        "act": _median_s(act, repeats * 20),
        "first_update": timed_first[0],
    }
    env.close()
    return result


def _cpu_timed(totals: collections.Counter, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tick = time.process_time()
        result = method(*args, **kwargs)
        totals[name] += time.process_time() - tick
        return result

    return wrapper


def breakdown(steps: int) -> None:
    """Print the training loop's CPU time per 1024 samples, split by component (nested rows indented)."""
    env, agent = build_steprl_ppo(NUM_ENVS)
    totals: collections.Counter = collections.Counter()
    agent.act = _cpu_timed(totals, "act", agent.act)
    agent.record_transition = _cpu_timed(totals, "record_transition", agent.record_transition)
    agent._update = _cpu_timed(totals, "update", agent._update)
    agent._prepare_rollout = _cpu_timed(totals, "  update: rollout preparation (values, GAE)", agent._prepare_rollout)
    env.step = _cpu_timed(totals, "env.step (wrapper + gymnasium)", env.step)
    env._env.step = _cpu_timed(totals, "  env.step: gymnasium's own step", env._env.step)
    env._env.reset = _cpu_timed(totals, "  env.step: gymnasium's reset of finished sub-envs", env._env.reset)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps // NUM_ENVS, "headless": True,
                                                       "disable_progressbar": True, "close_environment_at_exit": False})
    tick = time.process_time()
    for t in range(steps // NUM_ENVS):
        trainer.train(timestep=t)
    total = time.process_time() - tick
    env.close()
    per = steps / 1024
    print(f"CPU time per 1024 samples ({steps} env steps, {NUM_ENVS} sync envs): {1e3 * total / per:.1f} ms")
    for name, value in totals.items():
        print(f"| {name} | {1e3 * value / per:.1f} ms |")
    top = sum(value for name, value in totals.items() if not name.startswith(" "))
    print(f"| the rest (trainer step loop, episode tracking, pre/post interaction) | {1e3 * (total - top) / per:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=2048, help="env steps trained before timing (>= 1 rollout)")
    parser.add_argument("--compile", action="store_true", help="also time the torch.compile'd update (opt-in)")
    parser.add_argument("--breakdown", type=int, default=0, metavar="STEPS",
                        help="instead: split the training loop's CPU time by component over STEPS env steps")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.breakdown:
        breakdown(args.breakdown)
        return
    variants = [False, True] if args.compile else [False]
    print(f"PPO update cost, CartPole-v1, {NUM_ENVS} envs, rollouts {ROLLOUTS}, {EPOCHS}x{MINI_BATCHES} minibatches, "
          f"1 thread, medians of {args.repeats}")
    print("| update | one update (ms) | rollout preparation (ms) | one minibatch step (µs) | act, 8 envs (µs) | first update (ms) |")
    print("|---|---|---|---|---|---|")
    results = {}
    for compiled in variants:
        r = measure(args.repeats, args.warmup, compiled)
        results[compiled] = r
        per_step = (r["update"] - r["prepare"]) / (EPOCHS * MINI_BATCHES)
        print(f"| {'torch.compile' if compiled else 'eager'} | {1e3 * r['update']:.2f} | {1e3 * r['prepare']:.2f} | "
              f"{1e6 * per_step:.0f} | {1e6 * r['act']:.0f} | {1e3 * r['first_update']:.0f} |")
    if args.compile:
        eager, compiled = results[False], results[True]
        extra = compiled["first_update"] - eager["first_update"]
        saved = eager["update"] - compiled["update"]
        if saved > 0:
            updates = extra / saved
            print(f"compilation costs {extra:.1f} s; it saves {1e3 * saved:.2f} ms per update: break-even after "
                  f"{updates:,.0f} updates = {updates * ROLLOUTS * NUM_ENVS:,.0f} env steps")
        else:
            print(f"compilation costs {extra:.1f} s and the compiled update is not faster "
                  f"({1e3 * compiled['update']:.2f} ms vs {1e3 * eager['update']:.2f} ms): it never pays back")


if __name__ == "__main__":
    main()
