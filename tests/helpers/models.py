"""Small models for agent tests."""

from __future__ import annotations

import torch
from torch import nn

from steprl.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model


def mlp(inputs: int, outputs: int, hidden: int = 32) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, outputs))


class CategoricalPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)
        self.net = mlp(self.num_observations, self.num_actions)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class GaussianPolicy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=True)
        self.net = mlp(self.num_observations, self.num_actions)
        self.log_std = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), self.log_std, {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space=None, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.net = mlp(self.num_observations, 1)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}
