"""SAC models built from a ``network`` table (the ``steprl`` command's presets and the SAC benchmark use them).

- :class:`MLPSquashedGaussianPolicy`: a diagonal Gaussian whose sample is squashed by ``tanh`` and scaled to the
  Box bounds; the log-probability includes the change-of-variables correction of the squashing and the scaling;
- two :class:`~steprl.models.jax.networks.deterministic.MLPQFunction` critics and their target copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from steprl.core.networks import SAC_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax import Model
from steprl.models.jax._jit import jitted, split_inputs
from steprl.models.jax._random import next_key
from steprl.models.jax.networks.deterministic import MLPQFunction
from steprl.models.jax.networks.mlp import encode_states, initialised, mlp

__all__ = [
    "SAC_NETWORK_KEYS",
    "MLPSquashedGaussianPolicy",
    "build_sac_models",
    "squashed_gaussian_sample",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


def squashed_gaussian_sample(
    mean: jax.Array, log_std: jax.Array, scale: jax.Array, bias: jax.Array, noise: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Reparameterised sample ``a = bias + scale·tanh(mean + std·ε)`` and its log-density ``(B, 1)``.

    ``log π(a) = Σ [log N(u; mean, std) − log(1 − tanh²u) − log scale]`` with the numerically stable
    ``log(1 − tanh²u) = 2·(log 2 − u − softplus(−2u))``.
    """
    u = mean + jnp.exp(log_std) * noise
    log_det = 2.0 * (_LOG_2 - u - jax.nn.softplus(-2.0 * u))
    log_prob = jnp.sum(-0.5 * noise**2 - log_std - log_det - jnp.log(scale) - _HALF_LOG_2PI, axis=-1, keepdims=True)
    return bias + scale * jnp.tanh(u), log_prob


def _scale_bias(action_space: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Half range and center of the Box (unbounded dimensions: [-1, 1])."""
    low, high = -np.ones(size, np.float32), np.ones(size, np.float32)
    if isinstance(action_space, gymnasium.spaces.Box):
        space_low = np.asarray(action_space.low, np.float32).reshape(-1)
        space_high = np.asarray(action_space.high, np.float32).reshape(-1)
        bounded = np.isfinite(space_low) & np.isfinite(space_high)
        low, high = np.where(bounded, space_low, low), np.where(bounded, space_high, high)
    return (high - low) / 2.0, (high + low) / 2.0


class MLPSquashedGaussianPolicy(Model):
    """Tanh-squashed diagonal Gaussian policy with a state-dependent ``log_std`` head (Haarnoja et al., 2018).

    One MLP trunk and one linear head producing ``[mean, log_std]``; ``log_std`` is mapped smoothly into
    ``[min_log_std, max_log_std]`` with ``tanh``. ``act`` returns ``(actions, log_prob (B, 1), outputs)`` with
    ``outputs["mean_actions"]`` the squashed, scaled mean (deterministic evaluation) and ``outputs["log_std"]``.
    """

    hidden: tuple[int, ...] = (256, 256)  # flax fields: module copies made inside init/apply keep the layout
    activation: str = "relu"
    min_log_std: float = -5.0
    max_log_std: float = 2.0

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        min_log_std: float = -5.0,
        max_log_std: float = 2.0,
        **kwargs: Any,
    ) -> None:
        if not min_log_std < max_log_std:
            raise ValueError(f"min_log_std ({min_log_std}) must be < max_log_std ({max_log_std})")
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        self.hidden, self.activation = tuple(hidden), activation
        self.min_log_std, self.max_log_std = float(min_log_std), float(max_log_std)

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, jax.Array, dict]:
        """``(mean, log_std, {})`` of the pre-squash Gaussian."""
        x = encode_states(self.observation_space, inputs["states"])
        mean, raw = jnp.split(mlp(x, self.hidden, 2 * self.num_actions, self.activation, head_gain=1.0), 2, axis=-1)
        log_std = self.min_log_std + 0.5 * (self.max_log_std - self.min_log_std) * (jnp.tanh(raw) + 1.0)
        return mean, log_std, {}

    def act_pure(
        self, params: Any, inputs: Mapping[str, Any], role: str, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``act``: a squashed sample and its log-probability."""
        inputs, key = split_inputs(inputs, key)
        mean, log_std, outputs = self.apply(params, inputs, role)
        scale, bias = _scale_bias(self.action_space, self.num_actions)
        actions, log_prob = squashed_gaussian_sample(mean, log_std, scale, bias, jax.random.normal(key, mean.shape))
        outputs = {**outputs, "mean_actions": bias + scale * jnp.tanh(mean), "log_std": log_std}
        return actions, log_prob, outputs

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[jax.Array, jax.Array, dict]:
        """Sample actions (one jitted call); the key is ``inputs["key"]`` or a fresh subkey of ``config.jax.key``."""
        key = inputs.get("key")
        key = next_key() if key is None else key
        inputs = {k: v for k, v in inputs.items() if k != "key"}
        return jitted(self, "squashed_gaussian", role, self.act_pure)(self._params(params), inputs, key)


def build_sac_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """Initialised policy, two critics and their targets for a Box ``action_space`` from a ``network`` table.

    ``network`` keys: ``hidden`` (default [256, 256]), ``activation`` (default relu), and the policy's
    ``min_log_std`` / ``max_log_std`` (default -5 / 2). ``num_envs`` is unused (the common builder signature).
    """
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise TypeError(f"SAC needs a gymnasium Box action space, got {type(action_space).__name__}")
    check_network_keys(network, SAC_NETWORK_KEYS, "SAC")
    hidden, activation = mlp_layout(network, hidden=(256, 256), activation="relu")
    models: dict[str, Model] = {
        "policy": MLPSquashedGaussianPolicy(
            observation_space, action_space, device, hidden, activation,
            min_log_std=float(network.get("min_log_std", -5.0)), max_log_std=float(network.get("max_log_std", 2.0)),
        )
    }  # fmt: skip
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        models[role] = MLPQFunction(observation_space, action_space, device, hidden, activation)
    return initialised(models)
