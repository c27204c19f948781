"""Proximal Policy Optimization (JAX): the whole update is one jitted function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from steprl.agents.jax.on_policy import Batch, OnPolicyAgent
from steprl.agents.jax.on_policy_update import Inputs
from steprl.agents.jax.ppo.losses import ppo_loss
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.on_policy_defaults import PPO_DEFAULTS, without

__all__ = ["PPO", "PPO_DEFAULT_CONFIG"]

PPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(PPO_DEFAULTS, "mixed_precision"))


class PPOLoss:
    """PPO's minibatch loss for an :class:`~steprl.agents.jax.on_policy_update.OnPolicyUpdate` (the agent, or a
    multi-agent team) that sets ``_ratio_clip``, ``_value_clip``, ``_clip_predicted_values``, ``_value_loss_scale``
    and ``_entropy_loss_scale``."""

    _ratio_clip: float
    _value_clip: float
    _clip_predicted_values: bool
    _value_loss_scale: float
    _entropy_loss_scale: float

    def _loss(
        self, policy_params: Any, value_params: Any, states: Inputs, batch: Batch, key: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        log_prob, entropy, predicted, stddev = self._evaluate_batch(  # type: ignore[attr-defined]
            policy_params, value_params, states, batch, key
        )
        loss, parts = ppo_loss(
            log_prob, batch.log_prob, batch.advantages, predicted, batch.values, batch.returns,
            entropy, self._ratio_clip, self._value_clip, self._clip_predicted_values,
            self._entropy_loss_scale, self._value_loss_scale,
        )  # fmt: skip
        return loss, {**parts, "stddev": stddev}


class PPO(PPOLoss, OnPolicyAgent):
    """Proximal Policy Optimization with separate policy and value models and optimizers.

    Per minibatch: clipped surrogate − ``entropy_loss_scale`` · entropy (in the differentiated loss) +
    ``value_loss_scale`` · MSE of the (optionally clipped) predicted values. A minibatch whose approximate KL exceeds
    ``kl_threshold`` ends its epoch without a step; ``KLAdaptiveLR`` adapts the learning rate after each epoch. A
    truncated episode bootstraps from the value of its true final observation; a terminated one does not.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(self._default_config(), cfg, where=f"{self._cfg_name()} cfg")
        c = cfg
        self._ratio_clip = float(c["ratio_clip"])
        self._value_clip = float(c["value_clip"])
        self._clip_predicted_values = bool(c["clip_predicted_values"])
        self._value_loss_scale = float(c["value_loss_scale"])
        super().__init__(models, memory, observation_space, action_space, device, cfg, self._cfg_name())

    @classmethod
    def _default_config(cls) -> Mapping[str, Any]:
        return PPO_DEFAULT_CONFIG

    @classmethod
    def _cfg_name(cls) -> str:
        return "PPO"
