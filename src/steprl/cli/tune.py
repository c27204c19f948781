"""``steprl tune``: search an agent's preset hyperparameters with Optuna.

Each trial is a set of values of the agent family's search space (:mod:`steprl.cli.tune_space`) applied to the
environment's preset table, trained once per seed by ``steprl train`` itself (``run_train`` with the trial's
table as ``--preset-file``). The objective is the mean over the seeds of the final deterministic evaluation. Every
evaluation of every seed is reported to Optuna's median pruner (step = evaluation index, counted over the seeds in
order), so a trial whose curve falls below the median of earlier trials at the same point stops early.

The run directory holds ``study.db`` (the Optuna study, SQLite: running the command again on the directory
continues the study up to ``--trials`` finished trials), ``trial_<n>/`` (the trial's preset and one run directory
and log per seed), ``best_preset.toml``, ``trials.csv``/``trials.md`` and ``param_importances.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing
import os
import shutil
import sys
from typing import Any

from steprl.cli.checks import MAX_SEED, CLIError, check_dependencies, prepare_run_dir
from steprl.cli.rundir import LOCK_FILE, RunLock
from steprl.cli.tune_space import describe_spaces

__all__ = ["add_tune_parser", "run_tune"]

STUDY_FILE = "study.db"
BEST_FILE = "best_preset.toml"
DEFAULT_SEEDS = "0,1,2"
_SPEC_KEYS = ("env_id", "agent", "backend", "seeds", "timesteps")


def add_tune_parser(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``steprl tune`` on the sub-command parsers ``sub``."""
    tune = sub.add_parser(
        "tune",
        help="search an agent's hyperparameters with Optuna (each trial: steprl train on several seeds)",
        description=(
            "Search the hyperparameters of an agent's preset with Optuna: TPE sampler (seeded), median pruner fed "
            "by every evaluation of the training runs, study stored in RUN_DIR/study.db (running the command again "
            "on RUN_DIR continues the study up to --trials finished trials). Each trial trains the environment's "
            "preset with the trial's values once per seed, as steprl train does; its objective is the mean final "
            "deterministic evaluation over the seeds. Writes RUN_DIR/best_preset.toml (use it with steprl train "
            "--preset-file, or copy its table into a preset file), trials.csv, trials.md and param_importances.png. "
            f"Search spaces (per agent family; an agent searches the keys it has): {describe_spaces()}. width sets "
            "every hidden layer; learning_starts also sets random_timesteps; a LinearLR schedule keeps its shape."
        ),
        formatter_class=formatter,
    )
    tune.add_argument("--env", required=True, help="Gymnasium environment id ([module:]id), as for steprl train")
    tune.add_argument("--agent", required=True, help="agent to tune (a table of the environment's preset)")
    tune.add_argument("--trials", type=int, required=True, help="finished trials the study should hold")
    tune.add_argument("--seeds", default=DEFAULT_SEEDS, help="comma-separated training seeds of every trial")
    tune.add_argument("--timesteps", type=int, default=None, help="environment steps per run (default: preset)")
    tune.add_argument("--n-jobs", type=int, default=1, help="trials run at the same time (one process each)")
    tune.add_argument("--run-dir", default=None, help="study directory (default: runs/tune_<env>_<agent>)")
    tune.add_argument("--backend", default="torch", choices=("torch", "jax"), help="tensor backend")
    tune.add_argument("--study-name", default=None, help="name of the study in study.db (default: <env>_<agent>)")
    tune.add_argument("--sampler-seed", type=int, default=0, help="seed of the TPE sampler")


@dataclasses.dataclass(frozen=True)
class TuneSpec:
    """What a study searches: it must not change when the study continues (stored in the study's attributes)."""

    env: str
    env_id: str
    agent: str
    backend: str
    seeds: tuple[int, ...]
    timesteps: int | None
    run_dir: str
    study_name: str
    sampler_seed: int

    def attrs(self) -> dict[str, Any]:
        """The values a continued study must share."""
        return {"env_id": self.env_id, "agent": self.agent, "backend": self.backend, "seeds": list(self.seeds),
                "timesteps": self.timesteps}  # fmt: skip

    @property
    def storage(self) -> str:
        """The Optuna storage URL of the study."""
        return f"sqlite:///{os.path.join(self.run_dir, STUDY_FILE)}"


