"""Deep Deterministic Policy Gradient (Lillicrap et al., 2016) and the deterministic actor-critic base it shares
with TD3.

:class:`DeterministicActorCritic` holds everything DDPG and TD3 have in common: the exploration noise and its
linearly decaying scale, clamping to the action bounds, frozen target networks with soft (polyak) updates, the
critic step (mean of the critics' MSE to a clipped-min target) and the deterministic policy-gradient step. DDPG is
the one-critic case updating its policy every critic update without target smoothing; TD3 adds a second critic,
target policy smoothing and delayed policy/target updates.

Exploration (``cfg["exploration"]``): in training, ``actions = clamp(π(s) + scale · noise.sample(shape), low,
high)`` where ``scale`` goes linearly from ``initial_scale`` to ``final_scale`` over ``timesteps`` TRAINING steps
(``None``: the trainer's ``timesteps``) and stays at ``final_scale`` afterwards (skrl adds no noise at all after
the window; steprl keeps the final scale, so ``final_scale=0`` gives skrl's behaviour). Evaluation never adds noise.
Noises with a ``reset(mask)`` method (``OrnsteinUhlenbeckNoise``) are reset for the environments whose episode
ended (skrl never resets them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl import logger
from steprl.agents.torch._build import check_model_roles, make_adam, require_model, unique_parameters
from steprl.agents.torch.critic_group import CriticGroup
from steprl.agents.torch.ddpg.losses import bootstrapped_target, critic_loss, deterministic_policy_loss
from steprl.agents.torch.off_policy import OffPolicyAgent, soft_update, soft_updater
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.off_policy import box_bounds, exploration_settings
from steprl.core.off_policy_defaults import DDPG_DEFAULTS
from steprl.resources.noises.torch import Noise

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG", "DeterministicActorCritic"]

DDPG_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(DDPG_DEFAULTS)


def _action_bounds(action_space: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
    """Flat ``(low, high)`` tensors of a Box action space (``(None, None)`` for anything else)."""
    low, high = box_bounds(action_space)
    if low is None:
        return None, None
    return torch.as_tensor(low, device=device), torch.as_tensor(high, device=device)


def _check_noise_device(noise: Any, device: torch.device, key: str, agent: str) -> None:
    """Warn when a noise samples on another device than the agent's (adding it to the actions would fail)."""
    noise_device = getattr(noise, "device", None)
    if isinstance(noise_device, torch.device) and noise_device.type != device.type:
        logger.warning(f"{agent}: cfg{key} samples on {noise_device} but the agent runs on {device}: "
                       f"create the noise with device={str(device)!r}")


