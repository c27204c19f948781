"""The run directory of ``steprl train``: its lock, its configuration, its checkpoints and its saved progress.

A run directory holds, besides the TensorBoard events and ``learning_curve.png``:

- ``.lock``: an exclusive ``flock`` held by the process that runs in the directory (the file records its PID); the
  kernel releases it when that process ends, however it ends, so a stale file never blocks;
- ``run.json``: the run's configuration (environment, agent, seed, budget, preset table), written when training
  starts; ``--resume`` reads it back;
- ``progress.json``: what the command itself accumulates (evaluations, the training curve, the best training
  return, times), written right before each periodic checkpoint, so it is never older than the newest one;
- ``checkpoints/agent_<vector step>.pt`` (``.ckpt`` on JAX): the periodic checkpoints (:meth:`Agent.save`: everything needed to resume).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from steprl import __version__
from steprl.cli.checks import CLIError, exception_message
from steprl.cli.presets import Preset, parse_preset
from steprl.core.checkpoint import atomic_write

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CHECKPOINT_PATTERN",
    "LOCK_FILE",
    "PROGRESS_FILE",
    "RUN_FILE",
    "Curve",
    "Progress",
    "RunLock",
    "RunSpec",
    "checkpoint_path",
    "newest_checkpoint",
    "no_run_configuration",
    "read_json",
    "write_json",
]

LOCK_FILE = ".lock"
RUN_FILE = "run.json"
RUN_FORMAT = 1
PROGRESS_FILE = "progress.json"
CHECKPOINT_PATTERN = re.compile(r"agent_(\d+)\.(?:pt|ckpt)")  # torch / JAX checkpoint files
_PID_WAIT_S = 1.0  # how long to wait for a lock holder that has not written its PID yet


class RunLock:
    """An exclusive lock on a run directory (``flock`` on ``<dir>/.lock``, held open; the file records the PID).

    :meth:`acquire` fails at once with a :class:`CLIError` naming the holder's PID; :meth:`release` (idempotent)
    also runs at exit through the context manager. Without ``fcntl`` (not POSIX) nothing is locked.
    """

    def __init__(self) -> None:
        self._fd: int | None = None
        self.path: str | None = None

    def acquire(self, run_dir: str, option: str, command: str = "steprl train") -> None:
        """Lock ``run_dir`` (``option`` and ``command`` name the command-line option and the command in messages)."""
        if fcntl is None or self._fd is not None:
            return
        path = os.path.join(run_dir, LOCK_FILE)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CLIError(f"{option} {run_dir} is not writable: {exc.strerror or exception_message(exc)}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _holder_pid(fd)
            os.close(fd)
            raise CLIError(
                f"run directory {run_dir} is in use by another {command} (PID {pid}); wait for it to end or stop it"
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd, self.path = fd, path

    def release(self) -> None:
        """Clear the PID and unlock (closing the file releases the ``flock``)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder_pid(fd: int) -> str:
    """The PID written in a lock file held by another process (it writes it right after locking)."""
    deadline = time.monotonic() + _PID_WAIT_S
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text or time.monotonic() > deadline:
            return text or "unknown"
        time.sleep(0.02)


