"""MLP models for the JAX IPPO and MAPPO from a ``network`` table (the ``steprl`` command, the examples)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.core.multi_agent_networks import MULTI_AGENT_NETWORK_KEYS, build_models_with, with_agent_id
from steprl.models.jax.networks.mlp import MLPValue, build_ppo_models

__all__ = ["MULTI_AGENT_NETWORK_KEYS", "build_multi_agent_models", "with_agent_id"]


def _value(space: Any, action_space: Any, device: Any, hidden: Sequence[int], activation: str) -> MLPValue:
    value = MLPValue(space, action_space, device, hidden, activation)
    value.init_state_dict("value")
    return value


def build_multi_agent_models(
    possible_agents: Sequence[str],
    observation_spaces: Mapping[str, Any],
    action_spaces: Mapping[str, Any],
    device: Any,
    network: Mapping[str, Any],
    value_spaces: Mapping[str, Any] | None = None,
    share_parameters: bool = False,
) -> dict[str, dict[str, Any]]:
    """``models[uid] = {"policy": ..., "value": ...}``, initialised, built by
    :func:`~steprl.models.jax.networks.build_ppo_models` (``network`` keys likewise).

    ``value_spaces``: what each value model observes (MAPPO: the global state space; default: the agent's
    observation). ``share_parameters``: one policy and one value for every agent (spaces must be equal), their
    inputs extended by a one-hot agent id — build the agent with ``cfg["append_agent_id"] = True``.
    """
    return build_models_with(
        build_ppo_models, _value, possible_agents, observation_spaces, action_spaces, device, network,
        value_spaces, share_parameters,
    )  # fmt: skip
