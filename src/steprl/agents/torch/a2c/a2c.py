"""Advantage Actor-Critic (Mnih et al., 2016; synchronous variant) with correct truncation bootstrapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.agents.torch.a2c.losses import a2c_loss
from steprl.agents.torch.on_policy import OnPolicyAgent
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.on_policy_defaults import A2C_DEFAULTS
from steprl.resources.schedulers.torch import KLAdaptiveLR

__all__ = ["A2C", "A2C_DEFAULT_CONFIG"]

A2C_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(A2C_DEFAULTS)


class A2C(OnPolicyAgent):
    """Advantage Actor-Critic: one pass over ``mini_batches`` minibatches of the rollout per update.

    Loss per minibatch: ``-(advantage · log_prob) − entropy_loss_scale · entropy + MSE(returns, V(s))`` (advantages
    from GAE, normalised), one Adam over the policy and value parameters, gradient-norm clipping. A
    ``KLAdaptiveLR`` scheduler gets the approximate KL between the policy before and after the update, measured on
    the whole rollout; other schedulers ``step()`` once per update. The rollout machinery (batched evaluation,
    truncation bootstrapping) lives in :class:`~steprl.agents.torch.on_policy.OnPolicyAgent`.
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
        cfg = merge_config(A2C_DEFAULT_CONFIG, cfg, where="A2C cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg, "A2C")
        self._learning_rate = float(self.cfg["learning_rate"])
        if self.value is not None:
            self._build_optimizer(self._joint_parameters(), self._learning_rate, "optimizer")

    def _update(self, timestep: int, timesteps: int) -> None:
        """One pass of ``mini_batches`` gradient steps over the rollout."""
        assert self.optimizer is not None
        self._prepare_rollout()
        params = self.optimizer.param_groups[0]["params"]
        models = self._trained_models()
        totals: dict[str, list[torch.Tensor]] = {"policy_loss": [], "value_loss": [], "entropy_loss": []}
        for batch, policy_inputs, value_inputs in self._minibatches():
            states, actions, _, _, returns, advantages = batch
            with self._autocast():
                states = self._state_preprocessor(states, train=True)
                _, log_prob, _ = self.policy.act({"states": states, "taken_actions": actions, **policy_inputs}, role="policy")
                entropy = self.policy.get_entropy(role="policy") if self._entropy_loss_scale else None
                predicted_values = self.value.act({"states": states, **value_inputs}, role="value")[0]
                loss, parts = a2c_loss(log_prob, advantages, predicted_values, returns, entropy, self._entropy_loss_scale)
            self._optimizer_step(self.optimizer, loss, models, params)
            self._scaler.update()
            for key in totals:
                totals[key].append(parts[key].detach())
        kl = self._rollout_kl() if isinstance(self.scheduler, KLAdaptiveLR) or self.write_interval > 0 else None
        self._step_scheduler(kl)
        self._track_losses(totals, kl)

    @torch.no_grad()
    def _rollout_kl(self) -> torch.Tensor:
        """Approximate KL ``E[(r - 1) - log r]`` of the rollout policy to the updated one over the whole rollout."""
        memory = self.memory
        states = self._state_preprocessor(memory.get_tensor_by_name("states", keepdim=False))
        actions = memory.get_tensor_by_name("actions", keepdim=False)
        old_log_prob = memory.get_tensor_by_name("log_prob", keepdim=False)
        with self._autocast():
            _, log_prob, _ = self.policy.act({"states": states, "taken_actions": actions, **self._rollout_policy_inputs()}, role="policy")
        log_ratio = log_prob.float() - old_log_prob
        return ((log_ratio.exp() - 1.0) - log_ratio).mean()
