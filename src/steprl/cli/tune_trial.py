"""One trial of ``steprl tune``: choose the values, write the trial's preset, train it on every seed with
``steprl train`` (its evaluations reported to the pruner) and return the mean final evaluation."""

from __future__ import annotations

import contextlib
import math
import os
import statistics
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from steprl.cli.checks import exception_message
from steprl.cli.tune_report import preset_toml
from steprl.cli.tune_space import apply_params, family_of, space_for

if TYPE_CHECKING:
    from steprl.cli.tune import TuneSpec

__all__ = ["TrialFailed", "objective", "progress_line", "trial_table"]


class TrialFailed(Exception):
    """A trial's training run failed (a value the agent rejects, a run that raised, no episode evaluated)."""


class _Reporter:
    """Reports every evaluation of a trial's runs to Optuna (step: evaluation index over the seeds in order) and
    prunes the trial when the pruner says so."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.step = 0

    def __call__(self, env_steps: int, mean: float) -> None:
        import optuna

        step, self.step = self.step, self.step + 1
        if not math.isfinite(mean):
            return
        self.trial.report(mean, step)
        if self.trial.should_prune():
            self.trial.set_user_attr("pruned_at", {"evaluation": step, "env_steps": env_steps, "return": mean})
            raise optuna.TrialPruned(f"pruned at evaluation {step} ({env_steps} env steps, return {mean:.1f})")


def trial_table(trial: Any, spec: TuneSpec) -> dict[str, Any]:
    """The preset table trial ``trial`` trains: the environment's preset with the trial's suggested values."""
    from steprl.cli.registry import agents_for
    from steprl.cli.train import _load_preset

    preset, probe = _load_preset(spec.env_id, spec.agent)
    probe.close()
    entry = agents_for(spec.backend)[spec.agent]
    family = family_of(spec.agent, entry.memory)
    defaults = entry.default_config()
    space = space_for(family, defaults, entry.valid_network_keys(), preset.table)
    values = {param.name: param.suggest(trial) for param in space}
    return apply_params(family, preset.table, values, space, defaults, spec.timesteps)


@contextlib.contextmanager
def _quiet(log_path: str) -> Iterator[None]:
    """Send a run's output (its lines, warnings and steprl's info records) to ``log_path``."""
    import logging

    from steprl import logger

    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        logger.setLevel(level)


def _train(spec: TuneSpec, seed: int, preset_file: str, trial_dir: str, reporter: _Reporter) -> float:
    """``steprl train`` of the trial's preset with ``seed``; its final evaluation's mean return."""
    import optuna

    from steprl.cli.command import build_parser
    from steprl.cli.rundir import read_json
    from steprl.cli.train import run_train

    run_dir = os.path.join(trial_dir, f"seed_{seed}")
    argv = ["train", "--env", spec.env, "--agent", spec.agent, "--seed", str(seed), "--backend", spec.backend,
            "--preset-file", preset_file, "--run-dir", run_dir, "--no-progress"]  # fmt: skip
    args = build_parser().parse_args(argv)
    try:
        with _quiet(f"{run_dir}.log"):
            run_train(args, on_evaluation=reporter)
    except optuna.TrialPruned:
        raise
    except Exception as exc:  # a run that fails (a CLIError too) fails its trial, not the study
        raise TrialFailed(f"seed {seed}: {exception_message(exc)} (log: {run_dir}.log)") from exc
    final = read_json(os.path.join(run_dir, "summary.json"))["final_mean_return"]
    if final is None:
        raise TrialFailed(f"seed {seed}: no evaluation episode ended (log: {run_dir}.log)")
    return float(final)


def objective(trial: Any, spec: TuneSpec) -> float:
    """Train trial ``trial`` on every seed; the mean of the final evaluations."""
    table = trial_table(trial, spec)
    trial.set_user_attr("table", table)
    trial_dir = os.path.join(spec.run_dir, f"trial_{trial.number:04d}")
    os.makedirs(trial_dir, exist_ok=True)
    preset_file = os.path.join(trial_dir, "preset.toml")
    comments = [f"steprl tune trial {trial.number}: {spec.agent} on {spec.env_id}", *_params_lines(trial.params)]
    with open(preset_file, "w", encoding="utf-8") as file:
        file.write(preset_toml(spec.agent, table, comments))
    reporter = _Reporter(trial)
    returns: list[float] = []
    for seed in spec.seeds:
        try:
            returns.append(_train(spec, seed, preset_file, trial_dir, reporter))
        except TrialFailed as exc:
            trial.set_user_attr("error", str(exc))
            raise
        trial.set_user_attr("returns", returns)
    return statistics.fmean(returns)


def _params_lines(params: dict[str, Any]) -> list[str]:
    return [", ".join(f"{name} {_short(value)}" for name, value in params.items())] if params else []


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def progress_line(study: Any, trial: Any, spec: TuneSpec) -> str:
    """One line on a finished trial: its state and objective, the seeds' returns, its values, its time, the best."""
    import optuna

    state = trial.state
    duration = trial.duration.total_seconds() if trial.duration is not None else 0.0
    if state == optuna.trial.TrialState.COMPLETE:
        returns = ", ".join(f"{r:.1f}" for r in trial.user_attrs.get("returns", []))
        what = f"{trial.value:.1f} (seeds {','.join(map(str, spec.seeds))}: {returns})"
    elif state == optuna.trial.TrialState.PRUNED:
        at = trial.user_attrs.get("pruned_at", {})
        what = f"pruned at evaluation {at.get('evaluation')} ({at.get('env_steps')} env steps, return {at.get('return', math.nan):.1f})"
    else:
        what = f"failed: {trial.user_attrs.get('error', state.name)}"
    try:
        best = f"best: trial {study.best_trial.number} ({study.best_value:.1f})"
    except ValueError:
        best = "best: none yet"
    params = "; ".join(_params_lines(trial.params))
    return f"[trial {trial.number}] {what} | {params} | {duration:.0f} s | {best}"
