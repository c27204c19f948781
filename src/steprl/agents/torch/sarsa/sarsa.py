"""SARSA (Rummery & Niranjan, 1994): on-policy tabular TD control."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.agents.torch.q_learning._tabular import TabularAgent, Transition
from steprl.agents.torch.q_learning.losses import sarsa_targets, td_update_
from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS
from steprl.core.cfg import DefaultConfig, merge_config

__all__ = ["SARSA", "SARSA_DEFAULT_CONFIG"]

# fmt: off
SARSA_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "discount_factor": 0.99,        # discount factor (gamma)

    "random_timesteps": 0,          # random exploration steps
    "learning_starts": 0,           # learning starts after this many steps

    "learning_rate": 0.5,           # learning rate (alpha): the tabular step size

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
})
# fmt: on


class SARSA(TabularAgent):
    """Tabular SARSA.

    The target ``r + γ·Q(s', a')·(1 - terminated)`` needs ``a'``, the action the policy actually takes next in
    the episode, which is only known one step later. So the update of transition ``t`` is deferred to training
    step ``t + 1``: the transition waits in :attr:`pending_transition` and, when transition ``t + 1`` has been
    recorded, its action (taken in ``s' = s_{t+1}``) is ``a'``. For an environment whose episode ended at ``t``,
    the next recorded action belongs to a new episode: a terminated episode does not bootstrap (``a'`` unused);
    a truncated one bootstraps from ``a'`` drawn from the policy at its true final state (the action it would
    have taken). When the trainer abandons the training episodes (``interrupt_episodes``), the pending transition
    is treated as truncated in every environment. The last transition of a run is never learned from.

    Models, memory and checkpoint as :class:`~steprl.agents.torch.q_learning.Q_LEARNING`.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(SARSA_DEFAULT_CONFIG, cfg, where="SARSA cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.pending_transition: Transition | None = None  # transition t, learned from at step t + 1

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the training episodes: the pending transition will not see its next action."""
        pending = self.pending_transition
        if pending is not None:
            self.pending_transition = pending._replace(truncated=torch.ones_like(pending.truncated))

    @torch.no_grad()
    def _learn(self, transition: Transition, update: bool) -> None:
        pending, self.pending_transition = self.pending_transition, transition
        if pending is None or not update:
            return
        q_table = self.q_table
        rows = self._rows(pending.states.shape[0])
        ended = pending.terminated | pending.truncated
        # a' = the action taken next in the same episode; for truncated episodes, the policy's action at s'
        final_actions = self.policy.act({"states": pending.next_states.view(-1, 1)}, role="policy")[0].reshape(-1).long()
        next_actions = torch.where(ended, final_actions, transition.actions)
        targets = sarsa_targets(
            q_table, rows, pending.rewards, pending.next_states, next_actions, pending.terminated, self._discount_factor
        )
        td_update_(q_table, rows, pending.states, pending.actions, targets, self._learning_rate)
