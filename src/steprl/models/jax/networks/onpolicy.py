"""JAX model builder for RPO: a Gaussian policy that applies the perturbation the agent asks for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import gymnasium
import jax

from steprl.core.networks import PPO_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax import Model
from steprl.models.jax.networks.mlp import MLPGaussianPolicy, MLPValue, initialised

__all__ = ["RPO_NETWORK_KEYS", "MLPRPOGaussianPolicy", "build_rpo_models"]

RPO_NETWORK_KEYS = PPO_NETWORK_KEYS  # keys read by build_rpo_models


class MLPRPOGaussianPolicy(MLPGaussianPolicy):
    """:class:`MLPGaussianPolicy` whose mean gets ``U(-alpha, alpha)`` noise (drawn with ``inputs["key"]``, per
    sample and action dimension) when ``inputs["alpha"]`` is present (training), the plain mean otherwise."""

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        MLPGaussianPolicy.__init__(self, observation_space, action_space, device, *args, **kwargs)

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, jax.Array, dict]:
        mean, log_std = self._mean(inputs)
        alpha = inputs.get("alpha")
        if alpha is not None:
            mean = mean + jax.random.uniform(inputs["key"], mean.shape, mean.dtype, -alpha, alpha)
        return mean, log_std, {}


def build_rpo_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """RPO's perturbed Gaussian policy and a value MLP (initialised) for a Box ``action_space``."""
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise TypeError(
            f"RPO perturbs the mean of a Gaussian policy: it needs a Box action space, got {type(action_space).__name__}"
        )
    check_network_keys(network, RPO_NETWORK_KEYS, "RPO")
    hidden, activation = mlp_layout(network)
    policy = MLPRPOGaussianPolicy(
        observation_space, action_space, device, hidden, activation,
        initial_log_std=float(network.get("initial_log_std", 0.0)),
        clip_actions=bool(network.get("clip_actions", False)),
    )  # fmt: skip
    return initialised(
        {"policy": policy, "value": MLPValue(observation_space, action_space, device, hidden, activation)}
    )
