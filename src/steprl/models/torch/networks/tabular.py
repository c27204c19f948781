"""Models for the tabular agents (Q_LEARNING, SARSA) and CEM.

- :class:`EpsilonGreedyTable`: a Q-table policy (``TabularMixin``) exploring epsilon-greedily;
- :func:`build_tabular_models`: its builder (the common builder signature);
- :func:`build_cem_models`: a categorical MLP policy for CEM (:class:`~steprl.models.torch.networks.mlp.MLPCategoricalPolicy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import torch

from steprl.core.networks import CEM_NETWORK_KEYS
from steprl.models.torch import Model, TabularMixin
from steprl.models.torch.networks.mlp import MLPCategoricalPolicy, check_network_keys, mlp_layout

__all__ = ["CEM_NETWORK_KEYS", "TABULAR_NETWORK_KEYS", "EpsilonGreedyTable", "build_cem_models", "build_tabular_models"]

TABULAR_NETWORK_KEYS = ("epsilon", "shared", "initial_value")  # keys read by build_tabular_models


def _discrete_size(space: Any, what: str) -> int:
    if isinstance(space, gymnasium.spaces.Discrete):
        return int(space.n)
    if isinstance(space, int):
        return space
    raise TypeError(f"Tabular models need a Discrete {what} space, got {type(space).__name__}")


class EpsilonGreedyTable(TabularMixin, Model):
    """Q-table policy: greedy in ``q_table`` (ties broken at random) with probability ``1 - epsilon``, else uniform.

    ``q_table`` has shape ``(num_envs, n_states, n_actions)`` (one table per environment, as in skrl) or, with
    ``shared=True``, ``(1, n_states, n_actions)``: one table that every environment reads and updates. The
    observations are state indices. ``outputs["mean_actions"]`` is the greedy action (lowest index among ties),
    which deterministic evaluation uses.
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any = None,
        num_envs: int = 1,
        epsilon: float = 0.1,
        shared: bool = False,
        initial_value: float = 0.0,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        TabularMixin.__init__(self, num_envs)
        if not 0.0 <= float(epsilon) <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = float(epsilon)
        self.num_states = _discrete_size(observation_space, "observation")
        self.num_discrete_actions = _discrete_size(action_space, "action")
        tables = 1 if shared else self.num_envs
        self.q_table = torch.full(
            (tables, self.num_states, self.num_discrete_actions), float(initial_value), dtype=torch.float32, device=self.device
        )

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        states = inputs["states"].reshape(-1).long()
        batch = states.shape[0]
        tables = self.q_table.shape[0]
        if tables == 1:
            q_values = self.q_table[0, states]
        elif tables == batch:
            q_values = self.q_table[torch.arange(batch, device=self.q_table.device), states]
        else:
            raise ValueError(f"q_table holds {tables} per-environment tables but got {batch} observations")
        greedy = q_values.argmax(dim=-1, keepdim=True)
        ties = q_values == q_values.max(dim=-1, keepdim=True).values
        greedy_random_ties = (ties * torch.rand_like(q_values)).argmax(dim=-1, keepdim=True)
        random_actions = torch.randint_like(greedy, self.num_discrete_actions)
        explore = torch.rand(batch, 1, device=q_values.device) < self.epsilon
        actions = torch.where(explore, random_actions, greedy_random_ties)
        return actions, {"mean_actions": greedy}


def build_tabular_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """An :class:`EpsilonGreedyTable` policy from a preset's ``network`` table.

    ``network`` keys: ``epsilon`` (default 0.1), ``shared`` (one table for all environments, default true: every
    environment's experience improves the one policy that is evaluated) and ``initial_value`` (default 0.0).
    """
    check_network_keys(network, TABULAR_NETWORK_KEYS, "tabular")
    policy = EpsilonGreedyTable(
        observation_space,
        action_space,
        device,
        num_envs=num_envs,
        epsilon=float(network.get("epsilon", 0.1)),
        shared=bool(network.get("shared", True)),
        initial_value=float(network.get("initial_value", 0.0)),
    )
    return {"policy": policy}


def build_cem_models(
    observation_space: Any, action_space: Any, device: Any, network: Mapping[str, Any], num_envs: int = 1
) -> dict[str, Model]:
    """A categorical MLP policy (``network``: ``hidden``, default [64, 64]; ``activation``, default tanh)."""
    if not isinstance(action_space, gymnasium.spaces.Discrete):
        raise TypeError(f"CEM needs a Discrete action space, got {type(action_space).__name__}")
    check_network_keys(network, CEM_NETWORK_KEYS, "CEM")
    hidden, activation = mlp_layout(network)
    return {"policy": MLPCategoricalPolicy(observation_space, action_space, device, hidden, activation)}
