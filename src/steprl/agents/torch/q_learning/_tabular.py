"""Bookkeeping shared by the tabular agents (Q_LEARNING, SARSA).

- The policy is a :class:`~steprl.models.torch.TabularMixin` model holding ``q_table`` of shape
  ``(num_envs, n_states, n_actions)`` (one table per environment, as in skrl) or ``(1, n_states, n_actions)`` (one
  table shared by every environment). Its ``compute`` explores (e.g. epsilon-greedy); deterministic evaluation
  takes ``outputs["mean_actions"]``: the model's own, else (in evaluation mode) the greedy action of ``q_table``.
- Observations are state indices (a Discrete observation space: ``(N, 1)`` integers from the wrappers).
- No memory: the last training transition is kept explicitly in :attr:`TabularAgent.last_transition` (set by
  ``record_transition``, consumed by ``post_interaction``); evaluation never sets it, so it never learns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch

from steprl import logger
from steprl.agents.torch._build import check_model_roles, require_model
from steprl.agents.torch.base import Agent
from steprl.agents.torch.q_learning.losses import table_rows

__all__ = ["TabularAgent", "Transition"]


class Transition(NamedTuple):
    """One vector step of the environments, flattened per environment: every field is ``(N,)``."""

    states: torch.Tensor  # int64 state indices
    actions: torch.Tensor  # int64 action indices
    rewards: torch.Tensor  # float rewards (after the rewards shaper)
    next_states: torch.Tensor  # int64 true next states (also for finished episodes)
    terminated: torch.Tensor  # bool
    truncated: torch.Tensor  # bool


class TabularAgent(Agent):
    """Base of Q_LEARNING and SARSA (the config must already be merged with the algorithm's defaults)."""

    _not_distributed = "its Q-table is updated in place from each step, with no gradient to average over ranks"

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: Mapping[str, Any],
    ) -> None:
        name = type(self).__name__
        check_model_roles(models, ("policy",), name)
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.policy = require_model(self.models, "policy", name)
        if not isinstance(getattr(self.policy, "q_table", None), torch.Tensor):
            raise ValueError(f"{name}: the policy must store its Q-table in a tensor attribute named 'q_table'")
        if self.policy.q_table.dim() != 3:
            raise ValueError(
                f"{name}: the policy's q_table must have shape (num_envs or 1, n_states, n_actions), "
                f"got {tuple(self.policy.q_table.shape)}"
            )
        if self.memory is not None:
            logger.warning(f"{name} does not use a memory: the given memory is ignored")
        self.checkpoint_modules["policy"] = self.policy

        c = self.cfg
        self._discount_factor = float(c["discount_factor"])
        self._learning_rate = float(c["learning_rate"])
        if not 0.0 <= self._discount_factor <= 1.0:
            raise ValueError(f"{name} cfg['discount_factor'] must be in [0, 1], got {self._discount_factor}")
        if not 0.0 < self._learning_rate <= 1.0:
            raise ValueError(f"{name} cfg['learning_rate'] (the tabular step size alpha) must be in (0, 1], got {self._learning_rate}")

        self.last_transition: Transition | None = None  # the latest training transition, not learned from yet

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve intervals (no memory tensors are created)."""
        super().init(trainer_cfg)
        self.set_mode("eval")

    @property
    def q_table(self) -> torch.Tensor:
        """The policy's Q-table."""
        return self.policy.q_table

    # ------------------------------------------------------------------ interaction
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """The policy's (exploring) actions; uniformly random during the first ``random_timesteps`` training steps."""
        if self._exploring():
            actions, _, outputs = self.policy.random_act({"states": states}, role="policy")
            return actions, None, outputs if isinstance(outputs, dict) else {}
        actions, log_prob, outputs = self.policy.act({"states": states}, role="policy")
        outputs = outputs if isinstance(outputs, dict) else {}
        if not self.training and outputs.get("mean_actions") is None:  # e.g. skrl-style models returning {}
            outputs["mean_actions"] = self.greedy_actions(states)
        return actions, log_prob, outputs

    def greedy_actions(self, states: torch.Tensor) -> torch.Tensor:
        """``argmax_a Q(s, a)`` ``(N, 1)`` for state indices ``states`` (lowest action index among ties)."""
        states = states.reshape(-1).long()
        return self.q_table[self._rows(states.shape[0]), states].argmax(dim=-1, keepdim=True)

    def _record(self, **transition: torch.Tensor) -> None:
        """Keep the training transition (rewards already shaped) for the next update."""
        self.last_transition = Transition(
            states=transition["states"].reshape(-1).long(),
            actions=transition["actions"].reshape(-1).long(),
            rewards=transition["rewards"].reshape(-1).to(self.q_table.dtype),
            next_states=transition["next_states"].reshape(-1).long(),
            terminated=transition["terminated"].reshape(-1).bool(),
            truncated=transition["truncated"].reshape(-1).bool(),
        )

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Learn from the transition just recorded (the table changes once learning has started)."""
        if self.last_transition is not None:
            self._learn(self.last_transition, self._learning_started())
            self.last_transition = None

    def _rows(self, num_envs: int) -> torch.Tensor:
        return table_rows(self.q_table, num_envs)

    def _learn(self, transition: Transition, update: bool) -> None:
        """Consume ``transition`` (``update``: whether ``learning_starts`` allows changing the table)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _learn()")

    def _update(self, timestep: int, timesteps: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} learns in post_interaction (one transition per step)")