def read_json(path: str) -> Any:
    """The JSON document at ``path`` (``OSError``/``ValueError`` when missing or malformed)."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def write_json(path: str, data: Any, indent: int | None = 2) -> None:
    """Write ``data`` as JSON atomically (a crash leaves the previous file or none, never a partial one)."""
    text = json.dumps(data, indent=indent, allow_nan=False) + "\n"
    atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def checkpoint_path(run_dir: str, timestep: int, suffix: str = ".pt") -> str:
    """The periodic checkpoint of ``run_dir`` after ``timestep`` vector steps (``suffix``: the agent's file format)."""
    return os.path.join(run_dir, "checkpoints", f"agent_{timestep}{suffix}")


def newest_checkpoint(run_dir: str) -> tuple[str, int] | None:
    """The newest periodic checkpoint of ``run_dir`` and its vector step, or ``None`` when there is none."""
    directory = os.path.join(run_dir, "checkpoints")
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    found = [(int(m.group(1)), name) for name in names if (m := CHECKPOINT_PATTERN.fullmatch(name))]
    if not found:
        return None
    step, name = max(found)
    return os.path.join(directory, name), step


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json_row(row: dict[str, float]) -> dict[str, float | None]:
    return {key: _finite(value) if isinstance(value, float) else value for key, value in row.items()}


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


class Curve:
    """Training episode returns against environment steps, with bounded memory.

    Each point is the mean of ``stride`` consecutive episodes (the step of the last one). Once there are more than
    ``max_points`` points, neighbouring points are averaged in pairs and ``stride`` doubles, so a run of any
    length keeps at most ``max_points`` points.
    """

    def __init__(self, max_points: int = 10_000) -> None:
        self.max_points = max_points
        self.stride = 1
        self.steps: list[int] = []
        self.returns: list[float] = []
        self.counts: list[int] = []
        self._sum, self._count, self._step = 0.0, 0, 0  # the group being filled

    @property
    def episodes(self) -> int:
        """Episodes in the curve."""
        return sum(self.counts) + self._count

    def add(self, steps: Sequence[int], returns: Sequence[float]) -> None:
        """Append episodes that ended at environment steps ``steps`` (in order) with ``returns``."""
        for step, value in zip(steps, returns):
            self._sum += float(value)
            self._count += 1
            self._step = int(step)
            if self._count >= self.stride:
                self._append(self._step, self._sum / self._count, self._count)
                self._sum, self._count = 0.0, 0
                if len(self.steps) > self.max_points:
                    self._halve()

    def _append(self, step: int, value: float, count: int) -> None:
        self.steps.append(step)
        self.returns.append(value)
        self.counts.append(count)

    def _halve(self) -> None:
        steps, returns, counts = self.steps, self.returns, self.counts
        self.steps, self.returns, self.counts = [], [], []
        for i in range(0, len(steps) - 1, 2):
            n = counts[i] + counts[i + 1]
            self._append(steps[i + 1], (returns[i] * counts[i] + returns[i + 1] * counts[i + 1]) / n, n)
        if len(steps) % 2:
            self._append(steps[-1], returns[-1], counts[-1])
        self.stride *= 2

    def trim(self, max_step: int) -> None:
        """Forget the points after environment step ``max_step`` (a resumed run replays them)."""
        keep = sum(1 for step in self.steps if step <= max_step)
        del self.steps[keep:], self.returns[keep:], self.counts[keep:]
        if self._count and self._step > max_step:
            self._sum, self._count, self._step = 0.0, 0, 0

    def points(self) -> tuple[list[int], list[float]]:
        """``(steps, returns)`` of every point, the group being filled included."""
        if not self._count:
            return list(self.steps), list(self.returns)
        return [*self.steps, self._step], [*self.returns, self._sum / self._count]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "stride": self.stride,
            "steps": self.steps,
            "returns": [_finite(v) for v in self.returns],
            "counts": self.counts,
            "partial": {"sum": _finite(self._sum), "count": self._count, "step": self._step},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], max_points: int = 10_000) -> Curve:
        """The curve saved by :meth:`to_dict`."""
        curve = cls(max_points)
        curve.stride = int(data["stride"])
        curve.steps = [int(v) for v in data["steps"]]
        curve.returns = [_number(v) for v in data["returns"]]
        curve.counts = [int(v) for v in data["counts"]]
        if not len(curve.steps) == len(curve.returns) == len(curve.counts):
            raise ValueError("the curve's lists differ in length")
        partial = data.get("partial") or {}
        curve._sum = _number(partial.get("sum", 0.0))
        curve._count, curve._step = int(partial.get("count", 0)), int(partial.get("step", 0))
        return curve


