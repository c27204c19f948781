"""TD3 with recurrent (RNN/GRU/LSTM) models (skrl ``TD3_RNN`` compatible)."""

from __future__ import annotations

from steprl.agents.torch.recurrent_replay import RecurrentReplayMixin
from steprl.agents.torch.td3.td3 import TD3, TD3_DEFAULT_CONFIG

__all__ = ["TD3_DEFAULT_CONFIG", "TD3_RNN"]


class TD3_RNN(RecurrentReplayMixin, TD3):  # noqa: N801 (skrl's public name)
    """TD3 for recurrent models (``TD3_DEFAULT_CONFIG``): per-environment hidden states, stored with each step, and
    updates on whole sequences.

    The recurrent machinery (hidden-state bookkeeping, sequence sampling, the hidden states of next-state passes and
    the critic weights after episode ends) is :class:`~steprl.agents.torch.recurrent_replay.RecurrentReplayMixin`;
    TD3's update consumes its batches unchanged.
    """
