"""Recurrent (GRU, LSTM, plain RNN) models in skrl's recurrent-model style, and their builders for the ``*_RNN`` agents.

The model contract the recurrent agents rely on (skrl's):

- ``get_specification()["rnn"]``: ``sequence_length`` and ``sizes``, one ``(num_layers, num_envs, hidden_size)``
  per hidden-state tensor (one for GRU/RNN, two for LSTM: ``h`` and ``c``);
- ``inputs["rnn"]``: the hidden states. In evaluation mode (acting) they are the current per-environment states and
  ``inputs["states"]`` holds one step; in training mode ``inputs["states"]`` holds whole sequences
  (``sequence_length`` consecutive rows each) and ``inputs["rnn"]`` one hidden state per row, of which each
  sequence's first is its starting state;
- ``inputs["terminated"]`` (training mode, optional): episode ends, after which the hidden state restarts at zero;
- ``outputs["rnn"]``: the new hidden states.

``cell = "none"`` in a ``network`` table builds the same models without memory (:class:`FeedForwardCore`), the
feed-forward twins of the comparisons. The critics of the replay agents (:class:`RecurrentQFunction`) receive the policy's hidden states, as in skrl, so they
must declare the policy's sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from steprl.core.networks import check_network_keys, mlp_layout
from steprl.models.torch import DeterministicMixin, GaussianMixin, Model
from steprl.models.torch.networks.encoding import encode_states
from steprl.models.torch.networks.mlp import build_mlp

__all__ = [
    "CELLS",
    "RECURRENT_NETWORK_KEYS",
    "FeedForwardCore",
    "RecurrentCore",
    "RecurrentDeterministicPolicy",
    "RecurrentGaussianPolicy",
    "RecurrentQFunction",
    "RecurrentValue",
    "build_ddpg_rnn_models",
    "build_rpo_rnn_models",
    "build_sac_rnn_models",
    "build_td3_rnn_models",
    "build_trpo_rnn_models",
]

CELLS: dict[str, type[nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
# keys read by the recurrent builders
RECURRENT_NETWORK_KEYS = ("cell", "hidden_size", "num_layers", "sequence_length", "hidden", "activation", "initial_log_std")

HiddenStates = list[torch.Tensor]


class RecurrentCore(nn.Module):
    """A GRU/LSTM/RNN over one step per environment (evaluation mode) or over whole sequences (training mode)."""

    def __init__(self, cell: str, inputs: int, hidden_size: int, num_layers: int, num_envs: int, sequence_length: int) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"Unknown recurrent cell {cell!r}: expected one of {', '.join(CELLS)} (or 'none': feed-forward)")
        for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers), ("num_envs", num_envs),
                            ("sequence_length", sequence_length)):
            if int(value) < 1:
                raise ValueError(f"RecurrentCore {name} must be >= 1, got {value}")
        self.cell, self.hidden_size, self.num_layers = cell, int(hidden_size), int(num_layers)
        self.num_envs, self.sequence_length = int(num_envs), int(sequence_length)
        self.rnn = CELLS[cell](inputs, self.hidden_size, num_layers=self.num_layers, batch_first=True)

    def specification(self) -> dict[str, Any]:
        """The ``get_specification()`` of a model built on this core."""
        size = (self.num_layers, self.num_envs, self.hidden_size)
        return {"rnn": {"sequence_length": self.sequence_length, "sizes": [size] * (2 if self.cell == "lstm" else 1)}}

    def _run(self, x: torch.Tensor, hidden: HiddenStates) -> tuple[torch.Tensor, HiddenStates]:
        if self.cell == "lstm":
            out, (h, c) = self.rnn(x, (hidden[0], hidden[1]))
            return out, [h, c]
        out, h = self.rnn(x, hidden[0])
        return out, [h]

    def forward(self, inputs: Mapping[str, Any], training: bool) -> tuple[torch.Tensor, HiddenStates]:
        """``(features (rows, hidden_size), new hidden states)`` for ``inputs`` (see the module docstring)."""
        states = inputs["states"]
        hidden = list(inputs["rnn"])
        if not training:
            out, hidden = self._run(states.view(-1, 1, states.shape[-1]), hidden)
            return out.flatten(0, 1), hidden
        length = self.sequence_length
        x = states.view(-1, length, states.shape[-1])
        # each sequence starts from the hidden state stored with its first row
        hidden = [h.view(h.shape[0], -1, length, h.shape[-1])[:, :, 0].contiguous() for h in hidden]
        terminated = inputs.get("terminated")
        if terminated is None:
            out, hidden = self._run(x, hidden)
            return out.flatten(0, 1), hidden
        done = terminated.view(-1, length)
        # restart at zero after an episode end: run segment by segment between the positions where any sequence ended
        cuts = [0, *(done[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist(), length]
        outputs = []
        for start, stop in zip(cuts[:-1], cuts[1:]):
            out, hidden = self._run(x[:, start:stop], hidden)
            keep = (~done[:, stop - 1]).view(1, -1, 1).to(out.dtype)
            hidden = [h * keep for h in hidden]
            outputs.append(out)
        return torch.cat(outputs, dim=1).flatten(0, 1), hidden


class FeedForwardCore(nn.Module):
    """The feed-forward twin of :class:`RecurrentCore` (``cell = "none"``): one ``Linear → tanh`` layer of the same
    width, no hidden states, no ``rnn`` specification (the same models without memory, for comparisons)."""

    def __init__(self, inputs: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = int(hidden_size)
        self.layer = nn.Sequential(nn.Linear(inputs, self.hidden_size), nn.Tanh())

    def specification(self) -> dict[str, Any]:
        return {}

    def forward(self, inputs: Mapping[str, Any], training: bool) -> tuple[torch.Tensor, HiddenStates]:
        return self.layer(inputs["states"]), []


def _core(network: Mapping[str, Any], inputs: int, num_envs: int) -> RecurrentCore | FeedForwardCore:
    cell, hidden_size = str(network.get("cell", "gru")), int(network.get("hidden_size", 64))
    if cell == "none":
        return FeedForwardCore(inputs, hidden_size)
    return RecurrentCore(cell, inputs, hidden_size, int(network.get("num_layers", 1)), num_envs,
                         int(network.get("sequence_length", 16)))


def _box_affine(action_space: Any, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scale, bias)`` mapping ``[-1, 1]`` onto a bounded Box action space."""
    low = np.asarray(action_space.low, dtype=np.float32).reshape(-1)
    high = np.asarray(action_space.high, dtype=np.float32).reshape(-1)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"Recurrent policies need a Box action space with finite bounds, got {action_space}")
    scale = torch.as_tensor((high - low) / 2.0, device=device)
    return scale, torch.as_tensor((high + low) / 2.0, device=device)


