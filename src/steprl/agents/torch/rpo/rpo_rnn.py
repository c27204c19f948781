"""RPO with recurrent (RNN/GRU/LSTM) policy and value models (skrl ``RPO_RNN`` compatible)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from steprl.agents.torch.recurrent import RecurrentRolloutMixin
from steprl.agents.torch.rpo.rpo import RPO, RPO_DEFAULT_CONFIG

__all__ = ["RPO_DEFAULT_CONFIG", "RPO_RNN"]


class RPO_RNN(RecurrentRolloutMixin, RPO):  # noqa: N801 (skrl's public name)
    """RPO for recurrent models: per-environment hidden states, whole-sequence minibatches (``RPO_DEFAULT_CONFIG``).

    The recurrent machinery is :class:`~steprl.agents.torch.recurrent.RecurrentRolloutMixin`. The policy receives
    ``inputs["alpha"]`` as in RPO: when acting in training mode (with the hidden states) and in every update pass.
    The mixin replaces the rollout evaluation and the minibatches, so the two RPO rules are restated here: the old
    log-probabilities are those stored at acting time (a fresh perturbation would not reproduce them), and every
    minibatch's policy inputs carry ``alpha``.
    """

    @torch.no_grad()
    def _evaluate_rollout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        values, next_values, _ = super()._evaluate_rollout()
        return values, next_values, self.memory.get_tensor_by_name("log_prob").float()

    def _sequence_minibatches(
        self, mini_batches: int, shuffle: bool
    ) -> Iterator[tuple[list[torch.Tensor], dict[str, Any], dict[str, Any]]]:
        for batch, policy_inputs, value_inputs in super()._sequence_minibatches(mini_batches, shuffle):
            yield batch, {**policy_inputs, "alpha": self._alpha}, value_inputs
