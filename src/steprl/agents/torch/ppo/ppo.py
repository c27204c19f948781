"""Proximal Policy Optimization (Schulman et al., 2017) with correct truncation bootstrapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.agents.torch.on_policy import BATCH_NAMES, OnPolicyAgent
from steprl.agents.torch.ppo.losses import ppo_loss
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.on_policy_defaults import PPO_DEFAULTS
from steprl.utils.distributed import torch as distributed

PPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(PPO_DEFAULTS)

_BATCH_NAMES = BATCH_NAMES  # kept for user subclasses


class PPO(OnPolicyAgent):
    """Proximal Policy Optimization.

    Per environment step the agent only runs the policy (``act``) and stores the transition. Values, old
    log-probabilities and the value of every next observation are computed in one batched forward pass at
    update time (the models do not change during a rollout, so this equals computing them step by step).
    A truncated episode bootstraps from the value of its true final observation; a terminated one does not.
    The rollout machinery lives in :class:`~steprl.agents.torch.on_policy.OnPolicyAgent`.
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
        cfg = merge_config(self._default_config(), cfg, where=f"{self._cfg_name()} cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg, self._cfg_name())
        c = self.cfg
        self._learning_rate = float(c["learning_rate"])
        self._ratio_clip = float(c["ratio_clip"])
        self._value_clip = float(c["value_clip"])
        self._clip_predicted_values = bool(c["clip_predicted_values"])
        self._value_loss_scale = float(c["value_loss_scale"])
        self._kl_threshold = float(c["kl_threshold"])
        if self.value is not None:
            self._build_optimizer(self._joint_parameters(), self._learning_rate, "optimizer")

    @classmethod
    def _default_config(cls) -> Mapping[str, Any]:
        """The defaults the constructor merges the user's cfg into (RPO: its own)."""
        return PPO_DEFAULT_CONFIG

    @classmethod
    def _cfg_name(cls) -> str:
        """The algorithm's name in error messages."""
        return "PPO"

    # ------------------------------------------------------------------ learning
    def _update(self, timestep: int, timesteps: int) -> None:
        """Run ``learning_epochs`` passes of ``mini_batches`` clipped-surrogate steps over the rollout.

        The KL and the loss parts are kept only when something reads them (early stop, scheduler, tracking).
        """
        assert self.optimizer is not None
        self._prepare_rollout()
        params = self.optimizer.param_groups[0]["params"]
        models = self._trained_models()
        tracking = self.write_interval > 0
        need_kl = bool(self._kl_threshold) or self.scheduler is not None or tracking
        totals: dict[str, list[torch.Tensor]] = {"policy_loss": [], "value_loss": [], "entropy_loss": []}
        kl_per_epoch: list[torch.Tensor] = []
        for epoch in range(self._learning_epochs):
            kls: list[torch.Tensor] = []
            for batch, policy_inputs, value_inputs in self._minibatches():
                states, actions, old_log_prob, old_values, returns, advantages = batch
                with self._autocast():
                    states = self._state_preprocessor(states, train=not epoch)
                    _, log_prob, _ = self.policy.act({"states": states, "taken_actions": actions, **policy_inputs}, role="policy")
                    entropy = self.policy.get_entropy(role="policy") if self._entropy_loss_scale else None
                    predicted_values = self.value.act({"states": states, **value_inputs}, role="value")[0]
                    loss, parts = ppo_loss(
                        log_prob,
                        old_log_prob,
                        advantages,
                        predicted_values,
                        old_values,
                        returns,
                        entropy,
                        self._ratio_clip,
                        self._value_clip,
                        self._clip_predicted_values,
                        self._entropy_loss_scale,
                        self._value_loss_scale,
                        with_kl=need_kl,
                    )
                # distributed runs use the KL averaged over ranks: every rank stops at the same minibatch and the
                # schedule sees one KL; without an early stop it rides in the gradients' all-reduce
                if self._kl_threshold:
                    kl = distributed.mean_over_ranks(parts["kl"])
                    kls.append(kl)
                    if float(kl) > self._kl_threshold:
                        break
                    self._optimizer_step(self.optimizer, loss, models, params)
                else:
                    kl = self._optimizer_step(self.optimizer, loss, models, params, average=parts.get("kl"))
                    if need_kl:
                        kls.append(kl)
                self._scaler.update()
                if tracking:
                    for key in totals:
                        totals[key].append(parts[key].detach())
            if kls:
                epoch_kl = torch.stack(kls).mean()
                kl_per_epoch.append(epoch_kl)
                self._step_scheduler(epoch_kl, averaged=True)
            else:
                self._step_scheduler(None, averaged=True)
        self._track_losses(totals, torch.stack(kl_per_epoch).mean() if kl_per_epoch else None)
