"""``steprl train``: check everything the user gave, build the preset's agent, train, evaluate and write the run.

Budgets count environment steps over all sub-environments: with ``--timesteps T --num-envs N`` the ManualTrainer
loop runs ``T // N`` vector steps. Evaluations run every ``--eval-every`` environment steps (rounded to whole
rollouts, so they happen right after an update) on a separate single environment with deterministic actions.
A run directory (see :mod:`steprl.cli.rundir`) holds the TensorBoard events, ``run.json``, ``progress.json``,
``checkpoints/`` (about 10 periodic ``agent_<vector step>.pt``, written at rollout boundaries for rollout-based
agents, plus ``best_agent.pt``, ``best_eval_agent.pt`` and ``final_agent.pt``; ``.ckpt`` files on JAX), ``learning_curve.png`` and
``summary.json``. ``--resume RUN_DIR`` continues a run from its newest periodic checkpoint.

Under ``torchrun`` (``WORLD_SIZE`` > 1, torch backend) the run is data-parallel: every rank steps its own
``--num-envs`` environments (torch seeded with ``seed + rank``, its sub-environments with ``seed + rank × num_envs``
onwards), gradients and running-scaler statistics are averaged over ranks, and the budget counts the environment
steps of all ranks (each runs ``T // (N × ranks)`` vector steps). Rank 0 alone locks and writes the run directory,
evaluates, checkpoints and prints; the other ranks only train.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import logging
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterator
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
    check_resume_dir,
    exception_message,
    guard_env,
    prepare_run_dir,
    resolve_env_id,
)
from steprl.cli.command import DEFAULT_AGENT, DEFAULT_ENV, DEFAULT_SEED
from steprl.cli.multi_agent import build_multi_agent, is_multi_agent_env_id, make_multi_agent_env, multi_agent_spaces
from steprl.cli.presets import (
    Preset,
    PresetError,
    available_agents,
    load_preset,
    parse_preset,
    preset_source,
    read_preset_file,
    resolve_agent_cfg,
)
from steprl.cli.registry import ALL_AGENTS, agents_for, import_path
from steprl.cli.rundir import (
    LOCK_FILE,
    PROGRESS_FILE,
    RUN_FILE,
    Curve,
    Progress,
    RunLock,
    RunSpec,
    checkpoint_path,
    newest_checkpoint,
    no_run_configuration,
    read_json,
    write_json,
)

__all__ = ["deferred_diagnostics", "run_train", "strict_config"]

UNLIMITED_EPISODE_STEPS = 10_000  # evaluation step budget per episode of an environment without a time limit
CHECKPOINTS = 10  # periodic checkpoints per run, about
HARVEST_EVERY = 1024  # vector steps between two moves of the training episodes into the curve


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


class _TrainingEpisodes:
    """Moves the training episodes the trainer completed into the run's curve (bounded, see :class:`Curve`).

    Called at least every ``HARVEST_EVERY`` vector steps, so the trainer needs to keep only the last
    ``HARVEST_EVERY × num_envs`` episodes (``episode_history``). An episode that ended at vector step ``e`` of
    this session (1-based) is placed at environment step ``(start + e) × num_envs`` (``num_envs``: the environment
    steps of one vector step over all ranks).
    """

    def __init__(self, trainer: Any, curve: Curve, start: int, num_envs: int) -> None:
        self.trainer, self.curve, self.start, self.num_envs = trainer, curve, start, num_envs
        self.seen = 0
        self._sum, self._count = 0.0, 0

    def harvest(self) -> None:
        """Add the episodes completed since the last call."""
        total = self.trainer.episode_count("train")
        new = total - self.seen
        if new <= 0:
            return
        returns = self.trainer.episode_returns("train")[-new:]
        ends = self.trainer.episode_end_steps("train")[-new:]
        self.seen = total
        self.curve.add([(self.start + end) * self.num_envs for end in ends], returns)
        self._sum += float(sum(returns))
        self._count += len(returns)

    def interval_mean(self) -> float | None:
        """Mean return of the episodes harvested since the last call (``None``: none)."""
        mean = self._sum / self._count if self._count else None
        self._sum, self._count = 0.0, 0
        return mean


class _Evaluations:
    """Deterministic evaluations on a second ManualTrainer: log, TensorBoard scalars and the best-eval checkpoint.

    Each evaluation runs ``episodes`` episodes within ``max_steps`` environment steps, so an environment whose
    episodes never end cannot stall the run (the episodes that ended are reported, or none). ``history`` is the
    run's list of evaluations (it continues a resumed run's). ``num_envs``: environment steps per vector step, over
    all ranks (a data-parallel run evaluates on rank 0 alone).
    """

    def __init__(
        self,
        trainer: Any,
        agent: Any,
        episodes: int,
        max_steps: int,
        num_envs: int,
        checkpoints: str,
        history: list[dict[str, float]] | None = None,
    ) -> None:
        self.trainer, self.agent, self.episodes, self.max_steps = trainer, agent, episodes, max_steps
        self.num_envs = num_envs
        self.best_path = os.path.join(checkpoints, f"best_eval_agent{agent.checkpoint_suffix}")
        self.history: list[dict[str, float]] = history if history is not None else []
        self.best = max((e["mean"] for e in self.history if math.isfinite(e["mean"])), default=-float("inf"))
        self.listener: Callable[[int, float], None] | None = None  # told (env steps, mean) after each evaluation

    def __call__(self, step: int) -> None:
        """Evaluate after ``step`` vector steps (the training trainer switches the agent back to training mode)."""
        returns = self.trainer.run_episodes(self.episodes, max_steps=self.max_steps)
        env_steps = step * self.num_envs
        if not returns:
            self.history.append({"env_steps": env_steps, "mean": math.nan, "std": math.nan, "episodes": 0})
            _echo(f"[eval] {env_steps} env steps: no episode ended within {self.max_steps} steps")
            if self.listener is not None:
                self.listener(env_steps, math.nan)
            return
        mean, std = float(np.mean(returns)), float(np.std(returns))
        self.history.append({"env_steps": env_steps, "mean": mean, "std": std, "episodes": len(returns)})
        if self.agent.writer is not None:  # same x axis (trainer timesteps) as the agent's own scalars
            self.agent.writer.add_scalar("Eval / Mean return", mean, step)
            self.agent.writer.add_scalar("Eval / Return std", std, step)
        if mean > self.best:
            self.best = mean
            save_models(self.agent, self.best_path)
        _echo(f"[eval] {env_steps} env steps: return {mean:.1f} ± {std:.1f}")
        if self.listener is not None:
            self.listener(env_steps, mean)


def save_models(agent: Any, path: str) -> None:
    """``agent.save(path)`` without the memory (a rollout or a replay buffer; every agent's, for a multi-agent
    ``{uid: {name: module}}`` layout): what acting, evaluating and fine-tuning need, at a fraction of the size; the
    periodic checkpoints keep the memories to resume."""
    modules = agent.checkpoint_modules
    multi_agent = getattr(agent, "possible_agents", None) is not None
    tables = [modules[uid] for uid in agent.possible_agents] if multi_agent else [modules]
    removed = [(table, table.pop("memory")) for table in tables if "memory" in table]
    try:
        agent.save(path)
    finally:
        for table, memory in removed:
            table["memory"] = memory


def _make_agent(preset: Preset, env: Any, run_dir: str, vector_steps: int, backend: str = "torch") -> Any:
    """The preset's agent on ``backend`` with its models and memory, writing ~100 TensorBoard points to ``run_dir``;
    built in strict configuration mode, so an unknown configuration key is an error. The command writes the
    checkpoints itself (the agent's ``checkpoint_interval`` is 0); replay agents store their memory in them."""
    RandomMemory = import_path(f"steprl.memories.{backend}:RandomMemory")  # noqa: N806 - a class

    entry = agents_for(backend)[preset.agent]
    if entry.multi_agent:
        with strict_config():
            cfg = resolve_agent_cfg(preset, multi_agent_spaces(env)[0], backend)
            return build_multi_agent(preset, env, run_dir, vector_steps, cfg, backend)
    with strict_config():
        cfg = resolve_agent_cfg(preset, env.observation_space, backend)
        cfg["experiment"] = {
            "directory": os.path.dirname(run_dir),
            "experiment_name": os.path.basename(run_dir),
            "write_interval": max(1, vector_steps // 100),
            "checkpoint_interval": 0,
        }
        memory = None
        if entry.memory == "rollout":
            rollouts = int(cfg.get("rollouts", entry.default_config()["rollouts"]))
            memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=env.device)
        elif entry.memory == "replay":
            memory = RandomMemory(memory_size=preset.memory_size, num_envs=env.num_envs, device=env.device)
            cfg["checkpoint_memory"] = True  # a resumed run continues with its replay buffer
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
    return int(agent.cfg["rollouts"]) if ALL_AGENTS[preset.agent].memory == "rollout" else 1


def _load_preset(env_id: str, agent: str, preset_file: str | None = None) -> tuple[Preset, Any]:
    """The preset of ``agent`` for ``env_id`` (from ``preset_file`` when given) and a single (evaluation) environment
    made with its ``env_kwargs``, after checking that the agent can act in that environment and that the preset has
    a table for it."""

    try:
        if preset_file is None:
            tables = available_agents(env_id)
            preset = load_preset(env_id, agent) if agent in tables else None
            source = preset_source(env_id)
        else:
            source = os.path.abspath(preset_file)
            data = read_preset_file(source)
            tables = sorted(data)
            preset = parse_preset(data, env_id, agent, source) if agent in tables else None
    except PresetError as exc:
        raise CLIError(exception_message(exc)) from exc
    env_kwargs = preset.env_kwargs if preset is not None else {}
    multi_agent = is_multi_agent_env_id(env_id)
    probe = _probe(env_id, env_kwargs)
    observation_space, action_space = multi_agent_spaces(probe) if multi_agent else (probe.observation_space, probe.action_space)
    try:
        check_agent_fits(agent, env_id, observation_space, action_space, tables, source, multi_agent)
        if preset is None:
            alternatives = agent_alternatives(env_id, observation_space, action_space, tables, source, multi_agent)
            raise CLIError(f"the preset for {env_id} ({source}) has no [{agent}] table; {alternatives}")
    except CLIError:
        probe.close()
        raise
    return preset, probe


def _probe(env_id: str, env_kwargs: dict[str, Any]) -> Any:
    """One copy of the environment (Gymnasium; a wrapped PettingZoo/VMAS one), also the evaluation environment."""
    if is_multi_agent_env_id(env_id):
        return guard_env(lambda: make_multi_agent_env(env_id, 1, env_kwargs), env_id)
    import gymnasium

    return guard_env(lambda: gymnasium.make(env_id, **env_kwargs), env_id)


@dataclasses.dataclass
class _Start:
    """Where a run starts: its spec, preset, directory and, when resumed, the checkpoint and saved progress."""

    spec: RunSpec
    preset: Preset
    probe: Any
    run_dir: str
    created_root: str | None = None  # removed when the run fails before training
    checkpoint: str | None = None
    start: int = 0  # vector steps already done
    progress: Progress = dataclasses.field(default_factory=Progress)


@dataclasses.dataclass
class _Setup:
    """Everything a checked, built run needs."""

    spec: RunSpec
    preset: Preset
    agent: Any
    trainer: Any
    evaluate: _Evaluations
    episodes: _TrainingEpisodes
    progress: Progress
    envs: list[Any]
    run_dir: str
    vector_steps: int
    start: int
    eval_interval: int
    checkpoint_interval: int
    checkpoint: str | None
    rank: int = 0  # this process's rank in a data-parallel run (0: the one that evaluates and writes)


def run_train(args: argparse.Namespace, on_evaluation: Callable[[int, float], None] | None = None) -> int:
    """Run ``steprl train`` with parsed ``args``; a user error raises :class:`CLIError` before training starts.
    The run directory is locked for the whole run (released at exit, also on errors and Ctrl-C).
    Under torchrun every rank runs this; the process group is left at the end, also on errors.
    ``on_evaluation(env_steps, mean_return)`` is called after each evaluation (NaN: no episode ended); what it
    raises stops the run (``steprl tune`` prunes trials this way)."""
    try:
        with RunLock() as lock:
            with deferred_diagnostics():
                setup = _setup(args, lock)
            setup.evaluate.listener = on_evaluation
            return _run(setup) if setup.rank == 0 else _follow(setup)
    except Exception as exc:
        if not _collective_failure(exc):
            raise
        print(
            f"steprl {args.command}: error: rank {config.torch.rank} lost the other ranks: one of them failed or "
            f"stopped (its error comes first; torchrun names it), or did not answer within the collective timeout "
            f"(STEPRL_DIST_TIMEOUT). {exception_message(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 1
    finally:
        if config.torch.is_distributed:
            from steprl.utils.distributed import torch as distributed

            distributed.stop()


def _collective_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective that failed (a peer failed, stopped or timed out): a ``RuntimeError`` raised
    inside ``torch.distributed`` (gloo reports a lost peer as a plain ``RuntimeError``) in a data-parallel run."""
    if not config.torch.is_distributed or not isinstance(exc, RuntimeError):
        return False
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    inside = os.path.join("torch", "distributed", "")
    return frame is not None and inside in frame.tb_frame.f_code.co_filename


def _setup(args: argparse.Namespace, lock: RunLock) -> _Setup:
    """Check every input, lock the run directory, then create the environments and build the agent and trainers
    (and load the checkpoint of a resumed run)."""
    check_args(args)
    backend = args.backend or "torch"
    check_dependencies(backend)
    begin = _begin(args, lock, _join_ranks(backend))
    try:
        _check_data_parallel(begin.spec)
        return _build(args, begin)
    except BaseException:
        lock.release()
        if begin.created_root is not None:
            shutil.rmtree(begin.created_root, ignore_errors=True)
        raise


def _join_ranks(backend: str) -> int:
    """The number of processes training together: torchrun's ``WORLD_SIZE`` (joined here), else 1."""
    if not config.torch.is_distributed:
        return 1
    if backend != "torch":
        raise CLIError(
            f"--backend {backend} cannot run under torchrun (WORLD_SIZE={config.torch.world_size}): torchrun's "
            "data-parallel training uses the torch backend; launch a JAX run as one process"
        )
    try:
        config.torch.init_distributed()
    except RuntimeError as exc:  # e.g. more processes on this node than GPUs, a rendezvous that failed
        raise CLIError(f"cannot join the other ranks: {exception_message(exc)}") from exc
    return config.torch.world_size


def _begin(args: argparse.Namespace, lock: RunLock, ranks: int) -> _Start:
    """Where the run starts. Data-parallel: rank 0 alone creates, checks and locks the run directory, then tells
    the other ranks where it is (or that it failed); they read the same run without touching it."""
    if ranks == 1:
        return _resume_run(args, lock) if args.resume is not None else _new_run(args, lock, 1)
    from steprl.utils.distributed import torch as distributed

    if config.torch.rank == 0:
        try:
            begin = _resume_run(args, lock, ranks) if args.resume is not None else _new_run(args, lock, ranks)
        except BaseException:
            distributed.broadcast_object(None)
            raise
        distributed.broadcast_object(begin.run_dir)
        return begin
    run_dir = distributed.broadcast_object(None)
    if run_dir is None:
        raise CLIError(f"rank 0 could not start the run (its error is above); rank {config.torch.rank} stops too")
    if args.resume is not None:
        return _resume_run(args, lock, ranks, owner=False)
    return _new_run(args, lock, ranks, shared_dir=run_dir)


def _check_data_parallel(spec: RunSpec) -> None:
    """A data-parallel run needs the torch backend (a resumed JAX run included) and an agent that averages
    gradients over ranks."""
    if spec.ranks == 1:
        return
    if spec.backend != "torch":
        raise CLIError(f"this run uses --backend {spec.backend}, which cannot run under torchrun; run it as one process")
    reason = getattr(agents_for(spec.backend)[spec.agent].agent_class(), "_not_distributed", "")
    if reason:
        raise CLIError(
            f"--agent {spec.agent} cannot train data-parallel under torchrun ({reason}); run it as one process, "
            "without torchrun"
        )


def _env_id(env_arg: str) -> str:
    """The id a run stores: a multi-agent ``<package>:<name>`` as given, a Gymnasium id resolved (registered)."""
    return env_arg if is_multi_agent_env_id(env_arg) else resolve_env_id(env_arg)


def _new_run(args: argparse.Namespace, lock: RunLock, ranks: int, shared_dir: str | None = None) -> _Start:
    """A new run: its directory created, writable, locked and free of another run; its preset loaded.
    ``shared_dir``: the directory rank 0 prepared (data-parallel ranks other than 0 leave it to rank 0)."""
    env_arg, agent = args.env or DEFAULT_ENV, args.agent or DEFAULT_AGENT
    env_id = _env_id(env_arg)
    run_dir = shared_dir or os.path.abspath(args.run_dir or _default_run_dir(env_id, agent))
    created_root = prepare_run_dir(run_dir) if shared_dir is None else None
    try:
        if shared_dir is None:
            lock.acquire(run_dir, "--run-dir")
            if os.path.exists(os.path.join(run_dir, RUN_FILE)):
                raise CLIError(
                    f"--run-dir {run_dir} already holds a run ({RUN_FILE}): continue it with --resume {run_dir}, "
                    "or choose another --run-dir"
                )
        preset, probe = _load_preset(env_id, agent, getattr(args, "preset_file", None))
    except BaseException:
        lock.release()
        if created_root is not None:
            shutil.rmtree(created_root, ignore_errors=True)
        raise
    spec = RunSpec(
        env=env_arg,
        env_id=env_id,
        agent=agent,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        backend=args.backend or "torch",
        timesteps=args.timesteps or preset.timesteps,
        num_envs=args.num_envs or preset.num_envs,
        eval_every=preset.eval_every if args.eval_every is None else args.eval_every,
        eval_episodes=args.eval_episodes or preset.eval_episodes,
        preset_source=preset.source,
        preset_default=preset.is_default,
        preset_table=preset.table,
        ranks=ranks,
    )
    return _Start(spec, preset, probe, run_dir, created_root)


def _resume_run(args: argparse.Namespace, lock: RunLock, ranks: int = 1, owner: bool = True) -> _Start:
    """A resumed run: its directory locked, its ``run.json`` read and compared with the options given, its newest
    checkpoint found and its saved progress cut back to that checkpoint. ``owner=False`` (data-parallel ranks
    other than 0): read only, rank 0 holds the lock."""

    run_dir = os.path.abspath(args.resume)
    check_resume_dir(run_dir)
    if not any(os.path.exists(os.path.join(run_dir, name)) for name in (RUN_FILE, LOCK_FILE)):
        raise no_run_configuration(run_dir)  # no run ever started here: leave the directory untouched
    if owner:
        lock.acquire(run_dir, "--resume")
    stored = RunSpec.read(run_dir)
    module = stored.env.split(":", 1)[0] + ":" if ":" in stored.env else ""
    if not is_multi_agent_env_id(stored.env_id):
        resolve_env_id(module + stored.env_id)  # imports the module that registers the environment
    spec = stored.resumed_with(args, run_dir, _env_id)
    if spec.ranks != ranks:
        raise CLIError(
            f"--resume {run_dir}: the run was trained by {spec.ranks} process(es), this command runs as {ranks}; "
            f"resume it with {spec.ranks} in all (torchrun --nnodes × --nproc_per_node; 1: without torchrun)"
        )
    found = newest_checkpoint(run_dir)
    if found is None:
        raise CLIError(
            f"--resume {run_dir} has no checkpoint to continue from (checkpoints/agent_<step>.pt): the run stopped "
            "before its first one; start a new run instead (remove this directory or choose another --run-dir)"
        )
    path, start = found
    stride = spec.num_envs * spec.ranks  # environment steps per vector step
    if start >= spec.timesteps // stride:
        done = start * stride
        raise CLIError(
            f"--resume {run_dir}: the run already finished ({done} environment steps, {os.path.basename(path)}); "
            f"give --timesteps {done + stride} or more to train it further"
        )
    try:
        preset = spec.preset()
    except PresetError as exc:
        raise CLIError(
            f"--resume {run_dir}: the preset table in {RUN_FILE} is not valid: {exception_message(exc)}"
        ) from exc
    probe = _probe(spec.env_id, preset.env_kwargs)
    progress = _read_progress(run_dir, start, stride)
    return _Start(spec, preset, probe, run_dir, None, path, start, progress)


def _read_progress(run_dir: str, start: int, num_envs: int) -> Progress:
    """The run's saved progress, cut back to vector step ``start`` (a fresh one, with a warning, if unreadable);
    ``num_envs``: environment steps per vector step over all ranks."""
    path = os.path.join(run_dir, PROGRESS_FILE)
    try:
        progress = Progress.from_dict(read_json(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning(f"{path} cannot be read ({exception_message(exc)}): the curve and evaluations restart empty")
        return Progress(timestep=start)
    if progress.timestep < start:
        logger.warning(
            f"{path} stops at vector step {progress.timestep}, before the checkpoint ({start}): "
            "the curve and evaluations in between are missing"
        )
    progress.trim(start, num_envs)
    progress.timestep = start
    return progress


def _resume_seed(seed: int, start: int) -> int:
    """The training environment's seed when resuming at ``start`` (fresh episodes, not those of the run's start)."""
    return int(np.random.SeedSequence([seed, start]).generate_state(1)[0])


def set_threads(backend: str, threads: int) -> None:
    """Use ``threads`` CPU threads: ``torch.set_num_threads``, or XLA's CPU flags for JAX (one thread: no Eigen
    thread pool). XLA reads its flags when JAX starts, so a JAX already started in this process keeps its own."""
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
        return
    if threads == 1 and "jax" not in sys.modules:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()


def _build(args: argparse.Namespace, begin: _Start) -> _Setup:
    """Create the environments, build the agent and its trainers; load the checkpoint of a resumed run."""
    import gymnasium

    from steprl.core.checkpoint import CheckpointError
    from steprl.utils import set_seed

    spec, preset, run_dir, start = begin.spec, begin.preset, begin.run_dir, begin.start
    backend = spec.backend
    set_threads(backend, args.threads)  # before JAX starts: XLA reads its thread flags once
    wrap_env = import_path(f"steprl.envs.wrappers.{backend}:wrap_env")
    ManualTrainer = import_path(f"steprl.trainers.{backend}:ManualTrainer")  # noqa: N806 - a class
    envs: list[Any] = [begin.probe]
    agent = None
    rank = config.torch.rank if spec.ranks > 1 else 0
    try:
        num_envs = spec.num_envs
        stride = num_envs * spec.ranks  # environment steps per vector step, over all ranks
        vector_steps = spec.timesteps // stride
        if vector_steps < 1:
            ranks = f" × {spec.ranks} ranks" if spec.ranks > 1 else ""
            raise CLIError(f"--timesteps ({spec.timesteps}) must be >= --num-envs ({num_envs}){ranks}: nothing to run")
        if args.device is not None and backend == "jax":
            config.jax.device = args.device  # the wrappers and memories place arrays on it
        elif args.device is not None:
            config.torch.device = check_device(args.device)  # the wrappers place tensors on it
        probe = begin.probe
        probe_spec = getattr(probe, "spec", None)
        episode_steps = probe_spec.max_episode_steps if probe_spec is not None else None
        eval_max_steps = 2 * spec.eval_episodes * (episode_steps or UNLIMITED_EPISODE_STEPS)  # twice the longest
        render = {"render_mode": "human"} if args.render else {}
        if is_multi_agent_env_id(spec.env_id):
            env = guard_env(
                lambda: make_multi_agent_env(spec.env_id, num_envs, preset.env_kwargs, backend=backend), spec.env_id
            )
            eval_env = make_multi_agent_env(spec.env_id, 1, preset.env_kwargs, backend=backend)  # on the chosen device
            envs.append(eval_env)
        else:
            env = guard_env(
                lambda: wrap_env(
                    gymnasium.make_vec(
                        spec.env_id, num_envs=num_envs, vectorization_mode="sync", **preset.env_kwargs, **render
                    ),
                    verbose=False,
                ),
                spec.env_id,
            )
            eval_env = wrap_env(probe, verbose=False)
        envs.append(env)
        seed = (_resume_seed(spec.seed, start) if start else spec.seed) + rank * num_envs  # no sub-env seed twice
        guard_env(lambda: env.reset(seed=seed), spec.env_id)  # rendering needs its packages from here on
        guard_env(lambda: eval_env.reset(seed=spec.seed + 1000), spec.env_id)

        set_seed(spec.seed)
        trainer_cfg = {
            "timesteps": vector_steps,
            "headless": True,
            "close_environment_at_exit": False,
            "disable_progressbar": True if args.no_progress else None,
            "episode_history": max(1000, HARVEST_EVERY * num_envs),  # what _TrainingEpisodes needs
        }
        try:
            agent = _make_agent(preset, env, run_dir, vector_steps, backend)
            if start and agent.write_interval > 0 and rank == 0:  # hide events a killed run wrote after its checkpoint
                with contextlib.suppress(ImportError):  # no TensorBoard: init() says so and writes nothing
                    agent.writer = agent._writer_class()(log_dir=agent.experiment_dir, purge_step=start + 1)
            with strict_config():
                trainer = ManualTrainer(env=env, agents=agent, cfg=trainer_cfg)
                evaluator = ManualTrainer(
                    env=eval_env, agents=agent, cfg={**trainer_cfg, "disable_progressbar": True, "episode_history": 100}
                )
        except (ValueError, TypeError, KeyError) as exc:  # a preset value the agent or the trainer rejects
            raise CLIError(f"cannot build {spec.agent.upper()} from {preset.source}: {exception_message(exc)}") from exc
        if begin.checkpoint is not None:
            try:
                agent.load(begin.checkpoint, resume=True)  # the RNG state too: the last thing before training
            except CheckpointError as exc:
                raise CLIError(f"--resume {run_dir}: cannot load {begin.checkpoint}: {exception_message(exc)}") from exc
            if agent.timestep != start:
                raise CLIError(
                    f"--resume {run_dir}: {begin.checkpoint} holds vector step {agent.timestep}, not {start} as its name says"
                )
            if rank:  # the checkpoint holds rank 0's generators: draw this rank's own again
                set_seed(_resume_seed(spec.seed, start))
    except BaseException:
        for opened in envs:
            opened.close()
        if agent is not None and agent.writer is not None:
            agent.writer.close()
        raise

    if preset.is_default:
        logger.warning(f"No preset for {spec.env_id}: using the generic default preset ({preset.source})")
    period = _update_period(agent, preset)
    if period > 1 and vector_steps < period:
        logger.warning(f"{vector_steps} vector steps are fewer than one rollout ({period}): the agent will not learn")
    eval_interval = max(period, round(spec.eval_every / stride / period) * period) if spec.eval_every else 0
    checkpoint_interval = max(period, round(vector_steps / CHECKPOINTS / period) * period)  # rollout boundaries
    progress = begin.progress
    history = progress.evaluations
    evaluate = _Evaluations(
        evaluator, agent, spec.eval_episodes, eval_max_steps, stride, os.path.join(run_dir, "checkpoints"), history
    )
    episodes = _TrainingEpisodes(trainer, progress.curve, start, stride)
    return _Setup(
        spec, preset, agent, trainer, evaluate, episodes, progress, envs, run_dir, vector_steps, start,
        eval_interval, checkpoint_interval, begin.checkpoint, rank,
    )  # fmt: skip


def _checkpoint(setup: _Setup, step: int) -> None:
    """After ``step`` vector steps: ``best_agent.pt`` when this interval's mean training return is the best so far,
    then ``progress.json``, then ``checkpoints/agent_<step>.pt`` (in this order, so the progress file is never
    older than the newest checkpoint)."""
    progress = setup.progress
    mean = setup.episodes.interval_mean()
    if mean is not None:
        best = max((e["mean"] for e in progress.train_means if math.isfinite(e["mean"])), default=-math.inf)
        progress.train_means.append({"timestep": step, "mean": mean})
        if mean > best:
            save_models(setup.agent, os.path.join(setup.run_dir, "checkpoints", f"best_agent{setup.agent.checkpoint_suffix}"))
    progress.timestep = step
    write_json(os.path.join(setup.run_dir, PROGRESS_FILE), progress.to_dict(), indent=None)
    setup.agent.save(checkpoint_path(setup.run_dir, step, setup.agent.checkpoint_suffix))


def _run(setup: _Setup) -> int:
    """Train with periodic evaluations and checkpoints, then write the final checkpoints, the learning curve and
    ``summary.json``."""
    from steprl.utils.plotting import plot_learning_curve

    spec, agent, evaluate, progress = setup.spec, setup.agent, setup.evaluate, setup.progress
    run_dir, num_envs, start = setup.run_dir, setup.spec.num_envs * setup.spec.ranks, setup.start
    write_json(os.path.join(run_dir, RUN_FILE), spec.to_dict())  # a larger --timesteps is the new budget
    if setup.checkpoint is not None:
        progress.resumed_from.append(start * num_envs)
        print(f"Resuming {run_dir} at {start * num_envs} environment steps ({os.path.basename(setup.checkpoint)})")
    session = time.perf_counter()
    wall_before, train_before = progress.wall_time_s, progress.train_time_s
    eval_time = 0.0

    def clock() -> None:
        elapsed = time.perf_counter() - session
        progress.wall_time_s = wall_before + elapsed
        progress.train_time_s = train_before + elapsed - eval_time

    def evaluate_at(step: int) -> None:
        nonlocal eval_time
        tick = time.perf_counter()
        evaluate(step)
        eval_time += time.perf_counter() - tick

    try:
        for t in range(start, setup.vector_steps):
            setup.trainer.train(timestep=t)
            step = t + 1
            if step >= setup.vector_steps:
                break
            due_eval = bool(setup.eval_interval) and not step % setup.eval_interval
            due_checkpoint = not step % setup.checkpoint_interval
            if due_eval or due_checkpoint or not step % HARVEST_EVERY:
                setup.episodes.harvest()
            if due_eval:
                evaluate_at(step)
            if due_checkpoint:
                clock()
                _checkpoint(setup, step)
        setup.episodes.harvest()
        evaluate_at(setup.vector_steps)
        clock()
        progress.finished = True
        _checkpoint(setup, setup.vector_steps)
        save_models(agent, os.path.join(run_dir, "checkpoints", f"final_agent{agent.checkpoint_suffix}"))
        final = evaluate.history[-1]
        train_steps, train_returns = progress.curve.points()
        plot_learning_curve(
            os.path.join(run_dir, "learning_curve.png"),
            f"{spec.agent.upper()} on {spec.env_id} (seed {spec.seed})",
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

    env_steps = setup.vector_steps * num_envs  # over all ranks
    summary = {
        "env": spec.env_id,
        "agent": spec.agent,
        "backend": spec.backend,
        "seed": spec.seed,
        "preset": setup.preset.source,
        "env_kwargs": setup.preset.env_kwargs,
        "timesteps": env_steps,
        "num_envs": spec.num_envs,
        "ranks": spec.ranks,
        "eval_episodes": evaluate.episodes,
        "final_mean_return": _finite(final["mean"]),
        "final_std_return": _finite(final["std"]),
        "best_eval_mean_return": _finite(evaluate.best),
        "evaluations": [{key: _finite(value) for key, value in e.items()} for e in evaluate.history],
        "training_episodes": progress.curve.episodes,
        "resumed_from": progress.resumed_from,
        "wall_time_s": progress.wall_time_s,
        "train_time_s": progress.train_time_s,
        "steps_per_s": env_steps / max(progress.train_time_s, 1e-9),
    }
    write_json(os.path.join(run_dir, "summary.json"), summary)
    if final["episodes"]:
        print(f"Final evaluation: {final['mean']:.1f} ± {final['std']:.1f} over {int(final['episodes'])} episodes")
    else:
        print(f"Final evaluation: no episode ended within {evaluate.max_steps} steps")
    wall = progress.wall_time_s
    print(f"{env_steps} environment steps, {summary['steps_per_s']:.0f} steps/s (training), wall time {wall:.1f} s")
    print(f"Run directory: {run_dir}")
    return 0


def _follow(setup: _Setup) -> int:
    """A data-parallel rank other than 0: train in step with rank 0 (the agents average gradients and scaler
    statistics over ranks); rank 0 alone evaluates, checkpoints and writes the run."""
    try:
        for t in range(setup.start, setup.vector_steps):
            setup.trainer.train(timestep=t)
    finally:
        for opened in setup.envs:
            opened.close()
    return 0


def _finite(value: float) -> float | None:
    """``value``, or ``None`` for NaN/infinity (not valid JSON)."""
    return value if math.isfinite(value) else None


def _echo(line: str) -> None:
    """Print ``line`` without breaking a progress bar."""
    import tqdm

    tqdm.tqdm.write(line, file=sys.stdout)
