"""The ``steprl`` command: ``steprl train [--env ENV] [--agent ppo] ...`` trains an agent from a preset.

Budgets count environment steps over all sub-environments: with ``--timesteps T --num-envs N`` the ManualTrainer
loop runs ``T // N`` vector steps. Evaluations run every ``--eval-every`` environment steps (rounded to whole
rollouts, so they happen right after an update) on a separate single environment with deterministic actions.
A run directory holds the TensorBoard events, ``checkpoints/`` (periodic, ``best_eval_agent.pt``,
``final_agent.pt``), ``learning_curve.png`` and ``summary.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from steprl import logger
from steprl.utils.presets import Preset, PresetError, available_envs, load_preset, resolve_agent_cfg
from steprl.utils.registry import AGENTS

__all__ = ["build_parser", "main"]

BACKENDS = ("torch", "jax")


class CLIError(Exception):
    """A usage error reported as ``steprl train: error: ...`` with exit code 2."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: …)`` only for options whose default is a value (``None`` means "from the preset")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The ``steprl`` argument parser (sub-command ``train``)."""
    parser = argparse.ArgumentParser(
        prog="steprl", description="steprl: train reinforcement-learning agents from presets."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser(
        "train",
        help="train an agent on a Gymnasium environment",
        description=(
            "Train an agent with the preset of the environment (steprl/presets/<env>.toml; environments without one "
            f"use the generic default preset). Presets: {', '.join(available_envs())}. Step counts are environment "
            "steps over all sub-environments: the training loop runs timesteps // num_envs vector steps."
        ),
        formatter_class=_HelpFormatter,
    )
    train.add_argument("--env", default="CartPole-v1", help="Gymnasium environment id")
    train.add_argument("--agent", default="ppo", choices=list(AGENTS), help="agent (a table of the preset)")
    train.add_argument("--timesteps", type=int, default=None, help="environment steps in total (default: preset)")
    train.add_argument("--num-envs", type=int, default=None, help="training sub-environments (default: preset)")
    train.add_argument("--seed", type=int, default=42, help="random seed (evaluation environment: seed + 1000)")
    train.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="environment steps between evaluations (0: final only; default: preset)",
    )
    train.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation")
    train.add_argument("--render", action="store_true", help="create the training environment with render_mode='human'")
    train.add_argument("--run-dir", default=None, help="output directory (default: runs/<date>_<time>_<env>_<agent>)")
    train.add_argument("--backend", default="torch", choices=BACKENDS, help="tensor backend")
    train.add_argument(
        "--no-progress", action="store_true", help="disable the progress bar (it is off when stdout is not a TTY)"
    )
    train.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    train.add_argument(
        "--device", default=None, help="torch device of the models and tensors, e.g. cpu or cuda:0 (default: cuda if available)"
    )
    return parser


