"""The agents the ``steprl`` command can train: where each agent, its default config and its model builder live.

Entries name ``"module:attribute"`` paths so that nothing is imported until an agent is used. A model builder has
the signature ``build(observation_space, action_space, device, network: Mapping, num_envs: int) -> dict[str, Model]``
(``network`` is the preset's ``[<agent>.network]`` table, empty when the preset has none); the builders live in
:mod:`steprl.models.torch.networks`. Each entry also states the spaces its builder accepts, so that the command can
reject an agent that cannot act in an environment before building anything.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium
import numpy as np

__all__ = [
    "AGENTS",
    "ALL_AGENTS",
    "BACKEND_AGENTS",
    "JAX_AGENTS",
    "MULTI_AGENTS",
    "AgentEntry",
    "agents_for",
    "describe_space",
    "fitting_agents",
    "import_path",
]

MemoryKind = Literal["rollout", "replay", "none"]
ActionKind = Literal["Discrete", "Box"]


@dataclass(frozen=True)
class AgentEntry:
    """One trainable agent of the ``steprl`` command.

    ``memory``: ``"rollout"`` → ``RandomMemory(memory_size=cfg["rollouts"])`` and evaluations aligned to whole
    rollouts; ``"replay"`` → ``RandomMemory(memory_size=<preset memory_size>)``; ``"none"`` → no memory.
    ``actions``: the action spaces the model builder accepts; ``bounded_actions``: a Box needs finite bounds;
    ``discrete_observations``: the observations must be Discrete (the model is a table of states).
    ``network_keys``: path of the tuple of ``network`` keys the builder reads.
    """

    agent: str
    config: str
    models: str
    memory: MemoryKind
    network_keys: str
    actions: tuple[ActionKind, ...]
    bounded_actions: bool = False
    discrete_observations: bool = False
    multi_agent: bool = False  # trains on PettingZoo/VMAS environments (steprl.cli.multi_agent builds it)

    def agent_class(self) -> Any:
        """The agent class."""
        return import_path(self.agent)

    def default_config(self) -> dict[str, Any]:
        """The agent's ``*_DEFAULT_CONFIG``."""
        return import_path(self.config)

    def valid_network_keys(self) -> tuple[str, ...]:
        """The keys of a ``network`` table that the model builder reads."""
        return tuple(import_path(self.network_keys))

    def build_models(self, observation_space: Any, action_space: Any, device: Any, network: Any, num_envs: int) -> Any:
        """The agent's models, by role."""
        return import_path(self.models)(observation_space, action_space, device, network, num_envs)

    def requirement(self) -> str:
        """The spaces this agent needs, in words (e.g. ``"a Box action space with finite bounds"``)."""
        actions = " or ".join(self.actions) + " action space"
        if self.bounded_actions:
            actions += " with finite bounds"
        return f"Discrete observations and a {actions}" if self.discrete_observations else f"a {actions}"

    def fits(self, observation_space: Any, action_space: Any) -> bool:
        """Whether the model builder accepts these spaces."""
        if self.discrete_observations and not isinstance(observation_space, gymnasium.spaces.Discrete):
            return False
        if isinstance(action_space, gymnasium.spaces.Discrete):
            return "Discrete" in self.actions
        if isinstance(action_space, gymnasium.spaces.Box):
            finite = bool(np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all())
            return "Box" in self.actions and (finite or not self.bounded_actions)
        return False


def import_path(path: str) -> Any:
    """The attribute named by ``"package.module:attribute"``."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def describe_space(space: Any) -> str:
    """A short description of a gymnasium space, e.g. ``Discrete(3)`` or ``Box(shape=(1,), bounds [-2, 2])``."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return f"Discrete({int(space.n)})"
    if isinstance(space, gymnasium.spaces.Box):
        low, high = np.asarray(space.low), np.asarray(space.high)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            return f"Box(shape={space.shape}, unbounded)"
        return f"Box(shape={space.shape}, bounds [{low.min():g}, {high.max():g}])"
    return type(space).__name__


