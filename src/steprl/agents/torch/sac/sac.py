"""Soft Actor-Critic (Haarnoja et al., 2018) with clipped double-Q targets and automatic entropy tuning."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from steprl.agents.torch._build import check_model_roles, make_adam, require_model
from steprl.agents.torch.critic_group import CriticGroup
from steprl.agents.torch.off_policy import OffPolicyAgent, soft_update
from steprl.agents.torch.sac.losses import sac_critic_loss, sac_critic_target, sac_entropy_loss, sac_policy_loss
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.off_policy import default_target_entropy
from steprl.core.off_policy_defaults import SAC_DEFAULTS

__all__ = ["SAC", "SAC_DEFAULT_CONFIG", "default_target_entropy"]

SAC_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(SAC_DEFAULTS)

_ROLES = ("policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2")


class LogEntropyCoefficient(nn.Module):
    """The learned ``log α`` (a module so that checkpoints store it: skrl loses it when a run is resumed)."""

    def __init__(self, initial_value: float, device: torch.device) -> None:
        super().__init__()
        self.log_alpha = nn.Parameter(torch.tensor(math.log(initial_value), dtype=torch.float32, device=device))


class SAC(OffPolicyAgent):
    """Soft Actor-Critic.

    Each update step (``gradient_steps`` per training step once ``learning_starts`` training steps are stored):
    critic step on the soft Bellman target of the frozen target critics (termination only stops the bootstrap),
    policy step on ``α·log π − min(Q1, Q2)`` (critics frozen meanwhile), temperature step towards
    ``target_entropy`` (``learn_entropy``), then polyak-averaging of the targets.
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
        cfg = merge_config(SAC_DEFAULT_CONFIG, cfg, where="SAC cfg")
        check_model_roles(models, _ROLES, "SAC")
        c = cfg
        for key in ("actor_learning_rate", "critic_learning_rate", "entropy_learning_rate"):
            if float(c[key]) <= 0:
                raise ValueError(f"SAC cfg['{key}'] must be > 0, got {c[key]}")
        if float(c["initial_entropy_value"]) <= 0:
            raise ValueError(
                f"SAC cfg['initial_entropy_value'] must be > 0 (it is α, log α is learned), got {c['initial_entropy_value']}"
            )
        if not 0.0 <= float(c["discount_factor"]) <= 1.0:
            raise ValueError(f"SAC cfg['discount_factor'] must be in [0, 1], got {c['discount_factor']}")
        super().__init__(models, memory, observation_space, action_space, device, cfg)

        self.policy = require_model(self.models, "policy", "SAC")
        self.critic_1 = self.models.get("critic_1")
        self.critic_2 = self.models.get("critic_2")
        self.target_critic_1 = self.models.get("target_critic_1")
        self.target_critic_2 = self.models.get("target_critic_2")
        for role in _ROLES:
            if self.models.get(role) is not None:
                self.checkpoint_modules[role] = self.models[role]
        self._broadcast(self.policy, self.critic_1, self.critic_2)

        for target, source in ((self.target_critic_1, self.critic_1), (self.target_critic_2, self.critic_2)):
            if target is not None:
                target.freeze_parameters(True)
                if source is not None:
                    soft_update(target, source, 1.0)

        self._learn_entropy = bool(c["learn_entropy"])
        self._target_entropy = (
            default_target_entropy(self.action_space) if c["target_entropy"] is None else float(c["target_entropy"])
        )
        self._entropy_module = LogEntropyCoefficient(float(c["initial_entropy_value"]), self.device)
        self.log_entropy_coefficient = self._entropy_module.log_alpha  # skrl's attribute name
        self.entropy_optimizer: torch.optim.Optimizer | None = None
        if self._learn_entropy:
            self.entropy_optimizer = make_adam([self.log_entropy_coefficient], float(c["entropy_learning_rate"]))
            self.checkpoint_modules["entropy_optimizer"] = self.entropy_optimizer
            self.checkpoint_modules["log_entropy_coefficient"] = self._entropy_module
        else:
            self.log_entropy_coefficient.requires_grad_(False)

        self.policy_optimizer: torch.optim.Optimizer | None = None
        self.critic_optimizer: torch.optim.Optimizer | None = None
        self.policy_scheduler: Any = None
        self.critic_scheduler: Any = None
        self._policy_params: list[torch.Tensor] = []
        self._critic_params: list[torch.Tensor] = []
        self._target_params: list[torch.Tensor] = []
        if all(self.models.get(role) is not None for role in _ROLES):
            self._policy_params = list(self.policy.parameters())
            self._critic_params = [*self.critic_1.parameters(), *self.critic_2.parameters()]
            self._target_params = [*self.target_critic_1.parameters(), *self.target_critic_2.parameters()]
            if [p.shape for p in self._target_params] != [p.shape for p in self._critic_params]:
                raise ValueError("SAC: the target critics must have the critics' parameter shapes")
            self.policy_optimizer = make_adam(self._policy_params, float(c["actor_learning_rate"]))
            self.critic_optimizer = make_adam(self._critic_params, float(c["critic_learning_rate"]))
            self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
            self.checkpoint_modules["critic_optimizer"] = self.critic_optimizer
            self.policy_scheduler = self._scheduler(self.policy_optimizer, "policy_scheduler")
            self.critic_scheduler = self._scheduler(self.critic_optimizer, "critic_scheduler")
            self._critics = CriticGroup([self.critic_1, self.critic_2], ["critic_1", "critic_2"])
            self._target_critics = CriticGroup(
                [self.target_critic_1, self.target_critic_2], ["target_critic_1", "target_critic_2"]
            )
            self._critic_groups = [self._critics, self._target_critics]

    @property
    def entropy_coefficient(self) -> torch.Tensor:
        """The current temperature ``α = exp(log α)`` (a 0-d tensor, no gradient)."""
        return self.log_entropy_coefficient.detach().exp()

    @property
    def target_entropy(self) -> float:
        """The entropy the temperature steers the policy towards."""
        return self._target_entropy

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the replay tensors; a memory without the critics and targets cannot be learned from."""
        if self.memory is not None and self.critic_optimizer is None:
            missing = [role for role in _ROLES if self.models.get(role) is None]
            raise ValueError(
                f"SAC requires the {', '.join(repr(r) for r in missing)} model(s) to learn (a memory was given)"
            )
        super().init(trainer_cfg)

    # ------------------------------------------------------------------ interaction
    def _policy_act(
        self, states: torch.Tensor, timestep: int, timesteps: int
    ) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        actions, _, outputs = self.policy.act(self._model_inputs(states), role="policy")
        return actions, None, outputs

    # ------------------------------------------------------------------ learning
    def _update_step(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
    ) -> None:
        """One critic, policy and temperature step on a batch, then the soft target update."""
        assert self.policy_optimizer is not None and self.critic_optimizer is not None
        alpha = self.log_entropy_coefficient.detach().exp()

        # critics: soft Bellman target from the frozen targets
        with torch.no_grad(), self._autocast():
            next_inputs = self._model_inputs(next_states, "next_states")
            next_actions, next_log_prob, _ = self.policy.act(dict(next_inputs), role="policy")
            next_q1, next_q2 = self._target_critics({**next_inputs, "taken_actions": next_actions})
            target = sac_critic_target(
                rewards, terminated, next_q1, next_q2, next_log_prob, alpha, self._discount_factor
            )
        inputs = self._model_inputs(states, "states")
        with self._autocast():
            q1, q2 = self._critics({**inputs, "taken_actions": actions})
            critic_loss = sac_critic_loss(q1, q2, target, self._critic_weights())
        self._optimizer_step(self.critic_optimizer, critic_loss, (self.critic_1, self.critic_2), self._critic_params)

        # policy: critics frozen so that the policy loss computes no critic weight gradients
        for param in self._critic_params:
            param.requires_grad_(False)
        try:
            with self._autocast():
                new_actions, log_prob, _ = self.policy.act(dict(inputs), role="policy")
                new_q1, new_q2 = self._critics({**inputs, "taken_actions": new_actions})
                policy_loss = sac_policy_loss(log_prob, new_q1, new_q2, alpha)
            self._optimizer_step(self.policy_optimizer, policy_loss, (self.policy,), self._policy_params)
        finally:
            for param in self._critic_params:
                param.requires_grad_(True)

        # temperature
        entropy_loss = None
        if self.entropy_optimizer is not None:
            entropy_loss = sac_entropy_loss(self.log_entropy_coefficient, log_prob, self._target_entropy)
            self._optimizer_step(self.entropy_optimizer, entropy_loss, (), [self.log_entropy_coefficient])

        with torch.no_grad():  # both targets in one fused lerp: θ' ← θ' + τ·(θ − θ')
            torch._foreach_lerp_(self._target_params, self._critic_params, self._polyak)

        if self.policy_scheduler is not None:
            self.policy_scheduler.step()
        if self.critic_scheduler is not None:
            self.critic_scheduler.step()

        if self.write_interval > 0:
            self._track(critic_loss, policy_loss, entropy_loss, q1, q2, target, alpha)

    def _track(
        self,
        critic_loss: torch.Tensor,
        policy_loss: torch.Tensor,
        entropy_loss: torch.Tensor | None,
        q1: torch.Tensor,
        q2: torch.Tensor,
        target: torch.Tensor,
        alpha: torch.Tensor,
    ) -> None:
        """Append the update's statistics as 0-d tensors (synced only when written)."""
        track = self.track_data
        track("Loss / Policy loss", policy_loss.detach())
        track("Loss / Critic loss", critic_loss.detach())
        with torch.no_grad():
            for name, values in (("Q-network / Q1", q1), ("Q-network / Q2", q2), ("Target / Target", target)):
                low, high = torch.aminmax(values.detach())
                track(f"{name} (max)", high)
                track(f"{name} (min)", low)
                track(f"{name} (mean)", values.detach().mean())
        if entropy_loss is not None:
            track("Loss / Entropy loss", entropy_loss.detach())
        track("Coefficient / Entropy coefficient", alpha)
        if self.policy_scheduler is not None:
            track("Learning / Policy learning rate", self.policy_optimizer.param_groups[0]["lr"])
        if self.critic_scheduler is not None:
            track("Learning / Critic learning rate", self.critic_optimizer.param_groups[0]["lr"])