class _Recurrent(Model):
    """A model with a :class:`RecurrentCore` and an MLP head over its features (and the actions, for Q-functions);
    ``outputs=None``: one output per action dimension."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, num_envs: int, network: Mapping[str, Any],
                 outputs: int | None, head_gain: float, with_actions: bool = False) -> None:
        Model.__init__(self, observation_space, action_space, device)
        self.core = _core(network, self.num_observations, num_envs)
        hidden, activation = mlp_layout(network, (64,), "relu")
        self._with_actions = with_actions
        width = self.core.hidden_size + (self.num_actions if with_actions else 0)
        self.head = build_mlp(width, hidden, self.num_actions if outputs is None else outputs, activation, head_gain)
        self.to(self.device)

    def get_specification(self) -> dict[str, Any]:
        return self.core.specification()

    def _features(self, inputs: Mapping[str, Any]) -> tuple[torch.Tensor, HiddenStates]:
        features, hidden = self.core({**inputs, "states": encode_states(self, inputs["states"])}, self.training)
        if self._with_actions:
            features = torch.cat([features, inputs["taken_actions"]], dim=-1)
        return self.head(features), hidden


class RecurrentGaussianPolicy(GaussianMixin, _Recurrent):
    """Gaussian policy: ``tanh`` mean scaled to the Box bounds, state-independent ``log_std``; with ``inputs["alpha"]``
    (RPO) the mean is perturbed by ``U(-alpha, alpha)``."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, num_envs: int, network: Mapping[str, Any]) -> None:
        _Recurrent.__init__(self, observation_space, action_space, device, num_envs, network, None, 0.01)
        GaussianMixin.__init__(self, clip_actions=True, clip_log_std=True, min_log_std=-20.0, max_log_std=2.0)
        self.log_std_parameter = nn.Parameter(
            torch.full((self.num_actions,), float(network.get("initial_log_std", 0.0)), device=self.device))
        scale, bias = _box_affine(action_space, self.device)
        self.register_buffer("action_scale", scale)
        self.register_buffer("action_bias", bias)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        out, hidden = self._features(inputs)
        mean = self.action_bias + self.action_scale * torch.tanh(out)
        if "alpha" in inputs:
            mean = mean + torch.empty_like(mean).uniform_(-1.0, 1.0) * float(inputs["alpha"])
        return mean, self.log_std_parameter, {"rnn": hidden}


