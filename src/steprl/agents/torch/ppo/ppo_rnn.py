"""PPO with recurrent (RNN/GRU/LSTM) policy and value models (skrl ``PPO_RNN`` compatible)."""

from __future__ import annotations

from steprl.agents.torch.ppo.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.agents.torch.recurrent import RecurrentRolloutMixin

__all__ = ["PPO_DEFAULT_CONFIG", "PPO_RNN"]


class PPO_RNN(RecurrentRolloutMixin, PPO):  # noqa: N801 (skrl's public name)
    """PPO for recurrent models: per-environment hidden states, whole-sequence minibatches.

    The recurrent machinery (hidden-state bookkeeping, exact rollout replay, sequence minibatches) is
    :class:`~steprl.agents.torch.recurrent.RecurrentRolloutMixin`; PPO's clipped-surrogate update consumes its
    minibatches unchanged.
    """
