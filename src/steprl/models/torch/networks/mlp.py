"""Multilayer-perceptron models built from a ``network`` table (the ``steprl`` command's presets use them).

- :class:`MLPCategoricalPolicy` for Discrete actions (logits head),
- :class:`MLPGaussianPolicy` for Box actions (mean head + a state-independent ``log_std`` parameter),
- :class:`MLPValue`, a deterministic state-value function.

Weights use orthogonal initialization (gain sqrt(2) for hidden layers, 0.01 for the policy head, 1.0 for the
value head) and zero biases, as in the PPO implementation details of Huang et al. (2022).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import torch
from torch import nn

from steprl.core.networks import PPO_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model
from steprl.models.torch.networks.encoding import encode_states

__all__ = [
    "ACTIVATIONS",
    "PPO_NETWORK_KEYS",
    "MLPCategoricalPolicy",
    "MLPGaussianPolicy",
    "MLPQFunction",
    "MLPValue",
    "build_mlp",
    "build_ppo_models",
    "check_network_keys",
    "mlp_layout",
]

ACTIVATIONS: dict[str, type[nn.Module]] = {  # one per steprl.core.networks.ACTIVATION_NAMES
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def build_mlp(inputs: int, hidden: Sequence[int], outputs: int, activation: str, head_gain: float) -> nn.Sequential:
    """``Linear → activation`` per hidden size, then a linear head; orthogonal weights, zero biases."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    size = inputs
    for width in hidden:
        linear = nn.Linear(size, int(width))
        nn.init.orthogonal_(linear.weight, gain=math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear, ACTIVATIONS[activation]()]
        size = int(width)
    head = nn.Linear(size, outputs)
    nn.init.orthogonal_(head.weight, gain=head_gain)
    nn.init.zeros_(head.bias)
    layers.append(head)
    return nn.Sequential(*layers)


class MLPCategoricalPolicy(CategoricalMixin, Model):
    """Categorical policy whose MLP outputs one logit per discrete action."""

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any, hidden: Sequence[int], activation: str
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob=True)
        self.net = build_mlp(self.num_observations, hidden, self.num_actions, activation, head_gain=0.01)
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(encode_states(self, inputs["states"])), {}


class MLPGaussianPolicy(GaussianMixin, Model):
    """Diagonal Gaussian policy: MLP mean and a learned state-independent ``log_std`` vector."""

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any,
        hidden: Sequence[int],
        activation: str,
        initial_log_std: float = 0.0,
        clip_actions: bool = False,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=clip_actions, clip_log_std=True, min_log_std=-20.0, max_log_std=2.0)
        self.net = build_mlp(self.num_observations, hidden, self.num_actions, activation, head_gain=0.01)
        self.log_std_parameter = nn.Parameter(torch.full((self.num_actions,), float(initial_log_std)))
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        return self.net(encode_states(self, inputs["states"])), self.log_std_parameter, {}


class MLPValue(DeterministicMixin, Model):
    """State-value function ``V(s)`` (one output)."""

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any, hidden: Sequence[int], activation: str
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.net = build_mlp(self.num_observations, hidden, 1, activation, head_gain=1.0)
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(encode_states(self, inputs["states"])), {}


class MLPQFunction(DeterministicMixin, Model):
    """Action-value function ``Q(s, a)`` of a Box action space: an MLP over ``[states, taken_actions]``."""

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any, hidden: Sequence[int], activation: str
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=False)
        self.net = build_mlp(self.num_observations + self.num_actions, hidden, 1, activation, head_gain=1.0)
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(torch.cat([encode_states(self, inputs["states"]), inputs["taken_actions"].float()], dim=-1)), {}


def build_ppo_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """Separate policy and value MLPs for ``action_space`` from a ``network`` table.

    ``network`` keys: ``hidden`` (list of layer sizes, default [64, 64]), ``activation`` (name, default tanh), and
    for Box actions the optional ``initial_log_std`` (default 0.0) and ``clip_actions`` (default false: the
    environment clips). ``num_envs`` is unused (the common builder signature).
    """
    check_network_keys(network, PPO_NETWORK_KEYS, "MLP")
    hidden, activation = mlp_layout(network)
    if isinstance(action_space, gymnasium.spaces.Discrete):
        policy: Model = MLPCategoricalPolicy(observation_space, action_space, device, hidden, activation)
    elif isinstance(action_space, gymnasium.spaces.Box):
        policy = MLPGaussianPolicy(
            observation_space,
            action_space,
            device,
            hidden,
            activation,
            initial_log_std=float(network.get("initial_log_std", 0.0)),
            clip_actions=bool(network.get("clip_actions", False)),
        )
    else:
        raise TypeError(
            f"The steprl command builds policies for Discrete and Box action spaces, got {type(action_space).__name__}"
        )
    return {"policy": policy, "value": MLPValue(observation_space, action_space, device, hidden, activation)}
