"""The shape of a runner configuration (skrl's YAML format) and its validation into a :class:`RunnerSpec`.

A configuration has the sections ``seed``, ``models``, ``memory``, ``agent`` and ``trainer``::

    seed: 42
    models:
      separate: false                # true: one module per role; false: policy and value share a trunk
      policy: {class: GaussianMixin, network: [...], output: ACTIONS, ...}   # model instantiator kwargs
      value: {class: DeterministicMixin, network: [...], output: ONE}
    memory: {class: RandomMemory, memory_size: -1}                           # -1: the agent's rollouts
    agent: {class: PPO, rollouts: 16, state_preprocessor: RunningStandardScaler, rewards_shaper_scale: 0.1, ...}
    trainer: {class: SequentialTrainer, timesteps: 10000}

Class names are looked up case-insensitively in the backend's tables (:mod:`steprl.core.runner.tables`). Checks
that need the classes themselves (the keys of an agent's default configuration, a model instantiator's or a
memory's arguments) are made when the runner builds them. Every mistake is a :class:`RunnerConfigError` naming the
section, what was given and the closest valid name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from steprl import logger
from steprl.core.cfg import closest_key
from steprl.core.runner.tables import (
    AGENTS,
    BACKENDS,
    MEMORIES,
    MODELS,
    PREPROCESSORS,
    SCHEDULERS,
    TRAINERS,
    AgentEntry,
    Location,
    TrainerEntry,
)

__all__ = [
    "CLASS_KEYS",
    "SECTIONS",
    "ModelSpec",
    "RunnerConfigError",
    "RunnerSpec",
    "check_keys",
    "lookup",
    "parse_config",
]

SECTIONS = ("seed", "models", "memory", "agent", "trainer")
# agent keys whose value names a class, and the table of each backend they are looked up in
CLASS_KEYS: dict[str, dict[str, dict[str, Location]]] = {
    "state_preprocessor": PREPROCESSORS,
    "value_preprocessor": PREPROCESSORS,
    "shared_state_preprocessor": PREPROCESSORS,
    "learning_rate_scheduler": SCHEDULERS,
}
_LEGACY_SHAPE_KEYS = ("input_shape", "output_shape")

T = TypeVar("T")


class RunnerConfigError(ValueError):
    """A mistake in a runner configuration (the message names the section and what would be valid)."""


def check_keys(given: Iterable[Any], valid: Iterable[str], where: str) -> None:
    """:class:`RunnerConfigError` for the first key of ``given`` not in ``valid``, naming the closest valid one."""
    valid = list(valid)
    for key in given:
        if key not in valid:
            suggestion = closest_key(str(key), valid)
            hint = f" Did you mean '{suggestion}'?" if suggestion else ""
            raise RunnerConfigError(
                f"unknown key '{key}' in {where}.{hint} Valid keys: {', '.join(sorted(valid))}"
            )


def lookup(name: Any, table: Mapping[str, T], what: str, where: str) -> tuple[str, T]:
    """``(canonical name, entry)`` of class ``name`` in ``table`` (case-insensitive), else a
    :class:`RunnerConfigError` naming ``where``, the closest name and every valid one."""
    if not isinstance(name, str) or not name:
        raise RunnerConfigError(f"{where}: the {what} class must be a name, got {name!r}")
    for canonical, entry in table.items():
        if canonical.lower() == name.lower():
            return canonical, entry
    suggestion = closest_key(name, list(table))
    hint = f" Did you mean '{suggestion}'?" if suggestion else ""
    raise RunnerConfigError(f"unknown {what} class '{name}' in {where}.{hint} Valid classes: {', '.join(table)}")


@dataclass(frozen=True)
class ModelSpec:
    """One role of ``models``: its mixin name, instantiator and instantiator kwargs."""

    role: str
    mixin: str
    instantiator: Location
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class RunnerSpec:
    """A validated runner configuration (names resolved to table entries; nothing imported yet)."""

    backend: str
    seed: int | None
    separate: bool
    models: tuple[ModelSpec, ...]
    memory: Location
    memory_kwargs: dict[str, Any]
    agent_name: str
    agent: AgentEntry
    agent_cfg: dict[str, Any]
    rewards_shaper_scale: float | None
    trainer_name: str
    trainer: TrainerEntry
    trainer_cfg: dict[str, Any] = field(default_factory=dict)


def _section(cfg: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = cfg.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RunnerConfigError(f"section '{name}' must be a mapping of keys, got {type(value).__name__}")
    return copy.deepcopy(dict(value))


def _seed(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise RunnerConfigError(f"'seed' must be a non-negative integer or null, got {value!r}")


def _legacy_shapes(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pre-1.3 ``input_shape: "Shape.STATES"`` strings as the token names the instantiators take."""
    for key in _LEGACY_SHAPE_KEYS:
        value = kwargs.get(key)
        if isinstance(value, str) and value.startswith("Shape."):
            kwargs[key] = value.removeprefix("Shape.")
    return kwargs


