"""Multi-Agent PPO (Yu et al., 2022) on JAX: decentralised policies, centralised values that see the global state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.multi_agent_rollout import MAPPOMixin
from steprl.core.on_policy_defaults import with_shared_state_preprocessor
from steprl.multi_agents.jax.ippo.ippo import IPPO_DEFAULT_CONFIG
from steprl.multi_agents.jax.rollout import MultiAgentRollout

__all__ = ["MAPPO", "MAPPO_DEFAULT_CONFIG"]

MAPPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(with_shared_state_preprocessor(IPPO_DEFAULT_CONFIG.copy()))


class MAPPO(MAPPOMixin, MultiAgentRollout):
    """Multi-Agent PPO: each agent's policy acts on its own observation; its value model sees the global state.

    The trainer puts the environment's global state (``env.state()``) before and after each step in
    ``infos["shared_states"]`` / ``infos["shared_next_states"]``; they are stored with each agent's transition and
    preprocessed by ``shared_state_preprocessor``. ``shared_observation_spaces`` (dict uid → space, or one space)
    gives their size. Per-agent hyperparameters and parameter sharing work as in IPPO.
    """

    _global_state = True

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Any = None,
        action_spaces: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
        shared_observation_spaces: Any = None,
    ) -> None:
        cfg = merge_config(MAPPO_DEFAULT_CONFIG, cfg, where="MAPPO cfg")
        self._set_shared_spaces(shared_observation_spaces, possible_agents)
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg, "MAPPO")

    def _rollout_extras(self, gather: Callable[[str], Any]) -> dict[str, Any]:
        return {"shared": gather("shared_states"), "shared_next": gather("shared_next_states")}
