"""Cost of one SAC update (the configuration of benchmarks/sac_pendulum.py: batch 256, 256x256 ReLU, Pendulum-v1's
3 observations and 1 action, 1 torch thread) beside its matrix-multiplication floor.

Timed on the same random batch, in interleaved blocks (medians): steprl's SAC update step with one pass per critic
(the default) and with the twin critics batched (``agent.batched_critics = True``), the hand-written loop's update
(benchmarks/sac_handwritten.py), and the floor — only the 24 forward and 21 backward matrix products one update
cannot avoid (2 actor and 6 critic forward passes, the backward of the critic loss, of the policy loss
through the frozen critics and of the policy), into preallocated outputs, nothing else.

    python benchmarks/sac_update_cost.py [--blocks 10] [--block 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch

from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.sac import build_sac_models

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sac_handwritten  # noqa: E402

OBS = gym.spaces.Box(-8.0, 8.0, shape=(3,), dtype=np.float32)
ACT = gym.spaces.Box(-2.0, 2.0, shape=(1,), dtype=np.float32)


def random_batch(batch: int) -> list[torch.Tensor]:
    """``[states, actions, rewards, next_states, terminated]`` (5% terminated)."""
    states, next_states = torch.randn(batch, 3), torch.randn(batch, 3)
    actions, rewards = torch.rand(batch, 1) * 4 - 2, torch.randn(batch, 1)
    return [states, actions, rewards, next_states, torch.rand(batch, 1) < 0.05]


def steprl_update(hidden: list[int], batch: list[torch.Tensor], batched: bool) -> Callable[[], None]:
    models = build_sac_models(OBS, ACT, "cpu", {"hidden": hidden})
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(batch_size=batch[0].shape[0])
    cfg["experiment"].update(write_interval=0, checkpoint_interval=0)
    agent = SAC(models, RandomMemory(memory_size=8, num_envs=1), OBS, ACT, "cpu", cfg)
    agent.init()
    agent.batched_critics = batched
    agent.set_mode("train")
    return lambda: agent._update_step(*batch)


def handwritten_update(hidden: list[int], batch: list[torch.Tensor]) -> Callable[[], None]:
    learner = sac_handwritten.Learner(3, 1, hidden, ACT.low, ACT.high)
    return lambda: learner.update(*batch)


def floor(hidden: list[int], batch_size: int) -> Callable[[], None]:
    """The unavoidable matrix products of one update, into preallocated outputs."""
    products: list[tuple[Callable[..., torch.Tensor], tuple[torch.Tensor, ...], torch.Tensor]] = []

    def layers(inputs: int, outputs: int) -> list[tuple[int, int]]:
        sizes = [inputs, *hidden, outputs]
        return list(zip(sizes[:-1], sizes[1:]))

    def forward(shape: list[tuple[int, int]]) -> None:
        for fan_in, fan_out in shape:
            args = (torch.randn(fan_out), torch.randn(batch_size, fan_in), torch.randn(fan_out, fan_in).t())
            products.append((torch.addmm, args, torch.empty(batch_size, fan_out)))

    def backward(shape: list[tuple[int, int]], weights: bool, first_input: bool) -> None:
        for index, (fan_in, fan_out) in enumerate(shape):
            grad = torch.randn(batch_size, fan_out)
            if weights:
                products.append((torch.mm, (grad.t(), torch.randn(batch_size, fan_in)), torch.empty(fan_out, fan_in)))
            if index > 0 or first_input:
                products.append((torch.mm, (grad, torch.randn(fan_out, fan_in)), torch.empty(batch_size, fan_in)))

    actor, critic = layers(3, 2), layers(4, 1)
    for shape, passes in ((actor, 2), (critic, 6)):
        for _ in range(passes):
            forward(shape)
    for _ in range(2):
        backward(critic, weights=True, first_input=False)  # critic loss
        backward(critic, weights=False, first_input=True)  # policy loss through the frozen critics, to the actions
    backward(actor, weights=True, first_input=False)  # policy

    def run() -> None:
        for op, args, out in products:
            op(*args, out=out)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--blocks", type=int, default=10, help="interleaved blocks per variant")
    parser.add_argument("--block", type=int, default=20, help="updates per block")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batch = random_batch(args.batch_size)
    variants = {
        "steprl (one pass per critic)": steprl_update(args.hidden, batch, batched=False),
        "steprl (batched critics)": steprl_update(args.hidden, batch, batched=True),
        "hand-written loop": handwritten_update(args.hidden, batch),
        "matrix-product floor": floor(args.hidden, args.batch_size),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for call in variants.values():
        for _ in range(3):
            call()
    for _ in range(args.blocks):
        for name, call in variants.items():
            start = time.perf_counter()
            for _ in range(args.block):
                call()
            times[name].append((time.perf_counter() - start) / args.block * 1e3)
    print(f"SAC update, batch {args.batch_size}, hidden {tuple(args.hidden)}, {args.threads} thread(s), "
          f"load {os.getloadavg()[0]:.2f} (medians of {args.blocks} blocks of {args.block})")  # fmt: skip
    base = statistics.median(times["matrix-product floor"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:>30}: {median:7.2f} ms per update ({median / base:4.2f}x the floor)")


if __name__ == "__main__":
    main()
