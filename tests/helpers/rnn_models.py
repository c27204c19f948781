"""skrl-style recurrent (GRU) models for the PPO_RNN tests."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model


class _GRUCore(nn.Module):
    """GRU over ``(N*L, obs)`` sequences in training mode, or one step ``(N, obs)`` in rollout mode (skrl pattern)."""

    def __init__(self, num_obs: int, num_envs: int, num_layers: int, hidden: int, sequence_length: int) -> None:
        super().__init__()
        self.num_envs, self.num_layers, self.hidden, self.sequence_length = num_envs, num_layers, hidden, sequence_length
        self.gru = nn.GRU(num_obs, hidden, num_layers=num_layers, batch_first=True)

    def forward(self, inputs: dict[str, Any], training: bool) -> tuple[torch.Tensor, torch.Tensor]:
        states = inputs["states"]
        terminated = inputs.get("terminated")
        hidden_states = inputs["rnn"][0]
        if training:
            length = self.sequence_length
            rnn_input = states.view(-1, length, states.shape[-1])  # (N, L, obs)
            hidden_states = hidden_states.view(self.num_layers, -1, length, hidden_states.shape[-1])
            hidden_states = hidden_states[:, :, 0, :].contiguous()  # state at each sequence's start
            if terminated is not None and torch.any(terminated):
                rnn_outputs = []
                terminated = terminated.view(-1, length)
                indexes = [0, *(terminated[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist(), length]
                for i0, i1 in zip(indexes[:-1], indexes[1:]):
                    rnn_output, hidden_states = self.gru(rnn_input[:, i0:i1, :], hidden_states)
                    hidden_states = hidden_states.masked_fill(terminated[:, i1 - 1].view(1, -1, 1), 0.0)
                    rnn_outputs.append(rnn_output)
                rnn_output = torch.cat(rnn_outputs, dim=1)
            else:
                rnn_output, hidden_states = self.gru(rnn_input, hidden_states)
        else:
            rnn_output, hidden_states = self.gru(states.view(-1, 1, states.shape[-1]), hidden_states)
        return torch.flatten(rnn_output, start_dim=0, end_dim=1), hidden_states

    def specification(self) -> dict[str, Any]:
        size = (self.num_layers, self.num_envs, self.hidden)
        return {"rnn": {"sequence_length": self.sequence_length, "sizes": [size]}}


class GRUPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, num_envs, num_layers=1, hidden=32, sequence_length=4, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)
        self.core = _GRUCore(self.num_observations, num_envs, num_layers, hidden, sequence_length)
        self.head = nn.Sequential(nn.Linear(hidden, 32), nn.Tanh(), nn.Linear(32, self.num_actions))

    def get_specification(self):
        return self.core.specification()

    def compute(self, inputs, role=""):
        features, hidden_states = self.core(inputs, self.training)
        return self.head(features), {"rnn": [hidden_states]}


class GRUValue(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, num_envs, num_layers=1, hidden=32, sequence_length=4, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.core = _GRUCore(self.num_observations, num_envs, num_layers, hidden, sequence_length)
        self.head = nn.Sequential(nn.Linear(hidden, 32), nn.Tanh(), nn.Linear(32, 1))

    def get_specification(self):
        return self.core.specification()

    def compute(self, inputs, role=""):
        features, hidden_states = self.core(inputs, self.training)
        return self.head(features), {"rnn": [hidden_states]}


class GRUShared(CategoricalMixin, DeterministicMixin, Model):
    """One GRU shared by the policy and value roles (``models["policy"] is models["value"]``)."""

    def __init__(self, observation_space, action_space, num_envs, hidden=16, sequence_length=4, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)
        DeterministicMixin.__init__(self)
        self.core = _GRUCore(self.num_observations, num_envs, 1, hidden, sequence_length)
        self.policy_head = nn.Linear(hidden, self.num_actions)
        self.value_head = nn.Linear(hidden, 1)

    def get_specification(self):
        return self.core.specification()

    def act(self, inputs, role=""):
        if role == "policy":
            return CategoricalMixin.act(self, inputs, role)
        return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role=""):
        features, hidden_states = self.core(inputs, self.training)
        head = self.policy_head if role == "policy" else self.value_head
        return head(features), {"rnn": [hidden_states]}
