"""Checks of what a user gives the ``steprl`` command, each failing with a one-line :class:`CLIError`.

Everything a user can get wrong (arguments, environment id, missing optional packages, an agent that cannot act
in the environment, the run directory) is checked here before anything is built or trained.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import gymnasium

from steprl.cli.registry import ALL_AGENTS, agents_for, describe_space, fitting_agents

__all__ = [
    "CLIError",
    "agent_alternatives",
    "check_agent_fits",
    "check_args",
    "check_dependencies",
    "check_device",
    "check_resume_dir",
    "exception_message",
    "guard_env",
    "prepare_run_dir",
    "resolve_env_id",
]

MAX_SEED = 2**32 - 1  # NumPy's legacy seeding accepts [0, 2**32 - 1]
# Python module -> what to install for it (modules that gymnasium environment families import)
_PIP_NAMES = {
    "Box2D": '"gymnasium[box2d]" (it needs swig: pip install swig first)',
    "mujoco": '"gymnasium[mujoco]"',
    "pygame": '"gymnasium[classic-control]"',
    "ale_py": "ale-py",
    "tensorboard": '"steprl[tensorboard]"',
    "tensorboardX": '"steprl[tensorboard]"',
    "matplotlib": '"steprl[plot]"',
    "torch": '"steprl[torch]"',
    "jax": '"steprl[jax]"',
    "flax": '"steprl[jax]"',
    "optax": '"steprl[jax]"',
}


class CLIError(Exception):
    """A user error, reported as ``steprl <command>: error: <message>`` with exit code 2."""


def exception_message(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a ``KeyError`` without the quotes that ``str`` adds)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(line.strip() for line in text.splitlines() if line.strip()) or type(exc).__name__


def check_args(args: argparse.Namespace) -> None:
    """Numbers, the backend and the directories of ``steprl train`` (``None``: not given)."""
    if args.backend is not None and args.agent is not None and args.agent not in agents_for(args.backend):
        available = ", ".join(agents_for(args.backend))
        raise CLIError(
            f"--agent {args.agent} is not available with --backend {args.backend}: choose one of {available}"
        )
    for name in ("timesteps", "num_envs", "eval_episodes", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.eval_every is not None and args.eval_every < 0:
        raise CLIError(f"--eval-every must be >= 0, got {args.eval_every}")
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise CLIError(f"--seed must be in [0, {MAX_SEED}], got {args.seed}")
    for option, value in (("--run-dir", args.run_dir), ("--resume", getattr(args, "resume", None))):
        if value is not None and not value.strip():
            raise CLIError(f"{option} must not be empty")
    resume = getattr(args, "resume", None)
    preset_file = getattr(args, "preset_file", None)
    for option, value in (("--resume", resume), ("--config", getattr(args, "config", None))):
        if preset_file is not None and value is not None:
            raise CLIError(f"--preset-file cannot be combined with {option}: {option} brings its own configuration")
    if resume is not None and args.run_dir is not None and os.path.abspath(args.run_dir) != os.path.abspath(resume):
        raise CLIError("--resume RUN_DIR continues the run in RUN_DIR: do not give another --run-dir with it")


def check_dependencies(backend: str = "torch") -> None:
    """The backend's packages (PyTorch; or JAX, Flax and Optax), TensorBoard (the run's events) and matplotlib
    (``learning_curve.png``)."""
    needed = [("torch", "the steprl command trains PyTorch agents")]
    if backend == "jax":
        needed = [(module, "--backend jax trains JAX agents") for module in ("jax", "flax", "optax")]
        needed.append(("tensorboardX", "JAX agents write TensorBoard events through tensorboardX"))
    for module, why in (
        *needed,
        ("tensorboard", "the steprl command writes TensorBoard events to the run directory"),
        ("matplotlib", "the steprl command draws learning_curve.png"),
    ):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise CLIError(f"{module} is not installed: pip install {_PIP_NAMES[module]} ({why})")


def resolve_env_id(env_id: str) -> str:
    """The registered id of ``env_id``: ``module:id`` imports ``module`` first (it registers ``id``), an id without
    version is its latest version; an unknown id is a :class:`CLIError` naming close registered ids."""
    from gymnasium.envs.registration import find_highest_version, get_env_id, parse_env_id

    name = env_id
    if ":" in env_id:
        module, name = env_id.split(":", 1)
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise CLIError(
                f"--env {env_id}: cannot import module '{module}' that registers the environment ({exception_message(exc)})"
            ) from exc
    try:
        namespace, base, version = parse_env_id(name)
    except gymnasium.error.Error as exc:
        raise CLIError(f"--env {env_id}: {exception_message(exc)}") from exc
    if name in gymnasium.registry:
        return name
    latest = find_highest_version(namespace, base) if version is None else None
    if latest is not None:
        return get_env_id(namespace, base, latest)
    if namespace is not None and not any(spec.namespace == namespace for spec in gymnasium.registry.values()):
        hints = {"ALE": f"pip install ale-py, then --env ale_py:{name}",
                 "dm_control": f'pip install -e ".[dmc]", then --env shimmy:{name}'}  # fmt: skip
        hint = f" ({hints[namespace]})" if namespace in hints else ""
        raise CLIError(
            f"unknown environment namespace '{namespace}' in --env {env_id}: install the package that registers it "
            f"and name its module, as in --env <module>:{name}{hint}"
        )
    close = difflib.get_close_matches(name, list(gymnasium.registry), n=3, cutoff=0.6)
    hint = (
        (f"; did you mean {', '.join(close[:-1])} or {close[-1]}?" if len(close) > 1 else f"; did you mean {close[0]}?")
        if close
        else " (gymnasium.pprint_registry() lists the registered ids)"
    )
    raise CLIError(f"unknown environment '{env_id}': gymnasium has no environment with this id{hint}")


def guard_env(action: Callable[[], Any], env_id: str) -> Any:
    """``action()`` (creating or resetting environment ``env_id``) with its user-facing failures as
    :class:`CLIError`: a missing package of the environment family, a bad ``env_kwargs`` key or value."""
    try:
        return action()
    except gymnasium.error.DependencyNotInstalled as exc:
        raise CLIError(f"environment {env_id} needs an optional package: {exception_message(exc)}") from exc
    except ImportError as exc:
        name = getattr(exc, "name", None)
        if name is None:
            raise CLIError(f"cannot create environment {env_id}: {exception_message(exc)}") from exc
        install = f"pip install {_PIP_NAMES[name]}" if name in _PIP_NAMES else "install the package that provides it"
        raise CLIError(
            f"environment {env_id} needs the Python module '{name}', which is not installed: {install}"
        ) from exc
    except (gymnasium.error.Error, TypeError, ValueError, KeyError, OSError) as exc:  # e.g. a bad env_kwargs key
        raise CLIError(f"cannot create environment {env_id}: {exception_message(exc)}") from exc


def agent_alternatives(
    env_id: str, observation_space: Any, action_space: Any, tables: list[str], source: str, multi_agent: bool = False
) -> str:
    """The agents that can act in the (multi-agent) environment and have a table in its preset file, in words."""
    fitting = fitting_agents(observation_space, action_space, multi_agent)
    usable = [name for name in fitting if name in tables]
    if usable:
        return f"agents with a preset table for {env_id}: {', '.join(usable)}"
    if fitting:
        return f"{', '.join(fitting)} would fit it, but {source} has no table for them"
    return "no steprl agent fits it (the command builds models for Discrete and Box action spaces)"


def check_agent_fits(
    agent: str,
    env_id: str,
    observation_space: Any,
    action_space: Any,
    tables: list[str],
    source: str,
    multi_agent: bool = False,
) -> None:
    """``agent``'s model builder accepts the environment's spaces (a multi-agent environment takes a multi-agent
    agent and the reverse); else name the agents that would do."""
    entry = ALL_AGENTS[agent]
    if entry.multi_agent != multi_agent:
        alternatives = agent_alternatives(env_id, observation_space, action_space, tables, source, multi_agent)
        kind = "a multi-agent (PettingZoo/VMAS)" if entry.multi_agent else "a single-agent (Gymnasium)"
        raise CLIError(f"--agent {agent} trains on {kind} environment, which {env_id} is not; {alternatives}")
    if entry.fits(observation_space, action_space):
        return
    spaces = f"{describe_space(action_space)} actions"
    if entry.discrete_observations:
        spaces = f"{describe_space(observation_space)} observations and {spaces}"
    alternatives = agent_alternatives(env_id, observation_space, action_space, tables, source, multi_agent)
    raise CLIError(f"--agent {agent} needs {entry.requirement()}, but {env_id} has {spaces}; {alternatives}")


def check_device(name: str) -> Any:
    """The ``torch.device`` named by ``--device``, which must exist on this machine."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise CLIError(f"--device {name!r} is not a torch device: {exception_message(exc)}") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise CLIError(f"--device {name}: CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise CLIError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise CLIError(f"--device {name}: MPS is not available on this machine")
    elif device.type != "cpu":
        raise CLIError(f"--device {name}: the steprl command runs on cpu, cuda[:N] or mps")
    return device


