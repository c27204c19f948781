"""Multilayer-perceptron JAX models built from a ``network`` table (the ``steprl`` command's presets use them).

The same layouts as the PyTorch networks: orthogonal weights (gain sqrt(2) for hidden layers, 0.01 for the policy
head, 1.0 for the value head) and zero biases; a learned state-independent ``log_std`` for Gaussian policies.
Observations: Box (flattened) or Discrete (one-hot).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import gymnasium
import jax
import jax.numpy as jnp

from steprl.core.networks import ACTIVATION_NAMES, PPO_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

__all__ = ["MLPCategoricalPolicy", "MLPGaussianPolicy", "MLPValue", "build_ppo_models", "encode_states", "mlp"]

_ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu, "elu": nn.elu, "gelu": nn.gelu, "silu": nn.silu}


def encode_states(space: Any, states: jax.Array) -> jax.Array:
    """Float inputs of a network: Discrete observations one-hot, Box observations flattened."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return jax.nn.one_hot(states.reshape(states.shape[0], -1)[:, 0].astype(jnp.int32), int(space.n))
    return states.reshape(states.shape[0], -1).astype(jnp.float32)


def mlp(x: jax.Array, hidden: Sequence[int], outputs: int, activation: str, head_gain: float) -> jax.Array:
    """``Dense → activation`` per hidden size, then a linear head (call inside an ``@nn.compact`` method)."""
    hidden_init = nn.initializers.orthogonal(math.sqrt(2))
    for width in hidden:
        x = _ACTIVATIONS[activation](nn.Dense(int(width), kernel_init=hidden_init, bias_init=nn.initializers.zeros)(x))
    return nn.Dense(outputs, kernel_init=nn.initializers.orthogonal(head_gain), bias_init=nn.initializers.zeros)(x)


def _check_observations(space: Any) -> None:
    if not isinstance(space, (gymnasium.spaces.Box, gymnasium.spaces.Discrete)):
        raise TypeError(
            f"The JAX networks take Box or Discrete observations, got {type(space).__name__}: "
            "flatten the observation space (gymnasium.wrappers.FlattenObservation) or use --backend torch"
        )


class MLPCategoricalPolicy(CategoricalMixin, Model):
    """Categorical policy whose MLP outputs one logit per discrete action."""

    hidden: tuple[int, ...] = (64, 64)  # flax fields: module copies made inside init/apply keep the layout
    activation: str = "tanh"

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = (64, 64),
        activation: str = "tanh",
        **kwargs: Any,
    ) -> None:
        _check_observations(observation_space)
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self, unnormalized_log_prob=True)
        self.hidden, self.activation = tuple(hidden), activation

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, dict]:
        x = encode_states(self.observation_space, inputs["states"])
        return mlp(x, self.hidden, self.num_actions, self.activation, head_gain=0.01), {}


class MLPGaussianPolicy(GaussianMixin, Model):
    """Diagonal Gaussian policy: MLP mean and a learned state-independent ``log_std`` vector."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    initial_log_std: float = 0.0
    clip_actions: bool = False

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = (64, 64),
        activation: str = "tanh",
        initial_log_std: float = 0.0,
        clip_actions: bool = False,
        **kwargs: Any,
    ) -> None:
        _check_observations(observation_space)
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        GaussianMixin.__init__(self, clip_actions=clip_actions, clip_log_std=True, min_log_std=-20.0, max_log_std=2.0)
        self.hidden, self.activation, self.initial_log_std = tuple(hidden), activation, float(initial_log_std)
        self.clip_actions = bool(clip_actions)

    def _mean(self, inputs: Mapping[str, Any]) -> tuple[jax.Array, jax.Array]:
        x = encode_states(self.observation_space, inputs["states"])
        mean = mlp(x, self.hidden, self.num_actions, self.activation, head_gain=0.01)
        log_std = self.param("log_std", nn.initializers.constant(self.initial_log_std), (self.num_actions,))
        return mean, log_std

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, jax.Array, dict]:
        mean, log_std = self._mean(inputs)
        return mean, log_std, {}


class MLPValue(DeterministicMixin, Model):
    """State-value function ``V(s)`` (one output)."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = (64, 64),
        activation: str = "tanh",
        **kwargs: Any,
    ) -> None:
        _check_observations(observation_space)
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.hidden, self.activation = tuple(hidden), activation

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, dict]:
        x = encode_states(self.observation_space, inputs["states"])
        return mlp(x, self.hidden, 1, self.activation, head_gain=1.0), {}


def build_ppo_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """Separate, initialised policy and value MLPs for ``action_space`` from a ``network`` table (PPO, A2C).

    ``network`` keys as the PyTorch builder: ``hidden`` (default [64, 64]), ``activation`` (default tanh) and, for Box
    actions, ``initial_log_std`` (default 0.0) and ``clip_actions`` (default false). ``num_envs`` is unused.
    """
    check_network_keys(network, PPO_NETWORK_KEYS, "MLP")
    hidden, activation = mlp_layout(network)
    if isinstance(action_space, gymnasium.spaces.Discrete):
        policy: Model = MLPCategoricalPolicy(observation_space, action_space, device, hidden, activation)
    elif isinstance(action_space, gymnasium.spaces.Box):
        policy = MLPGaussianPolicy(
            observation_space, action_space, device, hidden, activation,
            initial_log_std=float(network.get("initial_log_std", 0.0)),
            clip_actions=bool(network.get("clip_actions", False)),
        )  # fmt: skip
    else:
        raise TypeError(
            f"The JAX networks build policies for Discrete and Box action spaces, got {type(action_space).__name__}"
        )
    return initialised(
        {"policy": policy, "value": MLPValue(observation_space, action_space, device, hidden, activation)}
    )


def initialised(models: dict[str, Model]) -> dict[str, Model]:
    """``models`` after ``init_state_dict(role)`` on each."""
    for role, model in models.items():
        model.init_state_dict(role)
    return models


if set(_ACTIVATIONS) != set(ACTIVATION_NAMES):  # pragma: no cover - a maintainer adding a name to one list only
    raise ImportError("steprl.models.jax.networks.mlp must offer every activation of steprl.core.networks")
