"""The jitted update of one IPPO/MAPPO team: PPO's rollout update with agent ids and (MAPPO) the global state.

A team is the agents sharing one policy and one value model (a single agent without parameter sharing). Its rollout
is the members' rollouts side by side along the environment axis (``M`` = members × sub-environments columns).
:class:`TeamUpdate` is :class:`~steprl.agents.jax.on_policy_update.OnPolicyUpdate` with PPO's loss, whose input
hooks append the one-hot agent ids (``cfg["append_agent_id"]``) and, for MAPPO, give the value model the
preprocessed global state (the ``shared_state_preprocessor`` trained in the first epoch, like the state
preprocessor).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from steprl.agents.jax.on_policy_update import Batch, Inputs, OnPolicyUpdate, Rollout, TrainState, select
from steprl.agents.jax.parallel import scaler_update_over_processes
from steprl.agents.jax.ppo.ppo import PPOLoss
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, scaler_apply

__all__ = ["TeamTrainState", "TeamUpdate"]


class TeamTrainState(TrainState):
    """A team's :class:`TrainState` plus the global state's preprocessor (MAPPO)."""

    shared_pre: ScalerState | None = None


def _with_ids(inputs: jax.Array, ids: jax.Array | None) -> jax.Array:
    return inputs if ids is None else jnp.concatenate([inputs, ids.astype(inputs.dtype)], axis=-1)


class TeamUpdate(PPOLoss, OnPolicyUpdate):
    """The settings, models, optimizers and preprocessors of one team, and its pure update.

    ``cfg`` is the team's (per-agent) configuration; ``preprocessors`` maps ``state_preprocessor``,
    ``value_preprocessor`` (and MAPPO's ``shared_state_preprocessor``) to a ``RunningStandardScaler`` or ``None``.
    ``agent_index`` maps each possible agent to its one-hot position, or is empty without ``append_agent_id``.
    """

    def __init__(
        self,
        uids: Sequence[str],
        policy: Any,
        value: Any,
        cfg: dict[str, Any],
        preprocessors: dict[str, Any],
        scheduler: Any,
        agent_index: dict[str, int],
        global_state: bool,
    ) -> None:
        self.uids = list(uids)
        self.policy, self.value = policy, value
        self.policy_optimizer: Any = None
        self.value_optimizer: Any = None
        self.scheduler = scheduler
        self._state_preprocessor = preprocessors.get("state_preprocessor")
        self._value_preprocessor = preprocessors.get("value_preprocessor")
        self._shared_preprocessor = preprocessors.get("shared_state_preprocessor")
        self._global_state = global_state
        self._agent_index = dict(agent_index)
        self._num_ids = len(agent_index)
        self._discount_factor = float(cfg["discount_factor"])
        self._lambda = float(cfg["lambda"])
        self._learning_epochs = int(cfg["learning_epochs"])
        self._mini_batches = int(cfg["mini_batches"])
        self._grad_norm_clip = float(cfg["grad_norm_clip"] or 0.0)
        self._kl_threshold = float(cfg["kl_threshold"] or 0.0)
        self._ratio_clip = float(cfg["ratio_clip"])
        self._value_clip = float(cfg["value_clip"])
        self._clip_predicted_values = bool(cfg["clip_predicted_values"])
        self._value_loss_scale = float(cfg["value_loss_scale"])
        self._entropy_loss_scale = float(cfg["entropy_loss_scale"] or 0.0)

    # ------------------------------------------------------------------ inputs
    def ids(self, uids: Sequence[str], rows: int) -> jax.Array | None:
        """One-hot ids of ``rows`` stacked rows per agent of ``uids`` (``None`` without ``append_agent_id``)."""
        if not self._num_ids:
            return None
        eye = jnp.eye(self._num_ids, dtype=jnp.float32)[jnp.asarray([self._agent_index[uid] for uid in uids])]
        return jnp.repeat(eye, rows, axis=0)

    def act_inputs(self, state_pre: ScalerState | None, states: jax.Array, uids: Sequence[str]) -> jax.Array:
        """The policy's inputs for the members ``uids``'s observations stacked in that order."""
        return _with_ids(self._preprocess(state_pre, states), self.ids(uids, states.shape[0] // len(uids)))

    def _shared_preprocess(self, state: ScalerState | None, states: jax.Array) -> jax.Array:
        states = states.astype(jnp.float32)
        if state is None:
            return states
        pre = self._shared_preprocessor
        return scaler_apply(state, states, pre.clip_threshold, pre.epsilon)

    def _rollout_ids(self, rollout: Rollout) -> jax.Array | None:
        """The ids of every ``(T·M)`` row (time-major, members side by side)."""
        t, m = rollout.rewards.shape[:2]
        ids = self.ids(self.uids, m // len(self.uids))
        return None if ids is None else jnp.tile(ids, (t, 1))

    def _rollout_inputs(self, ts: TrainState, rollout: Rollout) -> Inputs:
        t, m = rollout.rewards.shape[:2]
        own = super()._rollout_inputs(ts, rollout)
        value = own.value
        if self._global_state:
            shared = rollout.extras["shared"].reshape(t * m, -1), rollout.extras["shared_next"].reshape(t * m, -1)
            value = self._shared_preprocess(ts.shared_pre, jnp.concatenate(shared))  # type: ignore[attr-defined]
        ids = self._rollout_ids(rollout)
        both = None if ids is None else jnp.concatenate([ids, ids])
        return Inputs(_with_ids(own.policy, ids), _with_ids(value, both))

    def _batch_extras(self, rollout: Rollout) -> Any:
        t, m = rollout.rewards.shape[:2]
        shared = rollout.extras["shared"].reshape(t * m, -1) if self._global_state else None
        return {"ids": self._rollout_ids(rollout), "shared": shared}

    def _minibatch_inputs(self, ts: TrainState, mb: Batch, train: jax.Array) -> tuple[TrainState, Inputs]:
        ts, own = super()._minibatch_inputs(ts, mb, train)
        value = own.value
        if self._global_state:
            shared, shared_pre = mb.extras["shared"].astype(jnp.float32), ts.shared_pre  # type: ignore[attr-defined]
            if shared_pre is not None:
                shared_pre = select(train, scaler_update_over_processes(shared_pre, shared), shared_pre)
                ts = ts.replace(shared_pre=shared_pre)
            value = self._shared_preprocess(shared_pre, shared)
        ids = mb.extras["ids"]
        return ts, Inputs(_with_ids(own.policy, ids), _with_ids(value, ids))