def prepare_run_dir(path: str, option: str = "--run-dir") -> str | None:
    """Create ``path`` (and ``path/checkpoints``) and check it is writable; returns the topmost directory created
    (``None`` if ``path`` existed), which the caller removes when the run fails before it starts."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"{option} {path} is an existing file, not a directory")
    created = path
    while not os.path.exists(os.path.dirname(created)) and os.path.dirname(created) != created:
        created = os.path.dirname(created)
    created_root = None if os.path.exists(path) else created
    try:
        os.makedirs(os.path.join(path, "checkpoints"), exist_ok=True)
        with tempfile.TemporaryFile(dir=os.path.join(path, "checkpoints")):
            pass
    except OSError as exc:
        if created_root is not None and os.path.isdir(created_root):
            shutil.rmtree(created_root, ignore_errors=True)
        raise CLIError(f"{option} {path} is not writable: {exc.strerror or exception_message(exc)}") from exc
    return created_root


def check_resume_dir(path: str) -> None:
    """``--resume``'s directory exists, is a directory and is writable (nothing is created in it)."""
    if not os.path.exists(path):
        raise CLIError(f"--resume {path}: no such directory")
    if not os.path.isdir(path):
        raise CLIError(f"--resume {path} is a file, not a run directory")
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CLIError(f"--resume {path} is not writable: {exc.strerror or exception_message(exc)}") from exc