def _check_args(args: argparse.Namespace) -> None:
    if args.backend != "torch":
        raise CLIError(f"--backend {args.backend} is not available yet: only 'torch' is implemented")
    for name in ("timesteps", "num_envs", "eval_episodes", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.eval_every is not None and args.eval_every < 0:
        raise CLIError(f"--eval-every must be >= 0, got {args.eval_every}")


def _default_run_dir(env_id: str, agent: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{env_id.replace('/', '_')}_{agent}")


def _train_curve(trainer: Any, num_envs: int) -> tuple[list[int], list[float]]:
    """Training episode returns and the environment step at which each ended (sub-envs step in lockstep)."""
    returns = trainer.episode_returns("train")
    per_env: dict[int, int] = {}
    steps: list[int] = []
    for length, env_id in zip(trainer.episode_lengths("train"), trainer.episode_env_ids("train")):
        per_env[env_id] = per_env.get(env_id, 0) + int(length)
        steps.append(per_env[env_id] * num_envs)
    order = np.argsort(steps, kind="stable")
    return [steps[i] for i in order], [returns[i] for i in order]


class _Evaluations:
    """Deterministic evaluations on a second ManualTrainer: log, TensorBoard scalars and the best-eval checkpoint."""

    def __init__(self, trainer: Any, agent: Any, episodes: int, num_envs: int, checkpoints: str) -> None:
        self.trainer, self.agent, self.episodes, self.num_envs = trainer, agent, episodes, num_envs
        self.best_path = os.path.join(checkpoints, "best_eval_agent.pt")
        self.best = -float("inf")
        self.history: list[dict[str, float]] = []

    def __call__(self, step: int) -> None:
        """Evaluate after ``step`` vector steps (the training trainer switches the agent back to training mode)."""
        returns = self.trainer.run_episodes(self.episodes)
        mean, std = float(np.mean(returns)), float(np.std(returns))
        self.history.append({"env_steps": step * self.num_envs, "mean": mean, "std": std})
        if self.agent.writer is not None:  # same x axis (trainer timesteps) as the agent's own scalars
            self.agent.writer.add_scalar("Eval / Mean return", mean, step)
            self.agent.writer.add_scalar("Eval / Return std", std, step)
        if mean > self.best:
            self.best = mean
            self.agent.save(self.best_path)
        _echo(f"[eval] {step * self.num_envs} env steps: return {mean:.1f} ± {std:.1f}")


def _make_agent(preset: Preset, env: Any, run_dir: str, vector_steps: int) -> Any:
    """The preset's agent with its models and memory, writing to ``run_dir`` (~100 TensorBoard points, ~10
    checkpoints)."""
    from steprl.memories.torch import RandomMemory

    entry = AGENTS[preset.agent]
    cfg = resolve_agent_cfg(preset, env.observation_space)
    cfg["experiment"] = {
        "directory": os.path.dirname(run_dir),
        "experiment_name": os.path.basename(run_dir),
        "write_interval": max(1, vector_steps // 100),
        "checkpoint_interval": max(1, vector_steps // 10),
    }
    memory = None
    if entry.memory == "rollout":
        rollouts = int(cfg.get("rollouts", entry.default_config()["rollouts"]))
        memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=env.device)
    elif entry.memory == "replay":
        memory = RandomMemory(memory_size=preset.memory_size, num_envs=env.num_envs, device=env.device)
    models = entry.build_models(env.observation_space, env.action_space, env.device, preset.network, env.num_envs)
    return entry.agent_class()(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=env.device,
    )


def _update_period(agent: Any, preset: Preset) -> int:
    """Vector steps between two updates of a rollout-based agent (evaluations are aligned to them), else 1."""
    return int(agent.cfg["rollouts"]) if AGENTS[preset.agent].memory == "rollout" else 1


def _train(args: argparse.Namespace) -> int:
    _check_args(args)
    try:
        preset = load_preset(args.env, args.agent)
    except PresetError as exc:
        raise CLIError(str(exc)) from exc
    if preset.is_default:
        logger.warning(f"No preset for {args.env}: using the generic default preset ({preset.source})")

    import gymnasium
    import torch

    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import ManualTrainer
    from steprl.utils import set_seed
    from steprl.utils.plotting import plot_learning_curve

    num_envs = args.num_envs or preset.num_envs
    timesteps = args.timesteps or preset.timesteps
    eval_every = preset.eval_every if args.eval_every is None else args.eval_every
    vector_steps = timesteps // num_envs
    if vector_steps < 1:
        raise CLIError(f"--timesteps ({timesteps}) must be >= --num-envs ({num_envs}): nothing to run")
    run_dir = os.path.abspath(args.run_dir or _default_run_dir(args.env, args.agent))

    torch.set_num_threads(args.threads)
    if args.device is not None:
        from steprl import config

        try:
            device = torch.device(args.device)
        except RuntimeError as exc:
            raise CLIError(f"--device {args.device!r} is not a torch device: {exc}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise CLIError(f"--device {args.device}: CUDA is not available on this machine")
        config.torch.device = device
    set_seed(args.seed)
    render = {"render_mode": "human"} if args.render else {}
    try:
        env = wrap_env(
            gymnasium.make_vec(args.env, num_envs=num_envs, vectorization_mode="sync", **preset.env_kwargs, **render),
            verbose=False,
        )
        eval_env = wrap_env(gymnasium.make(args.env, **preset.env_kwargs), verbose=False)
    except (gymnasium.error.Error, TypeError) as exc:  # TypeError: an env_kwargs key the environment does not take
        raise CLIError(f"cannot create environment {args.env!r}: {exc}") from exc
    env.reset(seed=args.seed)
    eval_env.reset(seed=args.seed + 1000)

    agent = _make_agent(preset, env, run_dir, vector_steps)
    rollouts = _update_period(agent, preset)
    trainer_cfg = {
        "timesteps": vector_steps,
        "headless": True,
        "close_environment_at_exit": False,
        "disable_progressbar": True if args.no_progress else None,
    }
    trainer = ManualTrainer(env=env, agents=agent, cfg=trainer_cfg)
    evaluator = ManualTrainer(env=eval_env, agents=agent, cfg={**trainer_cfg, "disable_progressbar": True})
    if rollouts > 1 and vector_steps < rollouts:
        logger.warning(f"{vector_steps} vector steps are fewer than one rollout ({rollouts}): the agent will not learn")

    checkpoints = os.path.join(run_dir, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    eval_interval = max(rollouts, round(eval_every / num_envs / rollouts) * rollouts) if eval_every else 0
    evaluate = _Evaluations(evaluator, agent, args.eval_episodes, num_envs, checkpoints)

    start = time.perf_counter()
    eval_time = 0.0
    try:
        for t in range(vector_steps):
            trainer.train(timestep=t)
            if eval_interval and not (t + 1) % eval_interval and t + 1 < vector_steps:
                tick = time.perf_counter()
                evaluate(t + 1)
                eval_time += time.perf_counter() - tick
        train_time = time.perf_counter() - start - eval_time
        evaluate(vector_steps)
        wall = time.perf_counter() - start
        agent.save(os.path.join(checkpoints, "final_agent.pt"))
        train_steps, train_returns = _train_curve(trainer, num_envs)
        final = evaluate.history[-1]
        plot_learning_curve(
            os.path.join(run_dir, "learning_curve.png"),
            f"{args.agent.upper()} on {args.env} (seed {args.seed})",
            [e["env_steps"] for e in evaluate.history],
            [e["mean"] for e in evaluate.history],
            [e["std"] for e in evaluate.history],
            train_steps,
            train_returns,
        )
    finally:
        env.close()
        eval_env.close()
        if agent.writer is not None:
            agent.writer.close()

    env_steps = vector_steps * num_envs
    summary = {
        "env": args.env,
        "agent": args.agent,
        "backend": args.backend,
        "seed": args.seed,
        "preset": preset.source,
        "env_kwargs": preset.env_kwargs,
        "timesteps": env_steps,
        "num_envs": num_envs,
        "eval_episodes": args.eval_episodes,
        "final_mean_return": final["mean"],
        "final_std_return": final["std"],
        "best_eval_mean_return": evaluate.best,
        "evaluations": evaluate.history,
        "training_episodes": len(train_returns),
        "wall_time_s": wall,
        "train_time_s": train_time,
        "steps_per_s": env_steps / max(train_time, 1e-9),
    }
    with open(os.path.join(run_dir, "summary.json"), "w", encoding="utf-8") as file:
        json.dump(summary, file, indent=2)
    print(f"Final evaluation: {final['mean']:.1f} ± {final['std']:.1f} over {args.eval_episodes} episodes")
    print(f"{env_steps} environment steps, {summary['steps_per_s']:.0f} steps/s (training), wall time {wall:.1f} s")
    print(f"Run directory: {run_dir}")
    return 0


def _echo(line: str) -> None:
    """Print ``line`` without breaking a progress bar."""
    import tqdm

    tqdm.tqdm.write(line, file=sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``steprl`` command; returns the exit code (2 for usage errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help (0) or an argparse usage error (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _train(args)
    except CLIError as exc:
        print(f"steprl {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