@dataclasses.dataclass
class Progress:
    """What the command accumulates over a run (saved as ``progress.json`` before each periodic checkpoint).

    ``evaluations``: ``{"env_steps", "mean", "std", "episodes"}`` per evaluation; ``train_means``: the mean
    training return of each checkpoint interval (``{"timestep", "mean"}``), from which ``best_agent.pt`` is chosen;
    ``resumed_from``: the environment steps at which the run was resumed.
    """

    timestep: int = 0
    evaluations: list[dict[str, float]] = dataclasses.field(default_factory=list)
    train_means: list[dict[str, float]] = dataclasses.field(default_factory=list)
    curve: Curve = dataclasses.field(default_factory=Curve)
    train_time_s: float = 0.0
    wall_time_s: float = 0.0
    resumed_from: list[int] = dataclasses.field(default_factory=list)
    finished: bool = False

    def trim(self, timestep: int, num_envs: int) -> None:
        """Keep what happened up to vector step ``timestep`` (the checkpoint a run resumes from)."""
        limit = timestep * num_envs
        self.evaluations = [e for e in self.evaluations if e["env_steps"] <= limit]
        self.train_means = [e for e in self.train_means if e["timestep"] <= timestep]
        self.curve.trim(limit)
        self.timestep = min(self.timestep, timestep)
        self.finished = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (NaN written as null)."""
        return {
            "timestep": self.timestep,
            "finished": self.finished,
            "evaluations": [_json_row(e) for e in self.evaluations],
            "train_means": [_json_row(e) for e in self.train_means],
            "train_time_s": self.train_time_s,
            "wall_time_s": self.wall_time_s,
            "resumed_from": self.resumed_from,
            "curve": self.curve.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        """The progress saved by :meth:`to_dict` (``ValueError``/``KeyError``/``TypeError`` when malformed)."""
        evaluations: list[dict[str, float]] = [
            {
                "env_steps": int(e["env_steps"]),
                "mean": _number(e["mean"]),
                "std": _number(e["std"]),
                "episodes": int(e["episodes"]),
            }
            for e in data["evaluations"]
        ]
        train_means: list[dict[str, float]] = [
            {"timestep": int(e["timestep"]), "mean": _number(e["mean"])} for e in data["train_means"]
        ]
        return cls(
            timestep=int(data["timestep"]),
            evaluations=evaluations,
            train_means=train_means,
            curve=Curve.from_dict(data["curve"]),
            train_time_s=float(data["train_time_s"]),
            wall_time_s=float(data["wall_time_s"]),
            resumed_from=[int(v) for v in data.get("resumed_from", [])],
            finished=bool(data.get("finished", False)),
        )


def no_run_configuration(run_dir: str) -> CLIError:
    """The error of ``--resume`` on a directory without ``run.json``."""
    return CLIError(
        f"--resume {run_dir} has no run configuration ({RUN_FILE}): it is not a steprl train run directory, "
        "or its run stopped before training started"
    )


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What defines a run, saved as ``run.json``: ``--resume`` continues the run with exactly these values.

    ``env`` is ``--env`` as given (``[module:]id``), ``env_id`` the registered id it resolved to, ``timesteps``
    the budget in environment steps (over all ranks); ``preset_table`` is the preset's agent table as read, so a
    resumed run rebuilds the same agent even if the preset file has changed since. ``ranks`` is the number of
    data-parallel processes (torchrun's ``WORLD_SIZE``; 1 when absent from an older ``run.json``).
    """

    env: str
    env_id: str
    agent: str
    seed: int
    backend: str
    timesteps: int
    num_envs: int
    eval_every: int
    eval_episodes: int
    preset_source: str
    preset_default: bool
    preset_table: dict[str, Any]
    ranks: int = 1

    # (attribute, option) pairs a user may repeat with --resume, but only with the run's own value
    OPTIONS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("env", "--env"),
        ("agent", "--agent"),
        ("seed", "--seed"),
        ("num_envs", "--num-envs"),
        ("eval_every", "--eval-every"),
        ("eval_episodes", "--eval-episodes"),
        ("backend", "--backend"),
    )

    def preset(self) -> Preset:
        """The run's preset, rebuilt from the stored table."""
        data = {self.agent: copy.deepcopy(self.preset_table)}
        return parse_preset(data, self.env_id, self.agent, self.preset_source, self.preset_default)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``run.json``."""
        return {"format": RUN_FORMAT, "steprl_version": __version__, **dataclasses.asdict(self)}

    @classmethod
    def read(cls, run_dir: str) -> RunSpec:
        """The ``run.json`` of ``run_dir``; a :class:`CLIError` when it is missing or unreadable."""
        path = os.path.join(run_dir, RUN_FILE)
        if not os.path.isfile(path):
            raise no_run_configuration(run_dir)
        try:
            data = read_json(path)
            if not isinstance(data, dict):
                raise ValueError(f"it holds a {type(data).__name__}, not an object")
            if data.get("format", RUN_FORMAT) > RUN_FORMAT:
                raise ValueError(f"format {data['format']} is newer than this steprl's ({RUN_FORMAT})")
            fields = dataclasses.fields(cls)
            missing = [f.name for f in fields if f.name not in data and f.default is dataclasses.MISSING]
            if missing:
                raise ValueError(f"it lacks {', '.join(missing)}")
            for name in ("seed", "timesteps", "num_envs", "eval_every", "eval_episodes", "ranks"):
                if name in data and (not isinstance(data[name], int) or isinstance(data[name], bool)):
                    raise ValueError(f"'{name}' must be an integer, got {data[name]!r}")
            spec = cls(**{f.name: data[f.name] for f in fields if f.name in data})
            spec.preset()
        except (OSError, ValueError, TypeError) as exc:
            raise CLIError(f"--resume {run_dir}: {RUN_FILE} cannot be read: {exception_message(exc)}") from exc
        return spec

    def resumed_with(self, args: Any, run_dir: str, resolve_env: Callable[[str], str]) -> RunSpec:
        """This run's spec for ``--resume`` with ``args``: options given explicitly must equal the run's (a
        :class:`CLIError` names the differences), except ``--timesteps``, which may extend the budget."""
        given, stored = [], []
        for name, option in self.OPTIONS:
            value = getattr(args, name, None)
            if value is None:
                continue
            same = resolve_env(value) == self.env_id if name == "env" else value == getattr(self, name)
            if not same:
                given.append(f"{option} {value}")
                stored.append(f"{option} {getattr(self, name)}")
        if given:
            raise CLIError(
                f"--resume {run_dir}: the run was started with {', '.join(stored)}, not {', '.join(given)}; "
                "omit these options (--resume continues with the run's own) or start a new run in another --run-dir"
            )
        if args.timesteps is None or args.timesteps == self.timesteps:
            return self
        if args.timesteps < self.timesteps:
            raise CLIError(
                f"--resume {run_dir}: --timesteps {args.timesteps} is smaller than the run's budget ({self.timesteps}); "
                "--resume continues a run to its budget, or extends it with a larger --timesteps"
            )
        return dataclasses.replace(self, timesteps=args.timesteps)