def _parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` as seeds; a :class:`CLIError` for anything else."""
    try:
        seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        seeds = ()
    if not seeds or any(not 0 <= s <= MAX_SEED for s in seeds) or len(set(seeds)) != len(seeds):
        raise CLIError(
            f"--seeds must be distinct integers in [0, {MAX_SEED}] separated by commas, e.g. --seeds 0,1,2; got {text!r}"
        )
    return seeds


def _check(args: argparse.Namespace) -> TuneSpec:
    """Every option, the agent, the environment and its preset; a :class:`CLIError` naming what is wrong."""
    from steprl.cli.registry import agents_for
    from steprl.cli.train import _env_id, _load_preset

    if args.trials < 1:
        raise CLIError(f"--trials must be >= 1, got {args.trials}")
    if args.n_jobs < 1:
        raise CLIError(f"--n-jobs must be >= 1, got {args.n_jobs}")
    if args.timesteps is not None and args.timesteps < 1:
        raise CLIError(f"--timesteps must be >= 1, got {args.timesteps}")
    seeds = _parse_seeds(args.seeds)
    agents = agents_for(args.backend)
    if args.agent not in agents:
        from steprl.core.cfg import closest_key

        hint = closest_key(args.agent, list(agents))
        raise CLIError(
            f"unknown agent '{args.agent}' for --backend {args.backend}"
            + (f"; did you mean '{hint}'?" if hint else "")
            + f" Choose one of {', '.join(agents)}"
        )
    for option, value in (("--run-dir", args.run_dir), ("--study-name", args.study_name)):
        if value is not None and not value.strip():
            raise CLIError(f"{option} must not be empty")
    check_dependencies(args.backend)
    try:
        import optuna  # noqa: F401
    except ImportError as exc:
        raise CLIError('optuna is not installed: pip install "steprl[tune]" (steprl tune searches with Optuna)') from exc
    env_id = _env_id(args.env)
    _, probe = _load_preset(env_id, args.agent)  # the agent fits the environment and the preset has its table
    probe.close()
    run_dir = os.path.abspath(args.run_dir or os.path.join("runs", f"tune_{env_id.replace('/', '_')}_{args.agent}"))
    name = args.study_name or f"{env_id}_{args.agent}"
    return TuneSpec(args.env, env_id, args.agent, args.backend, seeds, args.timesteps, run_dir, name, args.sampler_seed)


def _open_run_dir(spec: TuneSpec, lock: RunLock) -> str | None:
    """Create (or reopen) and lock the study directory; returns the directory created, if any."""
    others = set(os.listdir(spec.run_dir)) - {LOCK_FILE} if os.path.isdir(spec.run_dir) else set()
    if others and not os.path.isfile(os.path.join(spec.run_dir, STUDY_FILE)):
        raise CLIError(
            f"--run-dir {spec.run_dir} is not empty and holds no steprl tune study ({STUDY_FILE}): choose a new or "
            "empty directory"
        )
    created = prepare_run_dir(spec.run_dir)
    shutil.rmtree(os.path.join(spec.run_dir, "checkpoints"), ignore_errors=True)  # a train run's folder, not ours
    lock.acquire(spec.run_dir, "--run-dir", "steprl tune")
    return created


def _load_study(spec: TuneSpec, worker: int = 0) -> Any:
    """The study of ``spec`` (created when new): TPE seeded with ``sampler_seed + worker``, median pruner."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=spec.sampler_seed + worker, n_startup_trials=5)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    return optuna.create_study(
        storage=spec.storage, sampler=sampler, pruner=pruner, study_name=spec.study_name, direction="maximize",
        load_if_exists=True,
    )  # fmt: skip


def _check_study(study: Any, spec: TuneSpec) -> None:
    """A continued study searched the same thing; a new one records what it searches."""
    stored = study.user_attrs.get("spec")
    if stored is None:
        study.set_user_attr("spec", spec.attrs())
        return
    different = [key for key in _SPEC_KEYS if stored.get(key) != spec.attrs()[key]]
    if different:
        was = ", ".join(f"{key} {stored.get(key)}" for key in different)
        now = ", ".join(f"{key} {spec.attrs()[key]}" for key in different)
        raise CLIError(
            f"--run-dir {spec.run_dir}: study '{spec.study_name}' searches {was}, not {now}; give its own options to "
            "continue it, or another --run-dir or --study-name"
        )


def _requeue_interrupted(study: Any) -> int:
    """Trials an interrupted command left running (killed) or failed (Ctrl-C): marked failed and queued again once
    with the same values; a trial that failed on its own (its ``error`` attribute) is not retried."""
    import optuna

    states = optuna.trial.TrialState
    requeued = set(study.user_attrs.get("requeued", []))
    count = 0
    for trial in study.trials:
        if trial.number in requeued or "error" in trial.user_attrs or trial.state not in (states.RUNNING, states.FAIL):
            continue
        if trial.state == states.RUNNING:
            study.tell(trial.number, state=states.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, skip_if_exists=False)
        requeued.add(trial.number)
        count += 1
    if count:
        study.set_user_attr("requeued", sorted(requeued))
    return count


def _finished(study: Any) -> int:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sum(1 for t in study.trials if t.state in states)


def run_tune(args: argparse.Namespace) -> int:
    """Run ``steprl tune`` with parsed ``args``; user errors raise :class:`CLIError` before any trial starts."""
    from steprl.cli.train import deferred_diagnostics

    with RunLock() as lock:
        with deferred_diagnostics():
            spec = _check(args)
            created = _open_run_dir(spec, lock)
            try:
                study = _load_study(spec)
                _check_study(study, spec)
            except BaseException:
                lock.release()
                if created is not None:
                    shutil.rmtree(created, ignore_errors=True)
                raise
        requeued = _requeue_interrupted(study)
        done = _finished(study)
        missing = max(0, args.trials - done)
        print(
            f"steprl tune: {spec.agent.upper()} on {spec.env_id} ({spec.backend}), seeds "
            f"{','.join(map(str, spec.seeds))}: {done} finished trial(s) in {spec.run_dir}, {missing} to run"
            + (f" ({requeued} interrupted trial(s) queued again)" if requeued else ""),
            flush=True,
        )
        if missing == 0:
            print(f"the study already holds {done} finished trials: give --trials {done + 1} or more to search further")
        elif args.n_jobs == 1 or missing == 1:
            _optimize(spec, missing)
        else:
            _optimize_in_processes(spec, missing, args.n_jobs)
        from steprl.cli.tune_report import write_outputs

        print(write_outputs(_load_study(spec), spec))
    return 0


def _optimize(spec: TuneSpec, trials: int, worker: int = 0) -> None:
    """Run ``trials`` trials of the study in this process."""
    from steprl.cli.tune_trial import TrialFailed, objective, progress_line

    study = _load_study(spec, worker)
    study.optimize(
        lambda trial: objective(trial, spec),
        n_trials=trials,
        catch=(TrialFailed,),
        callbacks=[lambda s, t: print(progress_line(s, t, spec), flush=True)],
    )


def _worker(spec: TuneSpec, trials: int, worker: int) -> None:
    """A process of ``--n-jobs``: its share of the trials (its TPE sampler seeded apart)."""
    with contextlib.suppress(KeyboardInterrupt):
        _optimize(spec, trials, worker)


def _optimize_in_processes(spec: TuneSpec, trials: int, jobs: int) -> None:
    """Run ``trials`` trials on ``jobs`` processes sharing the study's storage."""
    jobs = min(jobs, trials)
    shares = [trials // jobs + (i < trials % jobs) for i in range(jobs)]
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(spec, n, i)) for i, n in enumerate(shares)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.join(timeout=30)
        raise
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed:
        print(f"steprl tune: {len(failed)} worker process(es) failed (exit codes {failed})", file=sys.stderr)

