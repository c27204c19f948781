"""The runner: one configuration (skrl's YAML format) and an environment in, a ready agent and trainer out."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from steprl.core.runner.build import (
    EnvSpaces,
    agent_config,
    build_agent,
    build_memories,
    build_models,
    build_trainer,
    resolve,
)
from steprl.core.runner.spec import RunnerConfigError, RunnerSpec, parse_config

__all__ = ["RunnerBase", "load_yaml"]

MODES = ("train", "eval")


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The configuration in YAML file ``path``; a missing file, a syntax error or a document that is not a
    mapping is a :class:`RunnerConfigError` naming the file (skrl logs the error and returns ``{}`` instead)."""
    try:
        import yaml
    except ImportError as exc:
        raise ImportError("reading a runner configuration needs PyYAML: pip install pyyaml") from exc
    try:
        with open(path, encoding="utf-8") as file:
            data = yaml.safe_load(file)
    except OSError as exc:
        raise RunnerConfigError(f"cannot read runner configuration {os.fspath(path)!r}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RunnerConfigError(f"{os.fspath(path)!r} is not valid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, Mapping):
        raise RunnerConfigError(
            f"{os.fspath(path)!r} must hold a mapping of sections (seed, models, memory, agent, trainer), "
            f"got {type(data).__name__}"
        )
    return dict(data)


class RunnerBase:
    """Builds the models, memories, agent and trainer a configuration describes, on a wrapped environment.

    The configuration is validated first (unknown sections, classes and keys are :class:`RunnerConfigError`
    naming the closest valid name) and never modified; ``seed`` seeds every generator before anything is built.
    Subclasses name their ``backend``.
    """

    backend: ClassVar[str]

    def __init__(self, env: Any, cfg: Mapping[str, Any]) -> None:
        from steprl.utils import set_seed

        self._env = env
        self._cfg = copy.deepcopy(dict(cfg)) if isinstance(cfg, Mapping) else cfg
        self._spec: RunnerSpec = parse_config(self._cfg, self.backend)
        set_seed(self._spec.seed)
        spaces = EnvSpaces.of(env)
        defaults = resolve(self._spec.agent.default_config)
        agent_cfg = agent_config(self._spec, defaults, spaces)
        self._models = build_models(self._spec, spaces)
        memories = build_memories(self._spec, spaces, agent_cfg.get("rollouts", defaults.get("rollouts")))
        self._agent = build_agent(self._spec, spaces, self._models, memories, agent_cfg)
        self._trainer = build_trainer(self._spec, env, self._agent)

    @property
    def trainer(self) -> Any:
        """The trainer."""
        return self._trainer

    @property
    def agent(self) -> Any:
        """The agent."""
        return self._agent

    @property
    def models(self) -> dict[str, dict[str, Any]]:
        """The models per agent id (``"agent"`` for a single-agent environment), per role."""
        return self._models

    @staticmethod
    def load_cfg_from_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
        """The runner configuration in YAML file ``path`` (see :func:`load_yaml`)."""
        return load_yaml(path)

    def run(self, mode: str = "train") -> None:
        """Train (``"train"``) or evaluate (``"eval"``) for the trainer's ``timesteps``."""
        if mode not in MODES:
            raise ValueError(f"Unknown running mode {mode!r}: expected 'train' or 'eval'")
        if mode == "train":
            self._trainer.train()
        else:
            self._trainer.eval()
