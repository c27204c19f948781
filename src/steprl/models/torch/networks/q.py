"""Q-networks over Discrete actions for DQN and DDQN (one output per action)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import torch

from steprl.core.networks import DQN_NETWORK_KEYS
from steprl.models.torch import DeterministicMixin, Model
from steprl.models.torch.networks.encoding import encode_states
from steprl.models.torch.networks.mlp import build_mlp, check_network_keys, mlp_layout

__all__ = ["DQN_NETWORK_KEYS", "MLPDiscreteQNetwork", "build_dqn_models"]



class MLPDiscreteQNetwork(DeterministicMixin, Model):
    """``Q(s, ·)``: an MLP from the observation to one action value per discrete action (``(B, n)``)."""

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any, hidden: Sequence[int], activation: str
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.net = build_mlp(self.num_observations, hidden, self.num_actions, activation, head_gain=1.0)
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(encode_states(self, inputs["states"])), {}


def build_dqn_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """``q_network`` and ``target_q_network`` MLPs (the agent copies the former into the latter).

    ``network`` keys: ``hidden`` (list of layer sizes, default [64, 64]) and ``activation`` (default relu).
    ``num_envs`` is unused (the common builder signature).
    """
    if not isinstance(action_space, gymnasium.spaces.Discrete):
        raise TypeError(f"DQN and DDQN need a Discrete action space, got {type(action_space).__name__}")
    check_network_keys(network, DQN_NETWORK_KEYS, "Q-network")
    hidden, activation = mlp_layout(network, activation="relu")
    return {
        "q_network": MLPDiscreteQNetwork(observation_space, action_space, device, hidden, activation),
        "target_q_network": MLPDiscreteQNetwork(observation_space, action_space, device, hidden, activation),
    }
