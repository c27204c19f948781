"""Q-learning (Watkins, 1989): off-policy tabular TD control."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.agents.torch.q_learning._tabular import TabularAgent, Transition
from steprl.agents.torch.q_learning.losses import q_learning_targets, td_update_
from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS
from steprl.core.cfg import DefaultConfig, merge_config

__all__ = ["Q_LEARNING", "Q_LEARNING_DEFAULT_CONFIG"]

# fmt: off
Q_LEARNING_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "discount_factor": 0.99,        # discount factor (gamma)

    "random_timesteps": 0,          # random exploration steps
    "learning_starts": 0,           # learning starts after this many steps

    "learning_rate": 0.5,           # learning rate (alpha): the tabular step size

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
})
# fmt: on


class Q_LEARNING(TabularAgent):
    """Tabular Q-learning.

    Every training step, once ``learning_starts`` steps are done, the transition just recorded updates
    ``Q(s, a) += α·(r + γ·max_a' Q(s', a')·(1 - terminated) - Q(s, a))``: a truncated episode bootstraps from its
    true final state, a terminated one does not. Exploration lives in the policy model (e.g. epsilon-greedy);
    the update is off-policy (greedy target), so it does not depend on how the actions were chosen.

    Models: ``policy``, a :class:`~steprl.models.torch.TabularMixin` model with ``q_table`` of shape
    ``(num_envs, n_states, n_actions)`` (per-environment tables, as in skrl) or ``(1, n_states, n_actions)`` (one
    table shared by all environments). No memory is used; the checkpoint holds ``policy`` (its ``q_table``).
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
        cfg = merge_config(Q_LEARNING_DEFAULT_CONFIG, cfg, where="Q_LEARNING cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg)

    @torch.no_grad()
    def _learn(self, transition: Transition, update: bool) -> None:
        if not update:
            return
        q_table = self.q_table
        rows = self._rows(transition.states.shape[0])
        targets = q_learning_targets(
            q_table, rows, transition.rewards, transition.next_states, transition.terminated, self._discount_factor
        )
        td_update_(q_table, rows, transition.states, transition.actions, targets, self._learning_rate)