class DeterministicActorCritic(OffPolicyAgent):
    """Base of DDPG and TD3 (see the module docstring); subclasses give their roles, config and policy delay.

    Learning needs every role (optimizers are created only then); a policy alone is enough to act.
    """

    _CRITICS: tuple[str, ...] = ("critic",)

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: Mapping[str, Any],
        name: str,
        policy_delay: int = 1,
    ) -> None:
        targets = tuple(f"target_{role}" for role in self._CRITICS)
        check_model_roles(models, ("policy", "target_policy", *self._CRITICS, *targets), name)
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._name = name
        self.policy = require_model(self.models, "policy", name)
        self.target_policy = self.models.get("target_policy")
        self.critics: list[Any] = [self.models.get(role) for role in self._CRITICS]
        self.target_critics: list[Any] = [self.models.get(role) for role in targets]
        for role in ("policy", "target_policy", *self._CRITICS, *targets):
            if self.models.get(role) is not None:
                self.checkpoint_modules[role] = self.models[role]

        c = self.cfg
        if int(policy_delay) < 1:
            raise ValueError(f"{name} cfg['policy_delay'] must be >= 1, got {policy_delay}")
        self._policy_delay = int(policy_delay)

        self._exploration = exploration_settings(c["exploration"], name)
        self._exploration_noise = self._exploration.noise
        self._low, self._high = _action_bounds(action_space, self.device)
        if self._exploration_noise is None and memory is not None:
            logger.warning(f"{name}: cfg['exploration']['noise'] is None: training actions carry no exploration noise")
        # only stateful noises (those overriding Noise.reset, e.g. Ornstein-Uhlenbeck) are reset at episode ends
        noise_reset = getattr(type(self._exploration_noise), "reset", None)
        self._reset_noise = callable(noise_reset) and noise_reset is not Noise.reset
        _check_noise_device(self._exploration_noise, self.device, "['exploration']['noise']", name)

        self._broadcast(self.policy, *self.critics)
        for target, source in ((self.target_policy, self.policy), *zip(self.target_critics, self.critics)):
            if target is not None and source is not None:
                target.freeze_parameters(True)
                soft_update(target, source, polyak=1.0)

        self.policy_optimizer: torch.optim.Optimizer | None = None
        self.critic_optimizer: torch.optim.Optimizer | None = None
        self.policy_scheduler: Any = None
        self.critic_scheduler: Any = None
        self._missing = [role for role in ("target_policy", *self._CRITICS, *targets) if self.models.get(role) is None]
        if not self._missing:
            self._policy_params = list(self.policy.parameters())
            self._critic_params = unique_parameters(*self.critics)
            self.policy_optimizer = make_adam(self._policy_params, float(c["actor_learning_rate"]))
            self.critic_optimizer = make_adam(self._critic_params, float(c["critic_learning_rate"]))
            self.policy_scheduler = self._scheduler(self.policy_optimizer, "policy_scheduler")
            self.critic_scheduler = self._scheduler(self.critic_optimizer, "critic_scheduler")
            self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
            self.checkpoint_modules["critic_optimizer"] = self.critic_optimizer
            self._critic_group = CriticGroup(self.critics, self._CRITICS)
            self._target_group = CriticGroup(self.target_critics, targets)
            if len(self.critics) > 1:
                self._critic_groups = [self._critic_group, self._target_group]
            self._update_targets = soft_updater(
                [(self.target_policy, self.policy), *zip(self.target_critics, self.critics)]
            )
        self.critic_updates = 0  # critic updates so far (checkpointed: the policy delay keeps its phase on resume)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the replay tensors and resolve the exploration window (``None`` → the trainer's timesteps)."""
        super().init(trainer_cfg)
        if self.memory is not None and self._missing:
            raise ValueError(
                f"{self._name} needs the models {', '.join(repr(r) for r in self._missing)} to learn (a memory was "
                f"given): pass them in models={{...}}"
            )
        self._exploration.resolve_window(trainer_cfg)

    # ------------------------------------------------------------------ interaction
    def exploration_scale(self, timesteps: int | None = None) -> float:
        """Noise scale at the current training step (random steps included): linear from ``initial_scale`` to
        ``final_scale`` over the window, then ``final_scale``. The window is ``exploration.timesteps``, else the
        trainer's ``timesteps``, else the ``timesteps`` given to ``act``; none (or 0): ``final_scale`` throughout."""
        return self._exploration.scale(self.training_steps, timesteps)

    def _clamp(self, actions: torch.Tensor) -> torch.Tensor:
        if self._low is None:
            return actions
        return torch.clamp(actions, min=self._low, max=self._high)

    def _policy_act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """The deterministic action (``outputs["mean_actions"]``), plus scaled exploration noise in training."""
        actions, _, outputs = self.policy.act(self._model_inputs(states), role="policy")
        outputs = outputs if isinstance(outputs, dict) else {}
        deterministic = self._clamp(actions)
        outputs["mean_actions"] = deterministic
        if not self.training or self._exploration_noise is None:
            return deterministic, None, outputs
        noise = self._exploration_noise.sample(actions.shape) * self.exploration_scale(timesteps)
        if self.write_interval > 0:
            self.track_data("Exploration / Exploration noise (max)", noise.max())
            self.track_data("Exploration / Exploration noise (min)", noise.min())
            self.track_data("Exploration / Exploration noise (mean)", noise.mean())
        return self._clamp(actions + noise), None, outputs

    def _transition_recorded(self, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Reset a stateful exploration noise for the environments whose training episode ended."""
        if self.training and self._reset_noise:
            self._exploration_noise.reset(torch.logical_or(terminated, truncated).reshape(-1))

    # ------------------------------------------------------------------ learning
    def _track(self, tag: str, value: torch.Tensor) -> None:
        if self.write_interval > 0:
            self.track_data(tag, value.detach())

    def _target_values(self, rewards: torch.Tensor, next_states: torch.Tensor, terminated: torch.Tensor) -> torch.Tensor:
        """DDPG target ``r + γ·(1 - terminated)·Q'(s', π'(s'))`` (TD3 overrides it)."""
        with torch.no_grad(), self._autocast():
            next_actions = self.target_policy.act(self._model_inputs(next_states, "next_states"), role="target_policy")[0]
            next_q = self._target_group({**self._model_inputs(next_states, "next_states"), "taken_actions": next_actions})[0]
            return bootstrapped_target(rewards, terminated, next_q, self._discount_factor)

    def _critic_loss(
        self, states: torch.Tensor, actions: torch.Tensor, target_values: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Critic loss and each critic's ``Q(s, a)`` on the batch (gradients reach the critics only)."""
        with self._autocast():
            q_values = self._critic_group({**self._model_inputs(states, "states"), "taken_actions": actions})
            return critic_loss(q_values, target_values, self._critic_weights()), q_values

    def _policy_loss(self, states: torch.Tensor) -> torch.Tensor:
        """``-mean Q_1(s, π(s))`` with the critic's parameters frozen during the forward pass (gradients reach the
        policy only)."""
        for param in self._critic_params:
            param.requires_grad_(False)
        try:
            with self._autocast():
                actions = self.policy.act(self._model_inputs(states, "states"), role="policy")[0]
                q_values = self.critics[0].act({**self._model_inputs(states, "states"), "taken_actions": actions}, role=self._CRITICS[0])[0]
                return deterministic_policy_loss(q_values)
        finally:
            for param in self._critic_params:
                param.requires_grad_(True)

    def _update_step(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
    ) -> None:
        """Critic step; every ``policy_delay`` critic steps a policy step and the soft target updates."""
        target_values = self._target_values(rewards, next_states, terminated)
        loss, q_values = self._critic_loss(states, actions, target_values)
        self._optimizer_step(self.critic_optimizer, loss, self.critics, self._critic_params)
        self.critic_updates += 1

        if not self.critic_updates % self._policy_delay:
            policy_loss = self._policy_loss(states)
            self._optimizer_step(self.policy_optimizer, policy_loss, [self.policy], self._policy_params)
            self._update_targets(self._polyak)
            self._track("Loss / Policy loss", policy_loss)

        if self.policy_scheduler is not None and self.critic_updates >= self._policy_delay:  # after its 1st step
            self.policy_scheduler.step()
        if self.critic_scheduler is not None:
            self.critic_scheduler.step()

        if self.write_interval > 0:
            self._track("Loss / Critic loss", loss)
            for i, q in enumerate(q_values, start=1):
                self._track(f"Q-network / Q{i} (max)", q.max())
                self._track(f"Q-network / Q{i} (min)", q.min())
                self._track(f"Q-network / Q{i} (mean)", q.mean())
            self._track("Target / Target (max)", target_values.max())
            self._track("Target / Target (min)", target_values.min())
            self._track("Target / Target (mean)", target_values.mean())
            if self.policy_scheduler is not None:
                self.track_data("Learning / Policy learning rate", self.policy_scheduler.get_last_lr()[0])
            if self.critic_scheduler is not None:
                self.track_data("Learning / Critic learning rate", self.critic_scheduler.get_last_lr()[0])

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_meta(self) -> dict[str, Any]:
        return {**super()._checkpoint_meta(), "critic_updates": self.critic_updates}

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        super()._restore_meta(meta)
        self.critic_updates = int(meta.get("critic_updates", self.critic_updates))


class DDPG(DeterministicActorCritic):
    """Deep Deterministic Policy Gradient.

    Roles: ``policy``, ``target_policy``, ``critic``, ``target_critic`` (targets frozen and hard-copied here, then
    soft-updated with ``polyak`` after every policy step). Every gradient step: critic regression on
    ``r + γ·(1 - terminated)·Q'(s', π'(s'))`` (truncation bootstraps), then a policy step on ``-Q(s, π(s))``.
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
        cfg = merge_config(DDPG_DEFAULT_CONFIG, cfg, where="DDPG cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg, name="DDPG")
        self.critic = self.critics[0]
        self.target_critic = self.target_critics[0]


