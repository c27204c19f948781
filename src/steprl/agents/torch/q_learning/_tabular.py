"""Bookkeeping shared by the tabular agents (Q_LEARNING, SARSA).

- The policy is a :class:`~steprl.models.torch.TabularMixin` model holding ``q_table`` of shape
  ``(num_envs, n_states, n_actions)`` (one table per environment, as in skrl) or ``(1, n_states, n_actions)`` (one
  table shared by every environment). Its ``compute`` explores (e.g. epsilon-greedy); deterministic evaluation
  takes ``outputs["mean_actions"]``: the model's own, else (in evaluation mode) the greedy action of ``q_table``.
- Observations are state indices (a Discrete observation space: ``(N, 1)`` integers from the wrappers).
- No memory: the last training transition is kept explicitly in :attr:`TabularAgent.last_transition` (set by
  ``record_transition``, consumed by ``post_interaction``); evaluation never sets it, so it never learns.
- ``random_timesteps`` and ``learning_starts`` count training steps (checkpointed as ``training_steps``).
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
        self._random_timesteps = int(c["random_timesteps"])
        self._learning_starts = int(c["learning_starts"])
        self._rewards_shaper = c["rewards_shaper"]
        if not 0.0 <= self._discount_factor <= 1.0:
            raise ValueError(f"{name} cfg['discount_factor'] must be in [0, 1], got {self._discount_factor}")
        if not 0.0 < self._learning_rate <= 1.0:
            raise ValueError(f"{name} cfg['learning_rate'] (the tabular step size alpha) must be in (0, 1], got {self._learning_rate}")
        for key in ("random_timesteps", "learning_starts"):
            if int(c[key]) < 0:
                raise ValueError(f"{name} cfg['{key}'] must be >= 0, got {c[key]}")

        self.training_steps = 0  # training transitions recorded so far (checkpointed)
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
        if self.training and self.training_steps < self._random_timesteps:
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

    def record_transition(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
        truncated: torch.Tensor,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        """Keep the transition for the next update (training mode only)."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps)
        if not self.training:
            return
        if self._rewards_shaper is not None:
            rewards = self._rewards_shaper(rewards, timestep, timesteps)
        self.last_transition = Transition(
            states=states.reshape(-1).long(),
            actions=actions.reshape(-1).long(),
            rewards=rewards.reshape(-1).to(self.q_table.dtype),
            next_states=next_states.reshape(-1).long(),
            terminated=terminated.reshape(-1).bool(),
            truncated=truncated.reshape(-1).bool(),
        )

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Count the training step and learn from the last transition (from ``learning_starts`` on)."""
        if self.training and self.last_transition is not None:
            self.training_steps += 1
            self._learn(self.last_transition, self.training_steps > self._learning_starts)
            self.last_transition = None
        super().post_interaction(timestep, timesteps)

    def _rows(self, num_envs: int) -> torch.Tensor:
        return table_rows(self.q_table, num_envs)

    def _learn(self, transition: Transition, update: bool) -> None:
        """Consume ``transition`` (``update``: whether ``learning_starts`` allows changing the table)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _learn()")

    def _update(self, timestep: int, timesteps: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} learns in post_interaction (one transition per step)")

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_meta(self) -> dict[str, Any]:
        return {"training_steps": self.training_steps}

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        self.training_steps = int(meta.get("training_steps", self.training_steps))
