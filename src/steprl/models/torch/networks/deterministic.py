"""Multilayer-perceptron models of the deterministic actor-critic agents (TD3, DDPG).

- :class:`MLPDeterministicActor`: ``π(s) = low + (tanh(MLP(s)) + 1) / 2 · (high - low)``, always inside the Box;
- critics: :class:`steprl.models.torch.networks.mlp.MLPQFunction` (``Q(s, a)`` over ``[states, actions]``).

Each builder also returns fresh target copies (the agents freeze and hard-copy them at construction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
import torch

from steprl.core.networks import DETERMINISTIC_NETWORK_KEYS
from steprl.models.torch import DeterministicMixin, Model
from steprl.models.torch.networks.encoding import encode_states
from steprl.models.torch.networks.mlp import MLPQFunction, build_mlp, check_network_keys, mlp_layout

__all__ = ["DETERMINISTIC_NETWORK_KEYS", "MLPDeterministicActor", "build_ddpg_models", "build_td3_models"]

DEFAULT_HIDDEN = (256, 256)
DEFAULT_ACTIVATION = "relu"


class MLPDeterministicActor(DeterministicMixin, Model):
    """Deterministic policy for a bounded Box action space: an MLP squashed by ``tanh`` and scaled to the bounds."""

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any,
        hidden: Sequence[int],
        activation: str,
        head_gain: float = 1.0,
    ) -> None:
        if not isinstance(action_space, gymnasium.spaces.Box):
            raise TypeError(f"MLPDeterministicActor needs a Box action space, got {type(action_space).__name__}")
        if not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all()):
            raise ValueError("MLPDeterministicActor needs finite action bounds (low and high) to scale tanh outputs")
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.net = build_mlp(self.num_observations, hidden, self.num_actions, activation, head_gain=head_gain)
        low = torch.as_tensor(np.asarray(action_space.low, dtype=np.float32).reshape(-1))
        high = torch.as_tensor(np.asarray(action_space.high, dtype=np.float32).reshape(-1))
        self.register_buffer("action_center", (high + low) / 2, persistent=False)
        self.register_buffer("action_half_range", (high - low) / 2, persistent=False)
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.action_center + self.action_half_range * torch.tanh(self.net(encode_states(self, inputs["states"]))), {}


def _layout(network: Mapping[str, Any]) -> tuple[list[int], str, float]:
    check_network_keys(network, DETERMINISTIC_NETWORK_KEYS, "TD3/DDPG")
    hidden, activation = mlp_layout(network, hidden=DEFAULT_HIDDEN, activation=DEFAULT_ACTIVATION)
    return hidden, activation, float(network.get("actor_head_gain", 1.0))


def _actor_pair(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any]) -> dict[str, Model]:
    hidden, activation, gain = _layout(network)
    return {
        role: MLPDeterministicActor(observation_space, action_space, device, hidden, activation, head_gain=gain)
        for role in ("policy", "target_policy")
    }


def _critic(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any]) -> MLPQFunction:
    hidden, activation, _ = _layout(network)
    return MLPQFunction(observation_space, action_space, device, hidden, activation)


def build_td3_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """TD3 roles: ``policy``/``target_policy`` (tanh actors) and ``critic_1``/``critic_2`` + targets (Q MLPs).

    ``network`` keys: ``hidden`` (layer sizes, default [256, 256]), ``activation`` (default relu),
    ``actor_head_gain`` (orthogonal gain of the actor's output layer, default 1.0). ``num_envs`` is unused.
    """
    models = _actor_pair(observation_space, action_space, device, network)
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        models[role] = _critic(observation_space, action_space, device, network)
    return models


def build_ddpg_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """DDPG roles: ``policy``/``target_policy`` (tanh actors), ``critic``/``target_critic`` (Q MLPs).

    ``network`` keys as in :func:`build_td3_models`.
    """
    models = _actor_pair(observation_space, action_space, device, network)
    for role in ("critic", "target_critic"):
        models[role] = _critic(observation_space, action_space, device, network)
    return models