def _models(section: dict[str, Any], backend: str) -> tuple[bool, tuple[ModelSpec, ...]]:
    separate = section.pop("separate", None)
    if separate is None:
        logger.warning("No 'separate' key in the 'models' section: one model per role (separate: true)")
        separate = True
    if not isinstance(separate, bool):
        raise RunnerConfigError(f"models.separate must be true or false, got {separate!r}")
    if not section:
        raise RunnerConfigError("the 'models' section defines no model: add roles such as 'policy' and 'value'")
    specs = []
    for role, body in section.items():
        where = f"section 'models', role '{role}'"
        if not isinstance(body, Mapping):
            raise RunnerConfigError(f"{where}: expected a mapping with 'class' and the model's keys, got {body!r}")
        kwargs = dict(body)
        if "class" not in kwargs:
            raise RunnerConfigError(f"{where} has no 'class' (one of {', '.join(MODELS[backend])})")
        mixin, location = lookup(kwargs.pop("class"), MODELS[backend], "model", where)
        specs.append(ModelSpec(str(role), mixin, location, _legacy_shapes(kwargs)))
    return separate, tuple(specs)


def _agent(section: dict[str, Any], backend: str) -> tuple[str, AgentEntry, dict[str, Any], float | None]:
    if "class" not in section:
        raise RunnerConfigError(f"section 'agent' has no 'class' (one of {', '.join(AGENTS[backend])})")
    name, entry = lookup(section.pop("class"), AGENTS[backend], "agent", f"section 'agent' ({backend})")
    scale = section.pop("rewards_shaper_scale", None)
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
        raise RunnerConfigError(f"agent.rewards_shaper_scale must be a number, got {scale!r}")
    for key, value in list(section.items()):
        if key.endswith("_kwargs") and value is None:
            section[key] = {}
        elif key in CLASS_KEYS and isinstance(value, str):
            _, section[key] = lookup(value, CLASS_KEYS[key][backend], key, f"section 'agent', key '{key}' ({backend})")
    return name, entry, section, None if scale is None else float(scale)


def _memory(section: dict[str, Any] | None, backend: str) -> tuple[Location, dict[str, Any]]:
    if section is None:
        logger.warning("No 'memory' section: RandomMemory with memory_size -1 (the agent's rollouts)")
        section = {"class": "RandomMemory", "memory_size": -1}
    if "class" not in section:
        logger.warning("No 'class' in the 'memory' section: RandomMemory")
    _, location = lookup(section.pop("class", "RandomMemory"), MEMORIES[backend], "memory", "section 'memory'")
    size = section.get("memory_size")
    if isinstance(size, bool) or not isinstance(size, int) or size == 0:
        raise RunnerConfigError(
            f"memory.memory_size must be a positive integer, or -1 for the agent's rollouts, got {size!r}"
        )
    return location, section


def _trainer(section: dict[str, Any] | None, backend: str) -> tuple[str, TrainerEntry, dict[str, Any]]:
    section = {} if section is None else section
    if "class" not in section:
        logger.warning("No 'class' in the 'trainer' section: SequentialTrainer")
    name, entry = lookup(section.pop("class", "SequentialTrainer"), TRAINERS[backend], "trainer", "section 'trainer'")
    return name, entry, section


def parse_config(cfg: Mapping[str, Any], backend: str) -> RunnerSpec:
    """Validate the structure and class names of runner configuration ``cfg`` (not modified) for ``backend``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if not isinstance(cfg, Mapping):
        raise RunnerConfigError(f"a runner configuration is a mapping of sections, got {type(cfg).__name__}")
    check_keys(cfg, SECTIONS, "the configuration (top-level sections)")
    models, agent = _section(cfg, "models"), _section(cfg, "agent")
    for name, section in (("models", models), ("agent", agent)):
        if section is None:
            raise RunnerConfigError(f"the configuration has no '{name}' section (sections: {', '.join(SECTIONS)})")
    separate, model_specs = _models(models or {}, backend)
    agent_name, entry, agent_cfg, scale = _agent(agent or {}, backend)
    memory, memory_kwargs = _memory(_section(cfg, "memory"), backend)
    trainer_name, trainer, trainer_cfg = _trainer(_section(cfg, "trainer"), backend)
    return RunnerSpec(
        backend=backend,
        seed=_seed(cfg.get("seed")),
        separate=separate,
        models=model_specs,
        memory=memory,
        memory_kwargs=memory_kwargs,
        agent_name=agent_name,
        agent=entry,
        agent_cfg=agent_cfg,
        rewards_shaper_scale=scale,
        trainer_name=trainer_name,
        trainer=trainer,
        trainer_cfg=trainer_cfg,
    )
