"""Building the models, memories, agent and trainer of a :class:`~steprl.core.runner.spec.RunnerSpec`.

Backend-neutral: the classes come from the backend's tables (imported by name when used), and the environment is
read only through the wrapper interface both backends share (spaces, ``device``, ``num_envs``, ``possible_agents``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from steprl import logger
from steprl.core.runner.spec import RunnerConfigError, RunnerSpec, check_keys
from steprl.core.runner.tables import SHARED_MODEL, Location

__all__ = [
    "EnvSpaces",
    "ScaledRewards",
    "agent_config",
    "build_agent",
    "build_memories",
    "build_models",
    "build_trainer",
    "resolve",
]

# arguments the runner gives itself (never taken from the configuration)
_MODEL_ARGS = ("observation_space", "action_space", "device", "return_source")
_MEMORY_ARGS = ("num_envs", "device")


def resolve(location: Location) -> Any:
    """The class (or function, or dict) at ``location``."""
    return getattr(importlib.import_module(location.module), location.name)


@dataclass(frozen=True)
class EnvSpaces:
    """What the runner reads from a wrapped environment; a single-agent one is seen as the one agent ``"agent"``."""

    multi_agent: bool
    uids: tuple[str, ...]
    observation: dict[str, Any]
    action: dict[str, Any]
    state: dict[str, Any]
    device: Any
    num_envs: int

    @classmethod
    def of(cls, env: Any) -> EnvSpaces:
        """The spaces of wrapped environment ``env`` (multi-agent when it has ``possible_agents``)."""
        if hasattr(env, "possible_agents"):
            uids = tuple(env.possible_agents)
            states = dict(env.state_spaces)
            return cls(True, uids, dict(env.observation_spaces), dict(env.action_spaces), states, env.device, env.num_envs)
        single = {"observation": env.observation_space, "action": env.action_space, "state": env.state_space}
        return cls(False, ("agent",), *({"agent": space} for space in single.values()), env.device, env.num_envs)


class ScaledRewards:
    """The ``rewards_shaper`` that ``rewards_shaper_scale`` stands for: ``rewards * scale``."""

    def __init__(self, scale: float) -> None:
        self.scale = float(scale)

    def __call__(self, rewards: Any, *args: Any, **kwargs: Any) -> Any:
        return rewards * self.scale

    def __repr__(self) -> str:
        return f"ScaledRewards({self.scale})"


def _parameters(function: Callable[..., Any], exclude: tuple[str, ...]) -> list[str]:
    """Named parameters of ``function`` that a configuration may set."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind in kinds and name not in exclude
    ]


def _model_keys(instantiator: Callable[..., Any]) -> list[str]:
    from steprl.utils.model_instantiators.common.legacy import LEGACY_KEYS

    return _parameters(instantiator, _MODEL_ARGS) + list(LEGACY_KEYS)


def build_models(spec: RunnerSpec, spaces: EnvSpaces) -> dict[str, dict[str, Any]]:
    """Per agent id, per role: the models of ``spec.models``, initialised (``init_state_dict(role)``)."""
    instantiators = {}
    for model in spec.models:
        instantiators[model.role] = resolve(model.instantiator)
        check_keys(model.kwargs, _model_keys(instantiators[model.role]), f"section 'models', role '{model.role}'")
    shared = SHARED_MODEL[spec.backend]
    if not spec.separate and shared is None:
        logger.warning(f"models.separate is false, but the {spec.backend} backend has no shared model: one per role")
    if not spec.separate and shared is not None and len(spec.models) != 2:
        raise RunnerConfigError(
            f"models.separate false shares one trunk between exactly two roles, got {len(spec.models)} "
            f"({', '.join(m.role for m in spec.models)}); set separate: true"
        )
    models: dict[str, dict[str, Any]] = {}
    for uid in spaces.uids:
        observation, action = spaces.observation[uid], spaces.action[uid]
        if not spec.separate and shared is not None:
            model = resolve(shared)(
                observation_space=observation,
                action_space=action,
                device=spaces.device,
                structure=[m.mixin for m in spec.models],
                roles=[m.role for m in spec.models],
                parameters=[m.kwargs for m in spec.models],
            )
            models[uid] = {m.role: model for m in spec.models}
            continue
        models[uid] = {}
        for m in spec.models:
            space = spaces.state[uid] if spec.agent.value_sees_state and m.role == "value" else observation
            models[uid][m.role] = instantiators[m.role](
                observation_space=space, action_space=action, device=spaces.device, **m.kwargs
            )
    for per_role in models.values():
        for role, model in per_role.items():
            model.init_state_dict(role)
    return models


