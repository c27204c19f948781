"""``steprl train``: check everything the user gave, build the preset's agent, train, evaluate and write the run.

Budgets count environment steps over all sub-environments: with ``--timesteps T --num-envs N`` the ManualTrainer
loop runs ``T // N`` vector steps. Evaluations run every ``--eval-every`` environment steps (rounded to whole
rollouts, so they happen right after an update) on a separate single environment with deterministic actions.
A run directory holds the TensorBoard events, ``checkpoints/`` (periodic, ``best_eval_agent.pt``,
``final_agent.pt``), ``learning_curve.png`` and ``summary.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import logging
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from steprl import config, logger
from steprl.cli.checks import (
    CLIError,
    agent_alternatives,
    check_agent_fits,
    check_args,
    check_dependencies,
    check_device,
    exception_message,
    guard_env,
    prepare_run_dir,
    resolve_env_id,
)
from steprl.cli.presets import Preset, PresetError, available_agents, load_preset, preset_source, resolve_agent_cfg
from steprl.cli.registry import AGENTS

__all__ = ["deferred_diagnostics", "run_train", "strict_config"]

UNLIMITED_EPISODE_STEPS = 10_000  # evaluation step budget per episode of an environment without a time limit


@contextlib.contextmanager
def strict_config() -> Iterator[None]:
    """Unknown agent/trainer configuration keys raise ``KeyError`` (``steprl.config.strict``) inside the block."""
    previous = getattr(config, "_strict", config.strict)  # None: follow STEPRL_STRICT
    config.strict = True
    try:
        yield
    finally:
        config.strict = previous


@contextlib.contextmanager
def deferred_diagnostics() -> Iterator[None]:
    """Hold back steprl's log records and Python warnings emitted inside the block; show them after it only if it
    succeeds, so that a user error is the one line on stderr."""
    records: list[logging.LogRecord] = []

    class _Hold(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handlers = list(logger.handlers)
    logger.handlers = [_Hold()]
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    finally:
        logger.handlers = handlers
    for warning in caught:
        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    for record in records:
        logger.handle(record)


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
    """Deterministic evaluations on a second ManualTrainer: log, TensorBoard scalars and the best-eval checkpoint.

    Each evaluation runs ``episodes`` episodes within ``max_steps`` environment steps, so an environment whose
    episodes never end cannot stall the run (the episodes that ended are reported, or none).
    """

    def __init__(
        self, trainer: Any, agent: Any, episodes: int, max_steps: int, num_envs: int, checkpoints: str
    ) -> None:
        self.trainer, self.agent, self.episodes, self.max_steps = trainer, agent, episodes, max_steps
        self.num_envs = num_envs
        self.best_path = os.path.join(checkpoints, "best_eval_agent.pt")
        self.best = -float("inf")
        self.history: list[dict[str, float]] = []

    def __call__(self, step: int) -> None:
        """Evaluate after ``step`` vector steps (the training trainer switches the agent back to training mode)."""
        returns = self.trainer.run_episodes(self.episodes, max_steps=self.max_steps)
        env_steps = step * self.num_envs
        if not returns:
            self.history.append({"env_steps": env_steps, "mean": math.nan, "std": math.nan, "episodes": 0})
            _echo(f"[eval] {env_steps} env steps: no episode ended within {self.max_steps} steps")
            return
        mean, std = float(np.mean(returns)), float(np.std(returns))
        self.history.append({"env_steps": env_steps, "mean": mean, "std": std, "episodes": len(returns)})
        if self.agent.writer is not None:  # same x axis (trainer timesteps) as the agent's own scalars
            self.agent.writer.add_scalar("Eval / Mean return", mean, step)
            self.agent.writer.add_scalar("Eval / Return std", std, step)
        if mean > self.best:
            self.best = mean
            self.agent.save(self.best_path)
        _echo(f"[eval] {env_steps} env steps: return {mean:.1f} ± {std:.1f}")


def _make_agent(preset: Preset, env: Any, run_dir: str, vector_steps: int) -> Any:
    """The preset's agent with its models and memory, writing to ``run_dir`` (~100 TensorBoard points, ~10
    checkpoints); built in strict configuration mode, so an unknown configuration key is an error."""
    from steprl.memories.torch import RandomMemory

    entry = AGENTS[preset.agent]
    with strict_config():
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


def _load_preset(env_id: str, agent: str) -> tuple[Preset, Any]:
    """The preset of ``agent`` for ``env_id`` and a single (evaluation) environment made with its ``env_kwargs``,
    after checking that the agent can act in that environment and that the preset has a table for it."""
    import gymnasium

    try:
        tables = available_agents(env_id)
        preset = load_preset(env_id, agent) if agent in tables else None
    except PresetError as exc:
        raise CLIError(exception_message(exc)) from exc
    env_kwargs = preset.env_kwargs if preset is not None else {}
    probe = guard_env(lambda: gymnasium.make(env_id, **env_kwargs), env_id)
    observation_space, action_space = probe.observation_space, probe.action_space
    source = preset_source(env_id)
    try:
        check_agent_fits(agent, env_id, observation_space, action_space, tables, source)
        if preset is None:
            alternatives = agent_alternatives(env_id, observation_space, action_space, tables, source)
            raise CLIError(f"the preset for {env_id} ({source}) has no [{agent}] table; {alternatives}")
    except CLIError:
        probe.close()
        raise
    return preset, probe


@dataclasses.dataclass
class _Setup:
    """Everything a checked, built run needs."""

    env_id: str
    preset: Preset
    agent: Any
    trainer: Any
    evaluate: _Evaluations
    envs: list[Any]
    run_dir: str
    vector_steps: int
    num_envs: int
    eval_interval: int


def run_train(args: argparse.Namespace) -> int:
    """Run ``steprl train`` with parsed ``args``; a user error raises :class:`CLIError` before training starts."""
    with deferred_diagnostics():
        setup = _setup(args)
    return _run(args, setup)


def _setup(args: argparse.Namespace) -> _Setup:
    """Check every input, then create the environments and the run directory and build the agent and trainers."""
    check_args(args)
    check_dependencies()

    import gymnasium
    import torch

    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import ManualTrainer
    from steprl.utils import set_seed

    env_id = resolve_env_id(args.env)
    preset, probe = _load_preset(env_id, args.agent)
    envs: list[Any] = [probe]
    created_run_dir: str | None = None
    try:
        num_envs = args.num_envs or preset.num_envs
        timesteps = args.timesteps or preset.timesteps
        episodes = args.eval_episodes or preset.eval_episodes
        eval_every = preset.eval_every if args.eval_every is None else args.eval_every
        vector_steps = timesteps // num_envs
        if vector_steps < 1:
            raise CLIError(f"--timesteps ({timesteps}) must be >= --num-envs ({num_envs}): nothing to run")
        if args.device is not None:
            config.torch.device = check_device(args.device)  # the wrappers place tensors on it
        episode_steps = probe.spec.max_episode_steps if probe.spec is not None else None
        eval_max_steps = 2 * episodes * (episode_steps or UNLIMITED_EPISODE_STEPS)  # twice the longest episodes
        render = {"render_mode": "human"} if args.render else {}
        env = guard_env(
            lambda: wrap_env(
                gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **preset.env_kwargs, **render),
                verbose=False,
            ),
            env_id,
        )
        envs.append(env)
        eval_env = wrap_env(probe, verbose=False)
        guard_env(lambda: env.reset(seed=args.seed), env_id)  # rendering needs its packages from here on
        guard_env(lambda: eval_env.reset(seed=args.seed + 1000), env_id)

        run_dir = os.path.abspath(args.run_dir or _default_run_dir(env_id, args.agent))
        created_run_dir = prepare_run_dir(run_dir)
        torch.set_num_threads(args.threads)
        set_seed(args.seed)
        trainer_cfg = {
            "timesteps": vector_steps,
            "headless": True,
            "close_environment_at_exit": False,
            "disable_progressbar": True if args.no_progress else None,
        }
        try:
            agent = _make_agent(preset, env, run_dir, vector_steps)
            with strict_config():
                trainer = ManualTrainer(env=env, agents=agent, cfg=trainer_cfg)
                evaluator = ManualTrainer(env=eval_env, agents=agent, cfg={**trainer_cfg, "disable_progressbar": True})
        except (ValueError, TypeError, KeyError) as exc:  # a preset value the agent or the trainer rejects
            raise CLIError(f"cannot build {args.agent.upper()} from {preset.source}: {exception_message(exc)}") from exc
    except BaseException:
        for opened in envs:
            opened.close()
        if created_run_dir is not None:
            shutil.rmtree(created_run_dir, ignore_errors=True)
        raise

    if preset.is_default:
        logger.warning(f"No preset for {env_id}: using the generic default preset ({preset.source})")
    rollouts = _update_period(agent, preset)
    if rollouts > 1 and vector_steps < rollouts:
        logger.warning(f"{vector_steps} vector steps are fewer than one rollout ({rollouts}): the agent will not learn")
    eval_interval = max(rollouts, round(eval_every / num_envs / rollouts) * rollouts) if eval_every else 0
    checkpoints = os.path.join(run_dir, "checkpoints")
    evaluate = _Evaluations(evaluator, agent, episodes, eval_max_steps, num_envs, checkpoints)
    return _Setup(env_id, preset, agent, trainer, evaluate, envs, run_dir, vector_steps, num_envs, eval_interval)


def _run(args: argparse.Namespace, setup: _Setup) -> int:
    """Train with periodic evaluations, then write the checkpoints, the learning curve and ``summary.json``."""
    from steprl.utils.plotting import plot_learning_curve

    agent, evaluate, run_dir, num_envs = setup.agent, setup.evaluate, setup.run_dir, setup.num_envs
    start = time.perf_counter()
    eval_time = 0.0
    try:
        for t in range(setup.vector_steps):
            setup.trainer.train(timestep=t)
            if setup.eval_interval and not (t + 1) % setup.eval_interval and t + 1 < setup.vector_steps:
                tick = time.perf_counter()
                evaluate(t + 1)
                eval_time += time.perf_counter() - tick
        train_time = time.perf_counter() - start - eval_time
        evaluate(setup.vector_steps)
        wall = time.perf_counter() - start
        agent.save(os.path.join(run_dir, "checkpoints", "final_agent.pt"))
        train_steps, train_returns = _train_curve(setup.trainer, num_envs)
        final = evaluate.history[-1]
        plot_learning_curve(
            os.path.join(run_dir, "learning_curve.png"),
            f"{args.agent.upper()} on {setup.env_id} (seed {args.seed})",
            [e["env_steps"] for e in evaluate.history],
            [e["mean"] for e in evaluate.history],
            [e["std"] for e in evaluate.history],
            train_steps,
            train_returns,
        )
    finally:
        for opened in setup.envs:
            opened.close()
        if agent.writer is not None:
            agent.writer.close()

    env_steps = setup.vector_steps * num_envs
    summary = {
        "env": setup.env_id,
        "agent": args.agent,
        "backend": args.backend,
        "seed": args.seed,
        "preset": setup.preset.source,
        "env_kwargs": setup.preset.env_kwargs,
        "timesteps": env_steps,
        "num_envs": num_envs,
        "eval_episodes": evaluate.episodes,
        "final_mean_return": _finite(final["mean"]),
        "final_std_return": _finite(final["std"]),
        "best_eval_mean_return": _finite(evaluate.best),
        "evaluations": [{key: _finite(value) for key, value in e.items()} for e in evaluate.history],
        "training_episodes": len(train_returns),
        "wall_time_s": wall,
        "train_time_s": train_time,
        "steps_per_s": env_steps / max(train_time, 1e-9),
    }
    with open(os.path.join(run_dir, "summary.json"), "w", encoding="utf-8") as file:
        json.dump(summary, file, indent=2)
    if final["episodes"]:
        print(f"Final evaluation: {final['mean']:.1f} ± {final['std']:.1f} over {int(final['episodes'])} episodes")
    else:
        print(f"Final evaluation: no episode ended within {evaluate.max_steps} steps")
    print(f"{env_steps} environment steps, {summary['steps_per_s']:.0f} steps/s (training), wall time {wall:.1f} s")
    print(f"Run directory: {run_dir}")
    return 0


def _finite(value: float) -> float | None:
    """``value``, or ``None`` for NaN/infinity (not valid JSON)."""
    return value if math.isfinite(value) else None


def _echo(line: str) -> None:
    """Print ``line`` without breaking a progress bar."""
    import tqdm

    tqdm.tqdm.write(line, file=sys.stdout)
