"""Model builders of the ``steprl`` command for the on-policy agents A2C, RPO and TRPO.

A2C and TRPO use :func:`steprl.utils.mlp.build_ppo_models` (separate policy and value MLPs). RPO needs a policy that
applies the perturbation the agent asks for: :class:`MLPRPOGaussianPolicy` adds ``U(-alpha, alpha)`` noise to its
mean when ``inputs["alpha"]`` is given (training), and returns the plain mean otherwise (evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import torch

from steprl.models.torch import Model
from steprl.utils.mlp import MLPGaussianPolicy, MLPValue, mlp_layout

__all__ = ["MLPRPOGaussianPolicy", "build_rpo_models"]


class MLPRPOGaussianPolicy(MLPGaussianPolicy):
    """:class:`~steprl.utils.mlp.MLPGaussianPolicy` whose mean is perturbed by ``U(-alpha, alpha)`` noise (per
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
    :func:`steprl.utils.mlp.build_ppo_models`: ``hidden``, ``activation``, ``initial_log_std``, ``clip_actions``)."""
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise TypeError(f"RPO perturbs the mean of a Gaussian policy: it needs a Box action space, got {type(action_space).__name__}")
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
