"""The agents the ``steprl`` command can train: where each agent, its default config and its model builder live.

Entries name ``"module:attribute"`` paths so that nothing is imported until an agent is used. A model builder has
the signature ``build(observation_space, action_space, device, network: Mapping, num_envs: int) -> dict[str, Model]``
(``network`` is the preset's ``[<agent>.network]`` table, empty when the preset has none).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["AGENTS", "AgentEntry", "import_path"]

MemoryKind = Literal["rollout", "replay", "none"]


@dataclass(frozen=True)
class AgentEntry:
    """One trainable agent of the ``steprl`` command.

    ``memory``: ``"rollout"`` → ``RandomMemory(memory_size=cfg["rollouts"])`` and evaluations aligned to whole
    rollouts; ``"replay"`` → ``RandomMemory(memory_size=<preset memory_size>)``; ``"none"`` → no memory.
    """

    agent: str
    config: str
    models: str
    memory: MemoryKind

    def agent_class(self) -> Any:
        return import_path(self.agent)

    def default_config(self) -> dict[str, Any]:
        return import_path(self.config)

    def build_models(self, observation_space: Any, action_space: Any, device: Any, network: Any, num_envs: int) -> Any:
        return import_path(self.models)(observation_space, action_space, device, network, num_envs)


def import_path(path: str) -> Any:
    """The attribute named by ``"package.module:attribute"``."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _entry(package: str, cls: str, models: str, memory: MemoryKind) -> AgentEntry:
    return AgentEntry(f"{package}:{cls}", f"{package}:{cls}_DEFAULT_CONFIG", models, memory)


_TORCH = "steprl.agents.torch"
AGENTS: dict[str, AgentEntry] = {
    "ppo": _entry(f"{_TORCH}.ppo", "PPO", "steprl.utils.mlp:build_ppo_models", "rollout"),
    "a2c": _entry(f"{_TORCH}.a2c", "A2C", "steprl.utils.mlp:build_ppo_models", "rollout"),
    "rpo": _entry(f"{_TORCH}.rpo", "RPO", "steprl.utils.mlp_onpolicy:build_rpo_models", "rollout"),
    "trpo": _entry(f"{_TORCH}.trpo", "TRPO", "steprl.utils.mlp:build_ppo_models", "rollout"),
    "cem": _entry(f"{_TORCH}.cem", "CEM", "steprl.utils.mlp_tabular:build_cem_models", "rollout"),
    "q_learning": _entry(f"{_TORCH}.q_learning", "Q_LEARNING", "steprl.utils.mlp_tabular:build_tabular_models", "none"),
    "sarsa": _entry(f"{_TORCH}.sarsa", "SARSA", "steprl.utils.mlp_tabular:build_tabular_models", "none"),
    "dqn": _entry(f"{_TORCH}.dqn", "DQN", "steprl.utils.mlp_q:build_dqn_models", "replay"),
    "ddqn": _entry(f"{_TORCH}.dqn", "DDQN", "steprl.utils.mlp_q:build_dqn_models", "replay"),
    "sac": _entry(f"{_TORCH}.sac", "SAC", "steprl.utils.mlp_sac:build_sac_models", "replay"),
    "td3": _entry(f"{_TORCH}.td3", "TD3", "steprl.utils.mlp_deterministic:build_td3_models", "replay"),
    "ddpg": _entry(f"{_TORCH}.ddpg", "DDPG", "steprl.utils.mlp_deterministic:build_ddpg_models", "replay"),
}