def fitting_agents(observation_space: Any, action_space: Any, multi_agent: bool = False) -> list[str]:
    """Names of the (multi-agent) agents whose model builder accepts these spaces (registry order)."""
    return [
        name
        for name, entry in ALL_AGENTS.items()
        if entry.multi_agent == multi_agent and entry.fits(observation_space, action_space)
    ]


# model builder -> the tuple of network keys it reads (both in steprl.models.<backend>.networks)
_CORE_KEYS = "steprl.core.networks"  # backend-neutral key tuples: reading them imports no tensor library
_NETWORK_KEYS = {  # builder -> "module:TUPLE" (a leading "." is relative to the backend's networks package)
    "mlp:build_ppo_models": f"{_CORE_KEYS}:PPO_NETWORK_KEYS",
    "onpolicy:build_rpo_models": f"{_CORE_KEYS}:PPO_NETWORK_KEYS",
    "tabular:build_cem_models": f"{_CORE_KEYS}:CEM_NETWORK_KEYS",
    "tabular:build_tabular_models": ".tabular:TABULAR_NETWORK_KEYS",
    "q:build_dqn_models": f"{_CORE_KEYS}:DQN_NETWORK_KEYS",
    "sac:build_sac_models": f"{_CORE_KEYS}:SAC_NETWORK_KEYS",
    "deterministic:build_td3_models": f"{_CORE_KEYS}:DETERMINISTIC_NETWORK_KEYS",
    "deterministic:build_ddpg_models": f"{_CORE_KEYS}:DETERMINISTIC_NETWORK_KEYS",
    **{f"recurrent:build_{name}_rnn_models": ".recurrent:RECURRENT_NETWORK_KEYS" for name in ("rpo", "trpo", "sac", "td3", "ddpg")},
}
_ANY: tuple[ActionKind, ...] = ("Discrete", "Box")
_DISCRETE: tuple[ActionKind, ...] = ("Discrete",)
_BOX: tuple[ActionKind, ...] = ("Box",)


def _entry(
    module: str,
    cls: str,
    builder: str,
    memory: MemoryKind,
    actions: tuple[ActionKind, ...],
    backend: str = "torch",
    **kw: bool,
) -> AgentEntry:
    package, nets = f"steprl.agents.{backend}.{module}", f"steprl.models.{backend}.networks"
    return AgentEntry(
        agent=f"{package}:{cls}",
        config=f"{package}:{cls.removesuffix('_RNN')}_DEFAULT_CONFIG",  # a recurrent variant shares its algorithm's
        models=f"{nets}.{builder}",
        memory=memory,
        network_keys=keys if not (keys := _NETWORK_KEYS[builder]).startswith(".") else nets + keys,
        actions=actions,
        **kw,
    )


AGENTS: dict[str, AgentEntry] = {
    "ppo": _entry("ppo", "PPO", "mlp:build_ppo_models", "rollout", _ANY),
    "a2c": _entry("a2c", "A2C", "mlp:build_ppo_models", "rollout", _ANY),
    "rpo": _entry("rpo", "RPO", "onpolicy:build_rpo_models", "rollout", _BOX),
    "trpo": _entry("trpo", "TRPO", "mlp:build_ppo_models", "rollout", _ANY),
    "cem": _entry("cem", "CEM", "tabular:build_cem_models", "rollout", _DISCRETE),
    "q_learning": _entry(
        "q_learning", "Q_LEARNING", "tabular:build_tabular_models", "none", _DISCRETE, discrete_observations=True
    ),
    "sarsa": _entry("sarsa", "SARSA", "tabular:build_tabular_models", "none", _DISCRETE, discrete_observations=True),
    "dqn": _entry("dqn", "DQN", "q:build_dqn_models", "replay", _DISCRETE),
    "ddqn": _entry("dqn", "DDQN", "q:build_dqn_models", "replay", _DISCRETE),
    "sac": _entry("sac", "SAC", "sac:build_sac_models", "replay", _BOX),
    "td3": _entry("td3", "TD3", "deterministic:build_td3_models", "replay", _BOX, bounded_actions=True),
    "ddpg": _entry("ddpg", "DDPG", "deterministic:build_ddpg_models", "replay", _BOX, bounded_actions=True),
    # recurrent (GRU/LSTM/RNN) variants: Box observations and bounded Box actions
    "rpo_rnn": _entry("rpo", "RPO_RNN", "recurrent:build_rpo_rnn_models", "rollout", _BOX, bounded_actions=True),
    "trpo_rnn": _entry("trpo", "TRPO_RNN", "recurrent:build_trpo_rnn_models", "rollout", _BOX, bounded_actions=True),
    "sac_rnn": _entry("sac", "SAC_RNN", "recurrent:build_sac_rnn_models", "replay", _BOX, bounded_actions=True),
    "td3_rnn": _entry("td3", "TD3_RNN", "recurrent:build_td3_rnn_models", "replay", _BOX, bounded_actions=True),
    "ddpg_rnn": _entry("ddpg", "DDPG_RNN", "recurrent:build_ddpg_rnn_models", "replay", _BOX, bounded_actions=True),
}

