"""Throughput of vectorized multi-agent training on VMAS navigation (4 agents) beside raw VMAS stepping.

For each number of sub-environments (default 32 and 256), in one run and on one device:
(1) raw VMAS stepping with random actions (``env.step`` only, VMAS resets at the horizon),
(2) the same through :class:`VmasWrapper` (dict tensors, per-sub-environment resets),
(3) the ManualTrainer loop with a random multi-agent object (the trainer's bookkeeping, no networks),
(4) the ManualTrainer loop training MAPPO (64x64 tanh policies shared by the 4 agents, a value on the global
    state, rollouts of 32 vector steps, 4 epochs, 4 mini-batches): acting, storing and every update included.

Environment steps are vector steps x sub-environments (one step of all 4 agents counts once).

    python benchmarks/vmas_throughput.py [--envs 32 256] [--steps 100000] [--repeats 3] [--device cpu] [--threads 1]

Each figure is the best of ``--repeats`` measurements (other processes on the machine only ever slow a run down).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn as nn
import vmas

from steprl.envs.wrappers.torch import VmasWrapper, wrap_env
from steprl.trainers.torch import ManualTrainer

SCENARIO = "navigation"
MAX_STEPS = 100
QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def make_env(num_envs: int, device: str) -> Any:
    return vmas.make_env(SCENARIO, num_envs=num_envs, device=device, max_steps=MAX_STEPS, seed=0)


def timed(vector_steps: int, num_envs: int, step: Callable[[], Any], device: str) -> float:
    """Environment steps per second of ``vector_steps`` calls of ``step`` (after 20 warm-up calls)."""
    for _ in range(20):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(vector_steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return vector_steps * num_envs / (time.perf_counter() - start)


def random_actions(env: VmasWrapper) -> dict[str, torch.Tensor]:
    return {uid: torch.rand(env.num_envs, 2, device=env.device) * 2 - 1 for uid in env.possible_agents}


def raw_stepping(num_envs: int, vector_steps: int, device: str) -> float:
    env = make_env(num_envs, device)
    env.reset()

    def step() -> None:
        _, _, dones, _ = env.step([torch.rand(num_envs, 2, device=device) * 2 - 1 for _ in env.agents])
        if bool(dones.any()):
            env.reset()  # every sub-environment reaches the horizon together

    return timed(vector_steps, num_envs, step, device)


def wrapper_stepping(num_envs: int, vector_steps: int, device: str) -> float:
    env = wrap_env(make_env(num_envs, device), verbose=False)
    env.reset()

    def step() -> None:
        next_obs, _, terminated, truncated, _ = env.step(random_actions(env))
        env.autoreset_states(next_obs, terminated, truncated)

    return timed(vector_steps, num_envs, step, device)


class RandomMultiAgent:
    """Uniform random continuous actions for every agent; records nothing."""

    def __init__(self, possible_agents: list[str]) -> None:
        self.possible_agents = possible_agents

    def init(self, trainer_cfg: Any = None) -> None:
        pass

    def set_running_mode(self, mode: str) -> None:
        self.training = mode == "train"

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def act(self, states: Mapping[str, torch.Tensor], timestep: int, timesteps: int) -> tuple[dict, dict, dict]:
        actions = {uid: torch.rand(obs.shape[0], 2, device=obs.device) * 2 - 1 for uid, obs in states.items()}
        return actions, {}, {}

    def record_transition(self, **kwargs: Any) -> None:
        pass

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def track_data(self, tag: str, value: Any) -> None:
        pass


def trainer_loop(num_envs: int, vector_steps: int, device: str) -> float:
    env = wrap_env(make_env(num_envs, device), verbose=False)
    trainer = ManualTrainer(env=env, agents=RandomMultiAgent(env.possible_agents), cfg=QUIET)
    return timed(vector_steps, num_envs, trainer.train, device)


def mappo_loop(num_envs: int, vector_steps: int, device: str) -> float | None:
    try:
        from steprl.multi_agents.torch.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
    except ImportError:
        return None
    from steprl.memories.torch import RandomMemory
    from steprl.models.torch import DeterministicMixin, GaussianMixin, Model

    def mlp(inputs: int, outputs: int) -> nn.Sequential:
        return nn.Sequential(nn.Linear(inputs, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, outputs))

    class Policy(GaussianMixin, Model):
        def __init__(self, observation_space: Any, action_space: Any, device: Any) -> None:
            Model.__init__(self, observation_space, action_space, device)
            GaussianMixin.__init__(self, clip_actions=True)
            self.net = mlp(self.num_observations, self.num_actions)
            self.log_std = nn.Parameter(torch.zeros(self.num_actions))

        def compute(self, inputs: Mapping[str, Any], role: str) -> tuple[Any, ...]:
            return self.net(inputs["states"]), self.log_std, {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space: Any, action_space: Any, device: Any) -> None:
            Model.__init__(self, observation_space, action_space, device)
            DeterministicMixin.__init__(self)
            self.net = mlp(self.num_observations, 1)

        def compute(self, inputs: Mapping[str, Any], role: str) -> tuple[Any, ...]:
            return self.net(inputs["states"]), {}

    env = wrap_env(make_env(num_envs, device), verbose=False)
    uids = env.possible_agents
    rollouts = 32
    policy = Policy(env.observation_space(uids[0]), env.action_space(uids[0]), env.device)
    value = Value(env.state_space(uids[0]), env.action_space(uids[0]), env.device)
    models = {uid: {"policy": policy, "value": value} for uid in uids}  # one policy and one value for the team
    memories = {uid: RandomMemory(memory_size=rollouts, num_envs=num_envs, device=env.device) for uid in uids}
    cfg = MAPPO_DEFAULT_CONFIG.copy()
    cfg.update({"rollouts": rollouts, "learning_epochs": 4, "mini_batches": 4})
    cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
    agent = MAPPO(
        possible_agents=uids,
        models=models,
        memories=memories,
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        device=env.device,
        cfg=cfg,
        shared_observation_spaces=env.state_spaces,
    )
    trainer = ManualTrainer(env=env, agents=agent, cfg={**QUIET, "timesteps": vector_steps + 20})
    return timed(vector_steps, num_envs, trainer.train, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--steps", type=int, default=100_000, help="environment steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"VMAS {SCENARIO} (4 agents), device {args.device}, {args.threads} torch thread(s), env steps/s")
    print(f"{'envs':>6} {'raw VMAS':>10} {'wrapper':>10} {'loop':>10} {'MAPPO':>10}")
    for num_envs in args.envs:
        vector_steps = max(args.steps // num_envs, 50)
        best = {}
        for _ in range(args.repeats):
            for name, measure in (("raw", raw_stepping), ("wrapper", wrapper_stepping), ("loop", trainer_loop)):
                best[name] = max(best.get(name, 0.0), measure(num_envs, vector_steps, args.device))
            mappo = mappo_loop(num_envs, vector_steps, args.device)
            best["mappo"] = None if mappo is None else max(best.get("mappo") or 0.0, mappo)
        raw, wrapped, loop, mappo = best["raw"], best["wrapper"], best["loop"], best["mappo"]
        shown = "n/a" if mappo is None else f"{mappo:10.0f}"
        print(f"{num_envs:>6} {raw:10.0f} {wrapped:10.0f} {loop:10.0f} {shown:>10}", flush=True)


if __name__ == "__main__":
    main()
