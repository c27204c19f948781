"""SAC with recurrent (RNN/GRU/LSTM) models (skrl ``SAC_RNN`` compatible)."""

from __future__ import annotations

from steprl.agents.torch.recurrent_replay import RecurrentReplayMixin
from steprl.agents.torch.sac.sac import SAC, SAC_DEFAULT_CONFIG

__all__ = ["SAC_DEFAULT_CONFIG", "SAC_RNN"]


class SAC_RNN(RecurrentReplayMixin, SAC):  # noqa: N801 (skrl's public name)
    """SAC for recurrent models (``SAC_DEFAULT_CONFIG``): per-environment hidden states, stored with each step, and
    updates on whole sequences.

    The recurrent machinery (hidden-state bookkeeping, sequence sampling, the hidden states of next-state passes and
    the critic weights after episode ends) is :class:`~steprl.agents.torch.recurrent_replay.RecurrentReplayMixin`;
    SAC's update consumes its batches unchanged.
    """
