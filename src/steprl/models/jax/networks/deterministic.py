"""Multilayer-perceptron JAX models of the deterministic actor-critic agents (TD3, DDPG) and the ``Q(s, a)`` critic
SAC shares with them.

- :class:`MLPDeterministicActor`: ``π(s) = center + half_range · tanh(MLP(s))``, always inside the Box;
- :class:`MLPQFunction`: ``Q(s, a)`` over ``[states, actions]``.

The same layouts as the PyTorch networks; each builder returns initialised models, targets included (the agents
hard-copy the targets at construction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from steprl.core.networks import DETERMINISTIC_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax import DeterministicMixin, Model
from steprl.models.jax.networks.mlp import encode_states, initialised, mlp

__all__ = [
    "DETERMINISTIC_NETWORK_KEYS",
    "MLPDeterministicActor",
    "MLPQFunction",
    "build_ddpg_models",
    "build_td3_models",
]

DEFAULT_HIDDEN = (256, 256)
DEFAULT_ACTIVATION = "relu"


def finite_box(action_space: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat float32 bounds of a Box with finite bounds (``TypeError``/``ValueError`` naming ``what`` otherwise)."""
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise TypeError(f"{what} needs a gymnasium Box action space, got {type(action_space).__name__}")
    low = np.asarray(action_space.low, dtype=np.float32).reshape(-1)
    high = np.asarray(action_space.high, dtype=np.float32).reshape(-1)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"{what} needs finite action bounds (low and high) to scale tanh outputs")
    return low, high


class MLPDeterministicActor(DeterministicMixin, Model):
    """Deterministic policy for a bounded Box action space: an MLP squashed by ``tanh`` and scaled to the bounds."""

    hidden: tuple[int, ...] = DEFAULT_HIDDEN  # flax fields: module copies made inside init/apply keep the layout
    activation: str = DEFAULT_ACTIVATION
    head_gain: float = 1.0

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        activation: str = DEFAULT_ACTIVATION,
        head_gain: float = 1.0,
        **kwargs: Any,
    ) -> None:
        finite_box(action_space, "MLPDeterministicActor")
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.hidden, self.activation, self.head_gain = tuple(hidden), activation, float(head_gain)

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, dict]:
        low, high = finite_box(self.action_space, "MLPDeterministicActor")
        x = encode_states(self.observation_space, inputs["states"])
        out = jnp.tanh(mlp(x, self.hidden, self.num_actions, self.activation, head_gain=self.head_gain))
        return (high + low) / 2 + (high - low) / 2 * out, {}


class MLPQFunction(DeterministicMixin, Model):
    """Action-value function ``Q(s, a)`` of a Box action space: an MLP over ``[states, taken_actions]``."""

    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    activation: str = DEFAULT_ACTIVATION

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        activation: str = DEFAULT_ACTIVATION,
        **kwargs: Any,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.hidden, self.activation = tuple(hidden), activation

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, dict]:
        states = encode_states(self.observation_space, inputs["states"])
        actions = inputs["taken_actions"].reshape(states.shape[0], -1).astype(jnp.float32)
        return mlp(jnp.concatenate([states, actions], axis=-1), self.hidden, 1, self.activation, head_gain=1.0), {}


def _layout(network: Mapping[str, Any]) -> tuple[list[int], str, float]:
    check_network_keys(network, DETERMINISTIC_NETWORK_KEYS, "TD3/DDPG")
    hidden, activation = mlp_layout(network, hidden=DEFAULT_HIDDEN, activation=DEFAULT_ACTIVATION)
    return hidden, activation, float(network.get("actor_head_gain", 1.0))


def _build(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], critics: Sequence[str]
) -> dict[str, Model]:
    hidden, activation, gain = _layout(network)
    models: dict[str, Model] = {
        role: MLPDeterministicActor(observation_space, action_space, device, hidden, activation, head_gain=gain)
        for role in ("policy", "target_policy")
    }
    for role in (*critics, *(f"target_{c}" for c in critics)):
        models[role] = MLPQFunction(observation_space, action_space, device, hidden, activation)
    return initialised(models)


def build_td3_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """TD3 roles: ``policy``/``target_policy`` (tanh actors) and ``critic_1``/``critic_2`` + targets (Q MLPs).

    ``network`` keys: ``hidden`` (default [256, 256]), ``activation`` (default relu), ``actor_head_gain``
    (orthogonal gain of the actor's output layer, default 1.0). ``num_envs`` is unused.
    """
    return _build(observation_space, action_space, device, network, ("critic_1", "critic_2"))


def build_ddpg_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """DDPG roles: ``policy``/``target_policy`` (tanh actors), ``critic``/``target_critic`` (Q MLPs); ``network``
    keys as :func:`build_td3_models`."""
    return _build(observation_space, action_space, device, network, ("critic",))
