"""TRPO with recurrent (RNN/GRU/LSTM) policy and value models (skrl ``TRPO_RNN`` compatible)."""

from __future__ import annotations

from typing import Any

import torch

from steprl.agents.torch.recurrent import RecurrentRolloutMixin
from steprl.agents.torch.trpo.trpo import TRPO, TRPO_DEFAULT_CONFIG

__all__ = ["TRPO_DEFAULT_CONFIG", "TRPO_RNN"]


class TRPO_RNN(RecurrentRolloutMixin, TRPO):  # noqa: N801 (skrl's public name)
    """TRPO for recurrent models (``TRPO_DEFAULT_CONFIG``).

    The recurrent machinery is :class:`~steprl.agents.torch.recurrent.RecurrentRolloutMixin`. The natural-gradient
    step (its surrogate, the Fisher-vector products of the mean KL and the line search) evaluates the policy on the
    whole rollout as sequences: each sequence starts from its stored hidden state and restarts at episode ends, so
    the gradients flow through time within a sequence. The value network's minibatches are the mixin's.

    The Fisher-vector products differentiate the recurrent layers twice, which PyTorch's cuDNN RNN kernels do not
    support: the update runs with cuDNN disabled (acting is unaffected).
    """

    def _update(self, timestep: int, timesteps: int) -> None:
        with torch.backends.cudnn.flags(enabled=False):
            super()._update(timestep, timesteps)

    def _policy_batch(self) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor]:
        if not self._policy_rnn:
            return super()._policy_batch()
        [(batch, policy_inputs, _)] = list(self._sequence_minibatches(1, shuffle=False))
        states, actions, old_log_prob, _, _, advantages = batch
        inputs = {"states": self._state_preprocessor(states, train=True), "taken_actions": actions, **policy_inputs}
        return inputs, old_log_prob, advantages
