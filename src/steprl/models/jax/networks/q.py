"""Q-networks over Discrete actions for DQN and DDQN (JAX; one output per action)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import gymnasium
import jax

from steprl.core.networks import DQN_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax import DeterministicMixin, Model
from steprl.models.jax.networks.mlp import _check_observations, encode_states, initialised, mlp

__all__ = ["DQN_NETWORK_KEYS", "MLPDiscreteQNetwork", "build_dqn_models"]


class MLPDiscreteQNetwork(DeterministicMixin, Model):
    """``Q(s, ·)``: an MLP from the observation to one action value per discrete action (``(B, n)``)."""

    hidden: tuple[int, ...] = (64, 64)  # flax fields: module copies made inside init/apply keep the layout
    activation: str = "relu"

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        hidden: Sequence[int] = (64, 64),
        activation: str = "relu",
        **kwargs: Any,
    ) -> None:
        _check_observations(observation_space)
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.hidden, self.activation = tuple(hidden), activation

    @nn.compact
    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, dict]:
        x = encode_states(self.observation_space, inputs["states"])
        return mlp(x, self.hidden, self.num_actions, self.activation, head_gain=1.0), {}


def build_dqn_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """Initialised ``q_network`` and ``target_q_network`` MLPs (the agent copies the former into the latter).

    ``network`` keys as the PyTorch builder: ``hidden`` (default [64, 64]) and ``activation`` (default relu).
    ``num_envs`` is unused (the common builder signature).
    """
    if not isinstance(action_space, gymnasium.spaces.Discrete):
        raise TypeError(f"DQN and DDQN need a Discrete action space, got {type(action_space).__name__}")
    check_network_keys(network, DQN_NETWORK_KEYS, "Q-network")
    hidden, activation = mlp_layout(network, activation="relu")
    return initialised({
        "q_network": MLPDiscreteQNetwork(observation_space, action_space, device, hidden, activation),
        "target_q_network": MLPDiscreteQNetwork(observation_space, action_space, device, hidden, activation),
    })  # fmt: skip