def build_memories(spec: RunnerSpec, spaces: EnvSpaces, rollouts: Any) -> dict[str, Any]:
    """One memory per agent id; ``memory_size`` -1 means the agent's ``rollouts``."""
    cls = resolve(spec.memory)
    kwargs = dict(spec.memory_kwargs)
    check_keys(kwargs, _parameters(cls.__init__, ("self", *_MEMORY_ARGS)), f"section 'memory' ({spec.memory.name})")
    if kwargs["memory_size"] < 0:
        if rollouts is None:
            raise RunnerConfigError(
                f"memory.memory_size -1 means the agent's rollouts, but {spec.agent_name} has no 'rollouts' key: "
                "give memory_size as a positive number of steps"
            )
        kwargs["memory_size"] = int(rollouts)
    return {uid: cls(num_envs=spaces.num_envs, device=spaces.device, **kwargs) for uid in spaces.uids}


def _check_agent_keys(user: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> None:
    check_keys(user, defaults, where)
    for key, value in user.items():
        default = defaults[key]
        if isinstance(default, Mapping) and default and isinstance(value, Mapping):
            _check_agent_keys(value, default, f"{where}['{key}']")


def _sized(kwargs: Any, size: Any, device: Any) -> dict[str, Any]:
    return {"size": size, "device": device, **dict(kwargs or {})}


def agent_config(spec: RunnerSpec, defaults: Mapping[str, Any], spaces: EnvSpaces) -> dict[str, Any]:
    """The agent's cfg: the section's keys (checked against ``defaults``) with named classes imported, the
    rewards shaper of ``rewards_shaper_scale`` and the preprocessors' sizes (per agent id when multi-agent)."""
    cfg = dict(spec.agent_cfg)
    _check_agent_keys(cfg, defaults, f"section 'agent' ({spec.agent_name})")
    for key, value in cfg.items():
        if isinstance(value, Location):
            cfg[key] = resolve(value)
    if spec.rewards_shaper_scale is not None:
        if "rewards_shaper" not in defaults:
            raise RunnerConfigError(f"agent.rewards_shaper_scale: {spec.agent_name} takes no rewards shaper")
        cfg["rewards_shaper"] = ScaledRewards(spec.rewards_shaper_scale)
    device, uids = spaces.device, spaces.uids
    if "value_preprocessor" in defaults:
        cfg["value_preprocessor_kwargs"] = _sized(cfg.get("value_preprocessor_kwargs"), 1, device)
    preprocessors = [("state_preprocessor", spaces.observation)]
    if spec.agent.value_sees_state:
        preprocessors.append(("shared_state_preprocessor", spaces.state))
    for key, sizes in preprocessors:
        if key not in defaults:
            continue
        kwargs = cfg.get(f"{key}_kwargs") or {}
        if spaces.multi_agent:
            keyed = isinstance(kwargs, Mapping) and bool(set(kwargs) & set(uids))
            cfg[f"{key}_kwargs"] = {
                uid: _sized(kwargs.get(uid) if keyed else kwargs, sizes[uid], device) for uid in uids
            }
        else:
            cfg[f"{key}_kwargs"] = _sized(kwargs, sizes["agent"], device)
    return cfg


def build_agent(spec: RunnerSpec, spaces: EnvSpaces, models: Any, memories: Any, cfg: dict[str, Any]) -> Any:
    """The agent of ``spec`` on the environment's spaces."""
    if spec.agent.multi_agent != spaces.multi_agent:
        kind = "a multi-agent" if spec.agent.multi_agent else "a single-agent"
        env_kind = "a multi-agent (PettingZoo/VMAS)" if spaces.multi_agent else "a single-agent"
        raise RunnerConfigError(f"agent.class {spec.agent_name} is {kind} agent, but the environment is {env_kind} one")
    cls = resolve(spec.agent.location)
    if not spec.agent.multi_agent:
        uid = spaces.uids[0]
        return cls(
            models=models[uid],
            memory=memories[uid],
            observation_space=spaces.observation[uid],
            action_space=spaces.action[uid],
            device=spaces.device,
            cfg=cfg,
        )
    extra = {"shared_observation_spaces": spaces.state} if spec.agent.value_sees_state else {}
    return cls(
        possible_agents=list(spaces.uids),
        models=models,
        memories=memories,
        observation_spaces=spaces.observation,
        action_spaces=spaces.action,
        device=spaces.device,
        cfg=cfg,
        **extra,
    )


def build_trainer(spec: RunnerSpec, env: Any, agent: Any) -> Any:
    """The trainer of ``spec`` (its keys checked against the trainer's default configuration)."""
    defaults = resolve(Location(spec.trainer.module, spec.trainer.default_config))
    check_keys(spec.trainer_cfg, defaults, f"section 'trainer' ({spec.trainer_name})")
    return resolve(spec.trainer.location)(env=env, agents=agent, cfg=dict(spec.trainer_cfg))
