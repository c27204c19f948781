"""Model builders for the on-policy agents A2C, RPO and TRPO.

A2C and TRPO use :func:`steprl.models.torch.networks.mlp.build_ppo_models` (separate policy and value MLPs). RPO needs a policy that
applies the perturbation the agent asks for: :class:`MLPRPOGaussianPolicy` adds ``U(-alpha, alpha)`` noise to its
mean when ``inputs["alpha"]`` is given (training), and returns the plain mean otherwise (evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import torch

from steprl.models.torch import Model
from steprl.models.torch.networks.mlp import (
    PPO_NETWORK_KEYS,
    MLPGaussianPolicy,
    MLPValue,
    check_network_keys,
    mlp_layout,
)

__all__ = ["RPO_NETWORK_KEYS", "MLPRPOGaussianPolicy", "build_rpo_models"]

RPO_NETWORK_KEYS = PPO_NETWORK_KEYS  # keys read by build_rpo_models


class MLPRPOGaussianPolicy(MLPGaussianPolicy):
    """:class:`~steprl.models.torch.networks.mlp.MLPGaussianPolicy` whose mean is perturbed by ``U(-alpha, alpha)`` noise (per
    sample and action dimension) when ``inputs["alpha"]`` is present."""

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        mean, log_std, outputs = super().compute(inputs, role)
        alpha = inputs.get("alpha")
        if alpha:
            mean = mean + torch.empty_like(mean).uniform_(-float(alpha), float(alpha))
        return mean, log_std, outputs


def build_rpo_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """RPO's perturbed Gaussian policy and a value MLP for a Box ``action_space`` (``network`` keys as
    :func:`steprl.models.torch.networks.mlp.build_ppo_models`: ``hidden``, ``activation``, ``initial_log_std``, ``clip_actions``)."""
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise TypeError(f"RPO perturbs the mean of a Gaussian policy: it needs a Box action space, got {type(action_space).__name__}")
    check_network_keys(network, RPO_NETWORK_KEYS, "RPO")
    hidden, activation = mlp_layout(network)
    policy = MLPRPOGaussianPolicy(
        observation_space,
        action_space,
        device,
        hidden,
        activation,
        initial_log_std=float(network.get("initial_log_std", 0.0)),
        clip_actions=bool(network.get("clip_actions", False)),
    )
    return {"policy": policy, "value": MLPValue(observation_space, action_space, device, hidden, activation)}
