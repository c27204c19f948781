"""DDPG with recurrent (RNN/GRU/LSTM) models (skrl ``DDPG_RNN`` compatible)."""

from __future__ import annotations

from steprl.agents.torch.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from steprl.agents.torch.recurrent_replay import RecurrentReplayMixin

__all__ = ["DDPG_DEFAULT_CONFIG", "DDPG_RNN"]


class DDPG_RNN(RecurrentReplayMixin, DDPG):  # noqa: N801 (skrl's public name)
    """DDPG for recurrent models (``DDPG_DEFAULT_CONFIG``): per-environment hidden states, stored with each step, and
    updates on whole sequences.

    The recurrent machinery (hidden-state bookkeeping, sequence sampling, the hidden states of next-state passes and
    the critic weights after episode ends) is :class:`~steprl.agents.torch.recurrent_replay.RecurrentReplayMixin`;
    DDPG's update consumes its batches unchanged.
    """