class RecurrentDeterministicPolicy(DeterministicMixin, _Recurrent):
    """Deterministic policy: ``tanh`` output scaled to the Box bounds."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, num_envs: int, network: Mapping[str, Any]) -> None:
        _Recurrent.__init__(self, observation_space, action_space, device, num_envs, network, None, 0.01)
        DeterministicMixin.__init__(self, clip_actions=False)
        scale, bias = _box_affine(action_space, self.device)
        self.register_buffer("action_scale", scale)
        self.register_buffer("action_bias", bias)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        out, hidden = self._features(inputs)
        return self.action_bias + self.action_scale * torch.tanh(out), {"rnn": hidden}


class RecurrentValue(DeterministicMixin, _Recurrent):
    """State-value function ``V(s)`` over the recurrent features."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, num_envs: int, network: Mapping[str, Any]) -> None:
        _Recurrent.__init__(self, observation_space, action_space, device, num_envs, network, 1, 1.0)
        DeterministicMixin.__init__(self, clip_actions=False)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        out, hidden = self._features(inputs)
        return out, {"rnn": hidden}


class RecurrentQFunction(DeterministicMixin, _Recurrent):
    """Action-value function ``Q(s, a)``: the recurrent features of the states, concatenated with the actions."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, num_envs: int, network: Mapping[str, Any]) -> None:
        _Recurrent.__init__(self, observation_space, action_space, device, num_envs, network, 1, 1.0, with_actions=True)
        DeterministicMixin.__init__(self, clip_actions=False)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        out, hidden = self._features(inputs)
        return out, {"rnn": hidden}


def _check(observation_space: Any, action_space: Any, network: Mapping[str, Any], what: str) -> None:
    check_network_keys(network, RECURRENT_NETWORK_KEYS, what)
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise ValueError(f"{what} recurrent models need a Box action space, got {action_space}")


def _rollout_models(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int,
                    what: str) -> dict[str, Model]:
    _check(observation_space, action_space, network, what)
    return {"policy": RecurrentGaussianPolicy(observation_space, action_space, device, num_envs, network),
            "value": RecurrentValue(observation_space, action_space, device, num_envs, network)}


def build_rpo_rnn_models(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any],
                         num_envs: int = 1) -> dict[str, Model]:
    """RPO_RNN: a recurrent Gaussian policy (perturbed by ``alpha``) and a recurrent value."""
    return _rollout_models(observation_space, action_space, device, network, num_envs, "RPO_RNN")


def build_trpo_rnn_models(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any],
                          num_envs: int = 1) -> dict[str, Model]:
    """TRPO_RNN: a recurrent Gaussian policy and a recurrent value."""
    return _rollout_models(observation_space, action_space, device, network, num_envs, "TRPO_RNN")


def _critics(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int,
             roles: tuple[str, ...]) -> dict[str, Model]:
    return {role: RecurrentQFunction(observation_space, action_space, device, num_envs, network) for role in roles}


def build_sac_rnn_models(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any],
                         num_envs: int = 1) -> dict[str, Model]:
    """SAC_RNN: a recurrent Gaussian policy, two recurrent critics and their targets."""
    _check(observation_space, action_space, network, "SAC_RNN")
    models = {"policy": RecurrentGaussianPolicy(observation_space, action_space, device, num_envs, network)}
    roles = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    return {**models, **_critics(observation_space, action_space, device, network, num_envs, roles)}


def _deterministic(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int,
                   critics: tuple[str, ...], what: str) -> dict[str, Model]:
    _check(observation_space, action_space, network, what)
    models: dict[str, Model] = {
        role: RecurrentDeterministicPolicy(observation_space, action_space, device, num_envs, network)
        for role in ("policy", "target_policy")
    }
    roles = (*critics, *(f"target_{c}" for c in critics))
    return {**models, **_critics(observation_space, action_space, device, network, num_envs, roles)}


def build_td3_rnn_models(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any],
                         num_envs: int = 1) -> dict[str, Model]:
    """TD3_RNN: a recurrent deterministic policy, two recurrent critics and the target copies."""
    return _deterministic(observation_space, action_space, device, network, num_envs, ("critic_1", "critic_2"), "TD3_RNN")


def build_ddpg_rnn_models(observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any],
                          num_envs: int = 1) -> dict[str, Model]:
    """DDPG_RNN: a recurrent deterministic policy, one recurrent critic and the target copies."""
    return _deterministic(observation_space, action_space, device, network, num_envs, ("critic",), "DDPG_RNN")

