"""``steprl train --config FILE``: train what a runner configuration (skrl's YAML format) describes on ``--env``.

The configuration names the models, memory, agent and trainer (see :mod:`steprl.core.runner.spec`); the command
adds the environment: ``--env`` (a Gymnasium id, or a PettingZoo/VMAS id for IPPO/MAPPO), ``--num-envs``
sub-environments, ``--backend``. ``--seed`` replaces the configuration's ``seed``; ``--timesteps`` (environment
steps over all sub-environments, as everywhere in the command) replaces ``trainer.timesteps`` by
``timesteps // num_envs`` vector steps; ``--run-dir`` replaces ``agent.experiment`` ``directory`` and
``experiment_name``. After training, the agent is evaluated deterministically on ``--eval-episodes`` episodes.
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

from steprl.cli.checks import CLIError, check_args, exception_message, guard_env
from steprl.cli.command import DEFAULT_ENV

__all__ = ["CONFIG_NUM_ENVS", "CONFIG_EVAL_EPISODES", "run_config"]

CONFIG_NUM_ENVS = 4  # sub-environments when --num-envs is not given
CONFIG_EVAL_EPISODES = 10  # evaluation episodes when --eval-episodes is not given
# options of preset runs that a configuration run does not take (the configuration says it)
_PRESET_OPTIONS = {"agent": "--agent", "resume": "--resume", "eval_every": "--eval-every"}


def _check(args: argparse.Namespace) -> None:
    for name, option in _PRESET_OPTIONS.items():
        if getattr(args, name, None) is not None:
            raise CLIError(f"{option} is for preset runs: with --config the configuration names the agent")
    check_args(args)
    if args.device is not None and (args.backend or "torch") != "torch":
        raise CLIError("--device with --config is for --backend torch (JAX picks its default device)")


def _load(args: argparse.Namespace, num_envs: int) -> dict[str, Any]:
    """The configuration with the command's options applied."""
    from steprl.core.runner import RunnerConfigError, load_yaml

    try:
        cfg = load_yaml(args.config)
    except RunnerConfigError as exc:
        raise CLIError(f"--config: {exception_message(exc)}") from exc
    for section in ("agent", "trainer"):
        if cfg.get(section) is None:
            cfg[section] = {}  # an empty section: the runner names what it lacks
        elif not isinstance(cfg[section], dict):
            raise CLIError(f"--config {args.config}: section '{section}' must be a mapping of keys")
    if args.seed is not None:
        cfg["seed"] = args.seed
    trainer = cfg["trainer"]
    if args.timesteps is not None:
        if args.timesteps < num_envs:
            raise CLIError(f"--timesteps ({args.timesteps}) must be >= --num-envs ({num_envs}): nothing to run")
        trainer["timesteps"] = args.timesteps // num_envs
    trainer["headless"] = not args.render
    if args.no_progress:
        trainer["disable_progressbar"] = True
    if args.run_dir is not None:
        run_dir = os.path.abspath(args.run_dir)
        experiment = cfg["agent"].setdefault("experiment", {})
        if experiment is None:
            experiment = cfg["agent"]["experiment"] = {}
        if not isinstance(experiment, dict):
            raise CLIError(f"--config {args.config}: agent.experiment must be a mapping of keys")
        experiment.update(directory=os.path.dirname(run_dir), experiment_name=os.path.basename(run_dir))
    return cfg


def _make_env(env_id: str, num_envs: int, backend: str, render: bool, seed: int | None) -> Any:
    from steprl.cli.multi_agent import is_multi_agent_env_id, make_multi_agent_env

    if is_multi_agent_env_id(env_id):
        env = guard_env(lambda: make_multi_agent_env(env_id, num_envs, {}, backend=backend), env_id)
    else:
        import gymnasium

        from steprl.cli.checks import resolve_env_id

        if backend == "torch":
            from steprl.envs.wrappers.torch import wrap_env
        else:
            from steprl.envs.wrappers.jax import wrap_env
        env_id = resolve_env_id(env_id)
        kwargs = {"render_mode": "human"} if render else {}
        env = guard_env(
            lambda: wrap_env(
                gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs), verbose=False
            ),
            env_id,
        )
    guard_env(lambda: env.reset(seed=seed), env_id)
    return env


def run_config(args: argparse.Namespace) -> int:
    """Run ``steprl train --config FILE``; a user error raises :class:`CLIError` before training starts."""
    from steprl.cli.train import deferred_diagnostics, set_threads

    _check(args)
    backend = args.backend or "torch"
    num_envs = args.num_envs or CONFIG_NUM_ENVS
    set_threads(backend, args.threads)
    with deferred_diagnostics():
        cfg = _load(args, num_envs)
        if args.device is not None:
            from steprl import config
            from steprl.cli.checks import check_device

            config.torch.device = check_device(args.device)
        env = _make_env(args.env or DEFAULT_ENV, num_envs, backend, args.render, cfg.get("seed"))
        runner = _build_runner(args.config, env, cfg, backend)
    runner.run("train")
    trainer = runner.trainer
    returns = trainer.episode_returns("train")
    if returns:
        recent = returns[-10:]
        print(f"training: {len(returns)} episodes, mean return of the last {len(recent)}: {statistics.fmean(recent):.2f}")
    episodes = args.eval_episodes or CONFIG_EVAL_EPISODES
    evaluation = trainer.run_episodes(episodes)
    spread = statistics.pstdev(evaluation) if len(evaluation) > 1 else 0.0
    print(f"evaluation return: {statistics.fmean(evaluation):.2f} +/- {spread:.2f} over {len(evaluation)} episodes")
    directory = getattr(runner.agent, "experiment_dir", None)
    if directory:
        print(f"experiment directory: {directory}")
    return 0


def _build_runner(path: str, env: Any, cfg: dict[str, Any], backend: str) -> Any:
    from steprl.core.runner import RunnerConfigError

    if backend == "torch":
        from steprl.utils.runner.torch import Runner
    else:
        from steprl.utils.runner.jax import Runner
    try:
        return Runner(env, cfg)
    except RunnerConfigError as exc:
        raise CLIError(f"--config {path}: {exception_message(exc)}") from exc
    except (ValueError, TypeError, KeyError) as exc:  # raised by a class the configuration names, on its values
        raise CLIError(f"--config {path}: cannot build it: {exception_message(exc)}") from exc
