"""A2C with recurrent (RNN/GRU/LSTM) policy and value models (skrl ``A2C_RNN`` compatible)."""

from __future__ import annotations

import torch

from steprl.agents.torch.a2c.a2c import A2C, A2C_DEFAULT_CONFIG
from steprl.agents.torch.recurrent import RecurrentRolloutMixin

__all__ = ["A2C_DEFAULT_CONFIG", "A2C_RNN"]


class A2C_RNN(RecurrentRolloutMixin, A2C):  # noqa: N801 (skrl's public name)
    """A2C for recurrent models: per-environment hidden states, whole-sequence minibatches (``A2C_DEFAULT_CONFIG``).

    The recurrent machinery (hidden-state bookkeeping, exact rollout replay, sequence minibatches) is
    :class:`~steprl.agents.torch.recurrent.RecurrentRolloutMixin`; A2C's update consumes its minibatches unchanged.
    The whole-rollout KL (``KLAdaptiveLR``, tracking) evaluates the updated policy in single-step passes from the
    hidden states stored during the rollout.
    """

    @torch.no_grad()
    def _rollout_kl(self) -> torch.Tensor:
        if not self._policy_rnn:
            return super()._rollout_kl()
        was_training = self.policy.training
        self.policy.set_mode("eval")  # single-step (rollout) branch of the model
        try:
            return super()._rollout_kl()
        finally:
            self.policy.set_mode("train" if was_training else "eval")
