"""The CEM model builder (JAX): a categorical MLP policy. (The tabular agents have no JAX implementation; the module
name matches the PyTorch one, where the CEM builder sits beside the tables.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium

from steprl.core.networks import CEM_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax import Model
from steprl.models.jax.networks.mlp import MLPCategoricalPolicy, initialised

__all__ = ["CEM_NETWORK_KEYS", "build_cem_models"]


def build_cem_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """An initialised categorical MLP policy (``network``: ``hidden``, default [64, 64]; ``activation``, default
    tanh)."""
    if not isinstance(action_space, gymnasium.spaces.Discrete):
        raise TypeError(f"CEM needs a Discrete action space, got {type(action_space).__name__}")
    check_network_keys(network, CEM_NETWORK_KEYS, "CEM")
    hidden, activation = mlp_layout(network)
    return initialised({"policy": MLPCategoricalPolicy(observation_space, action_space, device, hidden, activation)})
