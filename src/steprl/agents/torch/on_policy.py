"""Bookkeeping shared by the rollout-based PyTorch agents (PPO, RPO, A2C, TRPO).

What lives here, so that each algorithm file holds only its losses and update order:

- the ``policy`` / ``value`` roles, the state and value preprocessors and the mixed-precision helpers;
- the rollout memory (``memory_size == rollouts``) written in training mode only: ``states``, ``next_states`` (the
  TRUE next observation, also for finished episodes), ``actions``, ``rewards``, ``terminated``, ``truncated``;
- the per-step path (``act``, ``record_transition``, ``post_interaction``): the policy only, no host syncs;
- at update time, one batched evaluation of the values, next values and old log-probabilities of the whole rollout,
  then GAE (truncation bootstraps from the true final observation; only termination zeroes the bootstrap) and
  normalised advantages (:meth:`OnPolicyAgent._prepare_rollout`);
- ``interrupt_episodes`` (the trainer abandoned the episodes in progress).

Subclasses implement ``_update`` (and may override the hooks ``_act_inputs``, ``_transition_samples``,
``_evaluate_rollout`` and ``_minibatches``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from steprl import config
from steprl.agents.torch._build import (
    build_preprocessor,
    build_scheduler,
    check_model_roles,
    make_adam,
    require_model,
    unique_parameters,
)
from steprl.agents.torch.base import Agent
from steprl.agents.torch.gae import compute_gae
from steprl.core.rollout import RolloutSchedule, rollout_settings
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.utils.distributed import torch as distributed

__all__ = ["BATCH_NAMES", "OnPolicyAgent"]

ROLES = ("policy", "value")
BATCH_NAMES = ("states", "actions", "log_prob", "values", "returns", "advantages")


class OnPolicyAgent(RolloutSchedule, Agent):
    """Base of the rollout agents (``cfg`` must already be merged with the algorithm's defaults).

    Per environment step only the policy runs (``act``) and the transition is stored. Values, old log-probabilities
    and the value of every next observation are computed in one batched forward pass at update time (the models do
    not change during a rollout, so this equals computing them step by step).
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: Mapping[str, Any],
        name: str,
    ) -> None:
        check_model_roles(models, ROLES, name)
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._name = name
        self.policy = require_model(self.models, "policy", name)
        self.value = self.models.get("value")
        self.checkpoint_modules["policy"] = self.policy
        self.checkpoint_modules["value"] = self.value

        c = self.cfg
        self._rollouts, self._learning_epochs, self._mini_batches = rollout_settings(c, name)
        self._discount_factor = float(c["discount_factor"])
        self._lambda = float(c["lambda"])
        self._entropy_loss_scale = float(c.get("entropy_loss_scale", 0.0) or 0.0)

        if config.torch.is_distributed:
            self.policy.broadcast_parameters()
            if self.value is not None and self.value is not self.policy:
                self.value.broadcast_parameters()

        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None

        self._state_preprocessor = build_preprocessor(c["state_preprocessor"], c["state_preprocessor_kwargs"], self.device)
        if c["state_preprocessor"] is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        self._value_preprocessor = build_preprocessor(c["value_preprocessor"], c["value_preprocessor_kwargs"], self.device)
        if c["value_preprocessor"] is not None:
            self.checkpoint_modules["value_preprocessor"] = self._value_preprocessor

        self._rollout = 0  # training steps stored since the agent was created (a rollout ends at each multiple)
        if self.memory is not None:  # a checkpoint taken mid-rollout keeps the partial rollout
            self.checkpoint_modules["memory"] = self.memory

    # ------------------------------------------------------------------ construction helpers
    def _build_optimizer(self, params: list[torch.nn.Parameter], learning_rate: float, name: str) -> None:
        """``self.optimizer`` (Adam over ``params``) and the configured scheduler, registered in checkpoints as
        ``name`` and ``"scheduler"``."""
        self.optimizer = make_adam(params, learning_rate)
        self.scheduler = build_scheduler(self.cfg["learning_rate_scheduler"], self.optimizer, self.cfg["learning_rate_scheduler_kwargs"])
        self.checkpoint_modules[name] = self.optimizer
        if self.scheduler is not None:
            self.checkpoint_modules["scheduler"] = self.scheduler

    def _joint_parameters(self) -> list[torch.nn.Parameter]:
        """Policy ∪ value parameters, each once (one set when the models are shared)."""
        return unique_parameters(self.policy, self.value)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the memory tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        name = self._name
        if self.value is None:
            raise ValueError(f"{name} requires a 'value' model to learn (a memory was given): pass models={{'value': ...}}")
        self._check_rollout_memory()
        for memory in [self.memory, *self.secondary_memories]:
            memory.create_tensor(name="states", size=self.observation_space, dtype=torch.float32)
            memory.create_tensor(name="next_states", size=self.observation_space, dtype=torch.float32)
            memory.create_tensor(name="actions", size=self.action_space, dtype=torch.float32)
            memory.create_tensor(name="rewards", size=1, dtype=torch.float32)
            memory.create_tensor(name="terminated", size=1, dtype=torch.bool)
            memory.create_tensor(name="truncated", size=1, dtype=torch.bool)
            memory.create_tensor(name="log_prob", size=1, dtype=torch.float32)
            memory.create_tensor(name="values", size=1, dtype=torch.float32)
            memory.create_tensor(name="returns", size=1, dtype=torch.float32)
            memory.create_tensor(name="advantages", size=1, dtype=torch.float32)

    # ------------------------------------------------------------------ interaction
    def _act_inputs(self, states: torch.Tensor) -> dict[str, Any]:
        """The policy's inputs for ``act`` (RPO adds ``alpha`` in training mode)."""
        return {"states": self._state_preprocessor(states)}

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """Sample actions from the policy (uniformly at random during the first ``random_timesteps`` training steps)."""
        inputs = self._act_inputs(states)
        if self._exploring():
            return self.policy.random_act(inputs, role="policy")
        with self._autocast():
            return self.policy.act(inputs, role="policy")

    def _truncate_row(self, row: int) -> None:
        self.memory.get_tensor_by_name("truncated")[row] = True

    # ------------------------------------------------------------------ learning
    def _rollout_policy_inputs(self) -> dict[str, Any]:
        """Extra policy inputs of the update-time passes (RPO: ``alpha``)."""
        return {}

    @torch.no_grad()
    def _evaluate_rollout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(values, next_values, log_prob)`` of the stored rollout, each ``(T, N, 1)``, values in return scale.

        One batched forward pass over ``states`` and ``next_states`` (the recurrent variants override it to feed stored hidden states).
        """
        memory = self.memory
        t, n = memory.memory_size, memory.num_envs
        states = memory.get_tensor_by_name("states", keepdim=False)
        next_states = memory.get_tensor_by_name("next_states", keepdim=False)
        actions = memory.get_tensor_by_name("actions", keepdim=False)
        rows = states.shape[0]
        with self._autocast():
            processed = self._state_preprocessor(torch.cat([states, next_states]))
            both_values = self.value.act({"states": processed}, role="value")[0].float()
            _, log_prob, _ = self.policy.act({"states": processed[:rows], "taken_actions": actions}, role="policy")
        both_values = self._value_preprocessor(both_values, inverse=True)
        return both_values[:rows].view(t, n, 1), both_values[rows:].view(t, n, 1), log_prob.float().view(t, n, 1)

    @torch.no_grad()
    def _prepare_rollout(self) -> None:
        """Values, next values, old log-probs, returns and (normalised) advantages of the whole rollout."""
        memory = self.memory
        values, next_values, log_prob = self._evaluate_rollout()
        returns, advantages = compute_gae(
            memory.get_tensor_by_name("rewards"),
            values,
            next_values,
            memory.get_tensor_by_name("terminated"),
            memory.get_tensor_by_name("truncated"),
            self._discount_factor,
            self._lambda,
        )
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        memory.set_tensor_by_name("log_prob", log_prob)
        memory.set_tensor_by_name("values", self._value_preprocessor(values, train=True))
        memory.set_tensor_by_name("returns", self._value_preprocessor(returns, train=False))
        memory.set_tensor_by_name("advantages", advantages)

    def _minibatches(self) -> Iterator[tuple[list[torch.Tensor], dict[str, Any], dict[str, Any]]]:
        """A fresh shuffle of the rollout: per minibatch the ``BATCH_NAMES`` tensors and the extra policy / value
        inputs (none by default; the recurrent variants add the sequence-start hidden states and the episode-end masks).
        """
        memory = self.memory
        size = len(memory)
        views = [memory.get_tensor_by_name(name, keepdim=False)[:size] for name in BATCH_NAMES]
        widths = [view.shape[1] for view in views]
        # one gather per epoch: the batch tensors side by side, rows in the order of a fresh permutation (the one
        # Memory.sample_all would draw); each minibatch is then a slice and each tensor a column view of it
        shuffled = torch.cat(views, dim=1)[torch.randperm(size, device=memory.device)]
        for rows in torch.tensor_split(shuffled, self._mini_batches):
            yield list(torch.split(rows, widths, dim=1)), {}, {}

    def _trained_models(self) -> list[Any]:
        """The policy and (if separate) the value model."""
        return [self.policy] if self.value is self.policy else [self.policy, self.value]

    def _step_scheduler(self, kl: torch.Tensor | None, averaged: bool = False) -> None:
        """Step the scheduler: ``KLAdaptiveLR`` gets ``kl`` (averaged over ranks in distributed runs, unless the
        caller already did: ``averaged``)."""
        if self.scheduler is None:
            return
        if isinstance(self.scheduler, KLAdaptiveLR):
            self.scheduler.step(None if kl is None else kl if averaged else distributed.mean_over_ranks(kl))
        else:
            self.scheduler.step()

    def _track_losses(self, totals: Mapping[str, list[torch.Tensor]], kl: torch.Tensor | None) -> None:
        """Tracking data of an update (``Loss / ...`` means, KL, policy standard deviation, learning rate)."""
        if self.write_interval <= 0:
            return
        tags = {"policy_loss": "Policy loss", "value_loss": "Value loss", "entropy_loss": "Entropy loss"}
        for key, values in totals.items():
            if values and (key != "entropy_loss" or self._entropy_loss_scale):
                self.track_data(f"Loss / {tags.get(key, key)}", torch.stack(values).mean())
        if kl is not None:
            self.track_data("Policy / KL divergence", kl)
        log_std = getattr(self.policy, "get_log_std", None)
        if callable(log_std):
            try:
                self.track_data("Policy / Standard deviation", log_std(role="policy").exp().mean().detach())
            except (NotImplementedError, AttributeError, TypeError, RuntimeError):
                pass
        if self.optimizer is not None:
            self.track_data("Learning / Learning rate", self.optimizer.param_groups[0]["lr"])
