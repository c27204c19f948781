"""SAC on the DeepMind Control Suite (default cartpole-swingup) through DeepMindWrapper and the ManualTrainer.

Configuration: 1 environment, action repeat 8 (the PlaNet/CURL convention for cartpole; every count below is in
environment steps, i.e. physics control steps = agent steps x 8), 256x256 ReLU MLPs, batch 256, lr 1e-3 (policy,
critics, temperature), gamma 0.99, polyak 0.005, initial temperature 0.1 learned, uniform random actions and no
updates for the first 1000 agent steps, 1 torch thread. Every ``--eval-every`` environment steps the deterministic
policy plays ``--eval-episodes`` fresh episodes on a separate environment; the curve is printed as it goes.

    python benchmarks/dmc_sac.py [--domain cartpole --task swingup] [--env-steps 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")  # rendering is never used; this only keeps dm_control's import quiet

import numpy as np
import torch
from dm_control import suite

from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.sac import build_sac_models
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def make_env(domain: str, task: str, seed: int, action_repeat: int) -> object:
    """The dm_control task, seeded, wrapped for torch with the given action repeat."""
    env = suite.load(domain, task, task_kwargs={"random": seed})
    return wrap_env(env, wrapper="dm", verbose=False, action_repeat=action_repeat)


def build_agent(env: object, memory_size: int, learning_starts: int = 1000, batch_size: int = 256) -> SAC:
    """SAC with the configuration of the module docstring."""
    models = build_sac_models(env.observation_space, env.action_space, env.device, {"hidden": [256, 256]})
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(
        batch_size=batch_size,
        actor_learning_rate=1e-3,
        critic_learning_rate=1e-3,
        entropy_learning_rate=1e-3,
        initial_entropy_value=0.1,
        discount_factor=0.99,
        polyak=0.005,
        random_timesteps=learning_starts,
        learning_starts=learning_starts,
    )
    cfg["experiment"].update(write_interval=0, checkpoint_interval=0, directory="/tmp/steprl_dmc_sac")
    memory = RandomMemory(memory_size=memory_size, num_envs=1, device=env.device)
    return SAC(models, memory, env.observation_space, env.action_space, env.device, cfg)


def run(
    domain: str = "cartpole",
    task: str = "swingup",
    env_steps: int = 100_000,
    seed: int = 0,
    action_repeat: int = 8,
    eval_every: int = 10_000,
    eval_episodes: int = 5,
    learning_starts: int = 1000,
) -> list[tuple[int, float]]:
    """Train for ``env_steps`` environment steps; return ``(environment steps, mean evaluation return)`` pairs."""
    set_seed(seed)
    env = make_env(domain, task, seed, action_repeat)
    eval_env = make_env(domain, task, seed + 1000, action_repeat)
    steps = env_steps // action_repeat
    agent = build_agent(env, memory_size=steps, learning_starts=learning_starts)
    trainer = ManualTrainer(env=env, agents=agent, cfg={**QUIET, "timesteps": steps})
    evaluator = ManualTrainer(env=eval_env, agents=agent, cfg={**QUIET, "timesteps": steps})
    curve: list[tuple[int, float]] = []
    start = time.perf_counter()
    every = max(1, eval_every // action_repeat)
    for t in range(steps):
        trainer.train(timestep=t)
        if (t + 1) % every == 0 or t + 1 == steps:
            returns = evaluator.run_episodes(eval_episodes)
            curve.append(((t + 1) * action_repeat, float(np.mean(returns))))
            train_return = trainer.episode_returns("train")[-5:]
            print(
                f"{(t + 1) * action_repeat:>8} env steps: evaluation return {curve[-1][1]:7.1f} "
                f"(min {min(returns):6.1f}), last training episodes {np.mean(train_return) if train_return else 0:7.1f}, "
                f"{time.perf_counter() - start:7.1f} s, load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    env.close()
    eval_env.close()
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", default="cartpole")
    parser.add_argument("--task", default="swingup")
    parser.add_argument("--env-steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--action-repeat", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"SAC {args.domain}-{args.task}, {args.env_steps} env steps, action repeat {args.action_repeat}, "
        f"seed {args.seed}, {args.threads} torch thread(s), load {os.getloadavg()}",
        flush=True,
    )
    curve = run(
        args.domain, args.task, args.env_steps, args.seed, args.action_repeat, args.eval_every, args.eval_episodes
    )
    print("curve (env steps, evaluation return):", [(s, round(r, 1)) for s, r in curve])


if __name__ == "__main__":
    main()
