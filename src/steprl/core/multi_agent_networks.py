"""IPPO/MAPPO models from a ``network`` table, written once for every backend (the backend passes its builders)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np

from steprl.core.networks import PPO_NETWORK_KEYS, mlp_layout
from steprl.utils.spaces.common import compute_space_size

__all__ = ["MULTI_AGENT_NETWORK_KEYS", "build_models_with", "with_agent_id"]

# keys of a preset's network table: the MLP's, and whether the agents share one policy and one value
MULTI_AGENT_NETWORK_KEYS = (*PPO_NETWORK_KEYS, "share_parameters")


def with_agent_id(space: Any, num_agents: int) -> gymnasium.spaces.Box:
    """The flat Box a model sees when a one-hot agent id (``num_agents`` entries) follows the observation."""
    return gymnasium.spaces.Box(-np.inf, np.inf, (compute_space_size(space) + num_agents,), np.float32)


def build_models_with(
    build_ppo_models: Callable[..., dict[str, Any]],
    value_model: Callable[..., Any],
    possible_agents: Sequence[str],
    observation_spaces: Mapping[str, Any],
    action_spaces: Mapping[str, Any],
    device: Any,
    network: Mapping[str, Any],
    value_spaces: Mapping[str, Any] | None = None,
    share_parameters: bool = False,
) -> dict[str, dict[str, Any]]:
    """``models[uid] = {"policy": ..., "value": ...}`` from the backend's ``build_ppo_models(observation_space,
    action_space, device, network)`` and ``value_model(space, action_space, device, hidden, activation)`` (used when
    the value observes ``value_spaces`` instead of the agent's observation: MAPPO's global state).

    ``share_parameters``: one policy and one value for every agent (spaces must be equal), their inputs extended by
    a one-hot agent id — build the agent with ``cfg["append_agent_id"] = True``.
    """
    agents = list(possible_agents)
    value_spaces = value_spaces or observation_spaces
    network = {key: value for key, value in network.items() if key != "share_parameters"}
    hidden, activation = mlp_layout(network)
    extra = len(agents) if share_parameters else 0

    def build(uid: str) -> dict[str, Any]:
        policy_space, value_space = observation_spaces[uid], value_spaces[uid]
        if extra:
            policy_space, value_space = with_agent_id(policy_space, extra), with_agent_id(value_space, extra)
        models = build_ppo_models(policy_space, action_spaces[uid], device, network)
        if value_spaces is not observation_spaces:
            models["value"] = value_model(value_space, action_spaces[uid], device, hidden, activation)
        return models

    if not share_parameters:
        return {uid: build(uid) for uid in agents}
    first = agents[0]
    for uid in agents[1:]:
        for what, spaces in (("observation", observation_spaces), ("action", action_spaces), ("value", value_spaces)):
            if spaces[uid] != spaces[first]:
                raise ValueError(
                    f"Parameter sharing needs equal {what} spaces: agent '{uid}' has {spaces[uid]}, "
                    f"'{first}' has {spaces[first]}"
                )
    shared = build(first)
    return {uid: shared for uid in agents}
