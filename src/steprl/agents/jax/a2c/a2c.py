"""Advantage Actor-Critic (JAX): one jitted update, one pass over the rollout's minibatches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

from steprl.agents.jax.a2c.losses import a2c_loss
from steprl.agents.jax.on_policy import Batch, OnPolicyAgent, TrainState
from steprl.agents.jax.on_policy_update import Inputs
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.on_policy_defaults import A2C_DEFAULTS, without

__all__ = ["A2C", "A2C_DEFAULT_CONFIG"]

A2C_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(A2C_DEFAULTS, "mixed_precision"))


class A2C(OnPolicyAgent):
    """Advantage Actor-Critic: per minibatch ``-(advantage · log_prob) − entropy_loss_scale · entropy + MSE(returns,
    V(s))`` (normalised GAE advantages), separate policy and value optimizers with gradient-norm clipping.
    ``KLAdaptiveLR`` gets the approximate KL between the policy before and after the update on the whole rollout.
    """

    _kl_early_stop = False

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(A2C_DEFAULT_CONFIG, cfg, where="A2C cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg, "A2C")

    def _loss(
        self, policy_params: Any, value_params: Any, states: Inputs, batch: Batch, key: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        log_prob, entropy, predicted, stddev = self._evaluate_batch(policy_params, value_params, states, batch, key)
        loss, parts = a2c_loss(log_prob, batch.advantages, predicted, batch.returns, entropy, self._entropy_loss_scale)
        return loss, {**parts, "stddev": stddev}

    def _update_kl(self, ts: TrainState, batch: Batch, epoch_kls: jax.Array) -> jax.Array:
        """Approximate KL ``E[(r - 1) - log r]`` of the rollout policy to the updated one over the whole rollout."""
        states = self._preprocess(ts.state_pre, batch.states)
        inputs = self._policy_inputs(states, batch.actions, ts.key)
        log_ratio = self.policy.evaluate(ts.policy_params, inputs, "policy")[0] - batch.log_prob
        return ((jnp.exp(log_ratio) - 1.0) - log_ratio).mean()