# multi-agent algorithms (PettingZoo / VMAS environments; steprl.cli.multi_agent builds them)
def _multi_agent_entries(backend: str) -> dict[str, AgentEntry]:
    """IPPO and MAPPO of ``backend`` (``steprl.multi_agents.<backend>``)."""
    package = f"steprl.multi_agents.{backend}"
    return {
        name: AgentEntry(
            agent=f"{package}.{name}:{name.upper()}",
            config=f"{package}.{name}:{name.upper()}_DEFAULT_CONFIG",
            models=f"{package}.networks:build_multi_agent_models",
            memory="rollout",
            network_keys="steprl.core.multi_agent_networks:MULTI_AGENT_NETWORK_KEYS",
            actions=_ANY,
            multi_agent=True,
        )
        for name in ("ippo", "mappo")
    }


MULTI_AGENTS: dict[str, AgentEntry] = _multi_agent_entries("torch")
ALL_AGENTS: dict[str, AgentEntry] = {**AGENTS, **MULTI_AGENTS}  # every name the command accepts

# the agents with a JAX implementation (same presets, same network tables)
JAX_AGENTS: dict[str, AgentEntry] = {
    "ppo": _entry("ppo", "PPO", "mlp:build_ppo_models", "rollout", _ANY, backend="jax"),
    "a2c": _entry("a2c", "A2C", "mlp:build_ppo_models", "rollout", _ANY, backend="jax"),
    "rpo": _entry("rpo", "RPO", "onpolicy:build_rpo_models", "rollout", _BOX, backend="jax"),
    "cem": _entry("cem", "CEM", "tabular:build_cem_models", "rollout", _DISCRETE, backend="jax"),
    "dqn": _entry("dqn", "DQN", "q:build_dqn_models", "replay", _DISCRETE, backend="jax"),
    "ddqn": _entry("dqn", "DDQN", "q:build_dqn_models", "replay", _DISCRETE, backend="jax"),
    "sac": _entry("sac", "SAC", "sac:build_sac_models", "replay", _BOX, backend="jax"),
    "td3": _entry("td3", "TD3", "deterministic:build_td3_models", "replay", _BOX, backend="jax", bounded_actions=True),
    "ddpg": _entry("ddpg", "DDPG", "deterministic:build_ddpg_models", "replay", _BOX, backend="jax", bounded_actions=True),
}
JAX_ALL_AGENTS: dict[str, AgentEntry] = {**JAX_AGENTS, **_multi_agent_entries("jax")}  # with IPPO and MAPPO
BACKEND_AGENTS: dict[str, dict[str, AgentEntry]] = {"torch": ALL_AGENTS, "jax": JAX_ALL_AGENTS}


def agents_for(backend: str) -> dict[str, AgentEntry]:
    """The agents the command trains on ``backend`` (``"torch"`` or ``"jax"``)."""
    return BACKEND_AGENTS[backend]
