"""Independent PPO (de Witt et al., 2020) on JAX: one PPO learner per agent, each value seeing its agent's
observation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.on_policy_defaults import IPPO_DEFAULTS, without
from steprl.multi_agents.jax.rollout import MultiAgentRollout

__all__ = ["IPPO", "IPPO_DEFAULT_CONFIG"]

# the PyTorch IPPO's keys and defaults without "mixed_precision"
IPPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(IPPO_DEFAULTS, "mixed_precision"))


class IPPO(MultiAgentRollout):
    """Independent PPO: every agent learns its own policy and value from its own observations.

    Hyperparameters may be given per agent as dicts keyed by uid (e.g. ``cfg["learning_rate"] = {"agent_0": 1e-3,
    "agent_1": 3e-4}``). Agents given the same policy and value objects share parameters: they act with one policy
    call and are trained together on all their data (see ``cfg["append_agent_id"]``). Models must be initialised
    (``init_state_dict(role)``) before building the agent.
    """

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Any = None,
        action_spaces: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(IPPO_DEFAULT_CONFIG, cfg, where="IPPO cfg")
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg, "IPPO")
