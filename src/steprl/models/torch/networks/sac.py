"""SAC models built from a ``network`` table (used by the ``steprl`` command's presets and the SAC benchmark).

- :class:`MLPSquashedGaussianPolicy`: a diagonal Gaussian whose sample is squashed by ``tanh`` and scaled to the
  Box bounds; the log-probability includes the change-of-variables correction of the squashing and the scaling.
- two :class:`~steprl.models.torch.networks.mlp.MLPQFunction` critics and their target copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from steprl.core.networks import SAC_NETWORK_KEYS
from steprl.models.torch import Model
from steprl.models.torch.networks.encoding import encode_states
from steprl.models.torch.networks.mlp import ACTIVATIONS, MLPQFunction, check_network_keys, mlp_layout

__all__ = ["SAC_NETWORK_KEYS", "MLPSquashedGaussianPolicy", "build_sac_models", "squashed_gaussian_sample"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


def squashed_gaussian_sample(
    mean: torch.Tensor,
    log_std: torch.Tensor,
    scale: torch.Tensor,
    bias: torch.Tensor,
    log_scale_sum: torch.Tensor,
    noise: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterised sample ``a = bias + scale·tanh(mean + std·ε)`` and its log-density ``(B, 1)``.

    ``log π(a) = Σ [log N(u; mean, std) − log(1 − tanh²u) − log scale]`` with the numerically stable
    ``log(1 − tanh²u) = 2·(log 2 − u − softplus(−2u))``.
    """
    if noise is None:
        noise = torch.randn_like(mean)
    u = mean + log_std.exp() * noise
    log_det = 2.0 * (_LOG_2 - u - F.softplus(-2.0 * u))
    log_prob = (-0.5 * noise.square() - log_std - log_det).sum(dim=-1, keepdim=True) - (
        _HALF_LOG_2PI * mean.shape[-1] + log_scale_sum
    )
    return bias + scale * torch.tanh(u), log_prob


class MLPSquashedGaussianPolicy(Model):
    """Tanh-squashed diagonal Gaussian policy with a state-dependent ``log_std`` head (Haarnoja et al., 2018).

    One MLP trunk and one linear head producing ``[mean, log_std]``; ``log_std`` is mapped smoothly into
    ``[min_log_std, max_log_std]`` with ``tanh``. ``act`` returns ``(actions, log_prob (B, 1), outputs)`` with
    ``outputs["mean_actions"]`` the squashed, scaled mean (deterministic evaluation) and ``outputs["log_std"]``.
    Given ``inputs["taken_actions"]``, ``log_prob`` is that of the given actions (inverted through ``atanh``).
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any,
        hidden: Sequence[int],
        activation: str,
        min_log_std: float = -5.0,
        max_log_std: float = 2.0,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}")
        if not min_log_std < max_log_std:
            raise ValueError(f"min_log_std ({min_log_std}) must be < max_log_std ({max_log_std})")
        layers: list[nn.Module] = []
        size = self.num_observations
        for width in hidden:
            layers += [nn.Linear(size, int(width)), ACTIVATIONS[activation]()]
            size = int(width)
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(size, 2 * self.num_actions)
        self._min_log_std = float(min_log_std)
        self._log_std_range = 0.5 * (float(max_log_std) - float(min_log_std))

        low, high = -np.ones(self.num_actions, np.float32), np.ones(self.num_actions, np.float32)
        if isinstance(action_space, gymnasium.spaces.Box):
            space_low = np.asarray(action_space.low, np.float32).reshape(-1)
            space_high = np.asarray(action_space.high, np.float32).reshape(-1)
            bounded = np.isfinite(space_low) & np.isfinite(space_high)
            low, high = np.where(bounded, space_low, low), np.where(bounded, space_high, high)
        scale = torch.as_tensor((high - low) / 2.0)
        self.register_buffer("action_scale", scale, persistent=False)
        self.register_buffer("action_bias", torch.as_tensor((high + low) / 2.0), persistent=False)
        self.register_buffer("log_scale_sum", scale.log().sum(), persistent=False)
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        """``(mean, log_std, {})`` of the pre-squash Gaussian."""
        mean, raw = self.head(self.trunk(encode_states(self, inputs["states"]))).chunk(2, dim=-1)
        log_std = self._min_log_std + self._log_std_range * (torch.tanh(raw) + 1.0)
        return mean, log_std, {}

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Sample squashed actions (or score ``inputs["taken_actions"]``); see the class docstring."""
        mean, log_std, outputs = self.compute(inputs, role)
        taken = inputs.get("taken_actions")
        noise = None
        if taken is not None:
            squashed = ((taken - self.action_bias) / self.action_scale).clamp(-1.0 + 1e-6, 1.0 - 1e-6)
            noise = (torch.atanh(squashed) - mean) / log_std.exp()
        actions, log_prob = squashed_gaussian_sample(
            mean, log_std, self.action_scale, self.action_bias, self.log_scale_sum, noise
        )
        if taken is not None:
            actions = taken
        outputs["mean_actions"] = self.action_bias + self.action_scale * torch.tanh(mean)
        outputs["log_std"] = log_std
        return actions, log_prob, outputs


def build_sac_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """Policy, two critics and their targets for a Box ``action_space`` from a ``network`` table.

    ``network`` keys: ``hidden`` (layer sizes, default [256, 256]), ``activation`` (default relu), and the policy's
    ``min_log_std`` / ``max_log_std`` (default -5 / 2). ``num_envs`` is unused (the common builder signature).
    """
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise TypeError(f"SAC needs a gymnasium Box action space, got {type(action_space).__name__}")
    check_network_keys(network, SAC_NETWORK_KEYS, "SAC")
    hidden, activation = mlp_layout(network, hidden=(256, 256), activation="relu")
    policy = MLPSquashedGaussianPolicy(
        observation_space,
        action_space,
        device,
        hidden,
        activation,
        min_log_std=float(network.get("min_log_std", -5.0)),
        max_log_std=float(network.get("max_log_std", 2.0)),
    )
    models: dict[str, Model] = {"policy": policy}
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        models[role] = MLPQFunction(observation_space, action_space, device, hidden, activation)
    return models
