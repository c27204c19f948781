"""Proximal Policy Optimization (Schulman et al., 2017) with correct truncation bootstrapping."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from steprl import config
from steprl.agents.torch._build import (
    build_preprocessor,
    build_scheduler,
    check_model_roles,
    make_adam,
    require_model,
    unique_parameters,
)
from steprl.agents.torch.base import AGENT_EXPERIMENT_DEFAULTS, Agent
from steprl.agents.torch.gae import compute_gae
from steprl.agents.torch.ppo.losses import ppo_loss
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.resources.schedulers.torch import KLAdaptiveLR

# fmt: off
PPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "rollouts": 16,                 # number of rollouts before updating
    "learning_epochs": 8,           # number of learning epochs during each update
    "mini_batches": 2,              # number of mini batches during each learning epoch

    "discount_factor": 0.99,        # discount factor (gamma)
    "lambda": 0.95,                 # TD(lambda) coefficient (lam) for computing returns and advantages

    "learning_rate": 1e-3,                  # learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler class (see torch.optim.lr_scheduler)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})
    "value_preprocessor": None,             # value preprocessor class (see steprl.resources.preprocessors)
    "value_preprocessor_kwargs": {},        # value preprocessor's kwargs (e.g. {"size": 1})

    "random_timesteps": 0,          # random exploration steps
    "learning_starts": 0,           # learning starts after this many steps

    "grad_norm_clip": 0.5,              # clipping coefficient for the norm of the gradients
    "ratio_clip": 0.2,                  # clipping coefficient for computing the clipped surrogate objective
    "value_clip": 0.2,                  # clipping coefficient for computing the value loss (if clip_predicted_values is True)
    "clip_predicted_values": False,     # clip predicted values during value loss computation

    "entropy_loss_scale": 0.0,      # entropy loss scaling factor
    "value_loss_scale": 1.0,        # value loss scaling factor

    "kl_threshold": 0,              # KL divergence threshold for early stopping

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward
    "time_limit_bootstrap": False,  # accepted for skrl compatibility: steprl always bootstraps truncated episodes

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
})
# fmt: on

_ROLES = ("policy", "value")
_BATCH_NAMES = ("states", "actions", "log_prob", "values", "returns", "advantages")
_NO_SAMPLES: Mapping[str, torch.Tensor] = MappingProxyType({})


class PPO(Agent):
    """Proximal Policy Optimization.

    Per environment step the agent only runs the policy (``act``) and stores the transition. Values, old
    log-probabilities and the value of every next observation are computed in one batched forward pass at
    update time (the models do not change during a rollout, so this equals computing them step by step).
    A truncated episode bootstraps from the value of its true final observation; a terminated one does not.
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
        cfg = merge_config(PPO_DEFAULT_CONFIG, cfg, where="PPO cfg")
        check_model_roles(models, _ROLES, "PPO")
        super().__init__(models, memory, observation_space, action_space, device, cfg)

        self.policy = require_model(self.models, "policy", "PPO")
        self.value = self.models.get("value")
        self.checkpoint_modules["policy"] = self.policy
        self.checkpoint_modules["value"] = self.value

        c = self.cfg
        self._rollouts = int(c["rollouts"])
        self._learning_epochs = int(c["learning_epochs"])
        self._mini_batches = int(c["mini_batches"])
        self._discount_factor = float(c["discount_factor"])
        self._lambda = float(c["lambda"])
        self._learning_rate = float(c["learning_rate"])
        self._random_timesteps = int(c["random_timesteps"])
        self._learning_starts = int(c["learning_starts"])
        self._grad_norm_clip = float(c["grad_norm_clip"])
        self._ratio_clip = float(c["ratio_clip"])
        self._value_clip = float(c["value_clip"])
        self._clip_predicted_values = bool(c["clip_predicted_values"])
        self._entropy_loss_scale = float(c["entropy_loss_scale"])
        self._value_loss_scale = float(c["value_loss_scale"])
        self._kl_threshold = float(c["kl_threshold"])
        self._rewards_shaper = c["rewards_shaper"]
        self._mixed_precision = bool(c["mixed_precision"])
        for key in ("rollouts", "learning_epochs", "mini_batches"):
            if int(c[key]) < 1:
                raise ValueError(f"PPO cfg['{key}'] must be >= 1, got {c[key]}")

        self._autocast_type = self.device.type
        self._scaler = torch.amp.GradScaler(device=self.device.type, enabled=self._mixed_precision)

        if config.torch.is_distributed:
            self.policy.broadcast_parameters()
            if self.value is not None and self.value is not self.policy:
                self.value.broadcast_parameters()

        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        if self.value is not None:
            self.optimizer = make_adam(unique_parameters(self.policy, self.value), self._learning_rate)
            self.scheduler = build_scheduler(c["learning_rate_scheduler"], self.optimizer, c["learning_rate_scheduler_kwargs"])
            self.checkpoint_modules["optimizer"] = self.optimizer
            if self.scheduler is not None:
                self.checkpoint_modules["scheduler"] = self.scheduler

        self._state_preprocessor = build_preprocessor(c["state_preprocessor"], c["state_preprocessor_kwargs"], self.device)
        if c["state_preprocessor"] is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        self._value_preprocessor = build_preprocessor(c["value_preprocessor"], c["value_preprocessor_kwargs"], self.device)
        if c["value_preprocessor"] is not None:
            self.checkpoint_modules["value_preprocessor"] = self._value_preprocessor

        self._rollout = 0

    def _autocast(self) -> Any:
        if not self._mixed_precision:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self._autocast_type, enabled=True)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the memory tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        if self.value is None:
            raise ValueError("PPO requires a 'value' model to learn (a memory was given): pass models={'value': ...}")
        if self.memory.memory_size != self._rollouts:
            raise ValueError(
                f"PPO: memory_size ({self.memory.memory_size}) must equal cfg['rollouts'] ({self._rollouts}); "
                f"use RandomMemory(memory_size={self._rollouts}, num_envs=...)"
            )
        samples = self.memory.memory_size * self.memory.num_envs
        if self._mini_batches > samples:
            raise ValueError(f"PPO: cfg['mini_batches'] ({self._mini_batches}) exceeds the rollout size ({samples} samples)")
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
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """Sample actions from the policy (uniformly at random while ``timestep < random_timesteps``)."""
        inputs = {"states": self._state_preprocessor(states)}
        if self.training and timestep < self._random_timesteps:
            return self.policy.random_act(inputs, role="policy")
        with self._autocast():
            return self.policy.act(inputs, role="policy")

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
        """Store the transition (training mode only; evaluation never writes to memory)."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps)
        if not self.training or self.memory is None:
            return
        if self._rewards_shaper is not None:
            rewards = self._rewards_shaper(rewards, timestep, timesteps)
        extra = self._transition_samples()
        self.memory.add_samples(
            states=states, next_states=next_states, actions=actions, rewards=rewards, terminated=terminated, truncated=truncated,
            **extra,
        )
        for memory in self.secondary_memories:
            memory.add_samples(
                states=states, next_states=next_states, actions=actions, rewards=rewards, terminated=terminated, truncated=truncated,
                **extra,
            )

    def _transition_samples(self) -> Mapping[str, torch.Tensor]:
        """Extra tensors stored with each training transition (none for PPO; PPO_RNN adds the hidden states)."""
        return _NO_SAMPLES

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update every ``rollouts`` training steps, then the base bookkeeping."""
        if self.training and self.memory is not None:
            self._rollout += 1
            if not self._rollout % self._rollouts and timestep >= self._learning_starts:
                self.set_mode("train")
                self._update(timestep, timesteps)
                self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the episodes in progress (mode switch): mark the last stored step as truncated.

        The rollout then bootstraps from that step's next observation and GAE does not chain it to the fresh
        episode that follows.
        """
        if self.memory is None or not self._rollout % self._rollouts:
            return
        row = (self.memory.memory_index - 1) % self.memory.memory_size
        self.memory.get_tensor_by_name("truncated")[row] = True

    # ------------------------------------------------------------------ learning
    @torch.no_grad()
    def _evaluate_rollout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(values, next_values, log_prob)`` of the stored rollout, each ``(T, N, 1)``, values in return scale.

        One batched forward pass over ``states`` and ``next_states`` (PPO_RNN overrides it to feed stored hidden states).
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
        """Values, next values, old log-probs, returns and advantages of the whole rollout."""
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
        """A fresh shuffle of the rollout: per minibatch the ``_BATCH_NAMES`` tensors and the extra policy / value
        inputs (none for PPO; PPO_RNN adds the sequence-start hidden states and the episode-end masks).
        """
        for batch in self.memory.sample_all(names=_BATCH_NAMES, mini_batches=self._mini_batches, shuffle=True):
            yield batch, {}, {}

    def _update(self, timestep: int, timesteps: int) -> None:
        """Run ``learning_epochs`` passes of ``mini_batches`` clipped-surrogate steps over the rollout."""
        assert self.optimizer is not None
        self._prepare_rollout()
        params = self.optimizer.param_groups[0]["params"]
        totals = {"policy_loss": [], "value_loss": [], "entropy_loss": []}
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
                    )
                kls.append(parts["kl"])
                if self._kl_threshold and float(parts["kl"]) > self._kl_threshold:
                    break
                self.optimizer.zero_grad(set_to_none=True)
                self._scaler.scale(loss).backward()
                if config.torch.is_distributed:
                    self.policy.reduce_parameters()
                    if self.value is not self.policy:
                        self.value.reduce_parameters()
                if self._grad_norm_clip > 0:
                    self._scaler.unscale_(self.optimizer)
                    nn.utils.clip_grad_norm_(params, self._grad_norm_clip)
                self._scaler.step(self.optimizer)
                self._scaler.update()
                for key in totals:
                    totals[key].append(parts[key].detach())
            epoch_kl = torch.stack(kls).mean()
            kl_per_epoch.append(epoch_kl)
            if self.scheduler is not None:
                if isinstance(self.scheduler, KLAdaptiveLR):
                    if config.torch.is_distributed:
                        torch.distributed.all_reduce(epoch_kl, op=torch.distributed.ReduceOp.SUM)
                        epoch_kl = epoch_kl / config.torch.world_size
                    self.scheduler.step(epoch_kl)
                else:
                    self.scheduler.step()

        if self.write_interval > 0:
            for key, tag in (("policy_loss", "Policy loss"), ("value_loss", "Value loss"), ("entropy_loss", "Entropy loss")):
                if totals[key] and (key != "entropy_loss" or self._entropy_loss_scale):
                    self.track_data(f"Loss / {tag}", torch.stack(totals[key]).mean())
            self.track_data("Policy / KL divergence", torch.stack(kl_per_epoch).mean())
            log_std = getattr(self.policy, "get_log_std", None)
            if callable(log_std):
                try:
                    self.track_data("Policy / Standard deviation", log_std(role="policy").exp().mean().detach())
                except (NotImplementedError, AttributeError, TypeError, RuntimeError):
                    pass
            self.track_data("Learning / Learning rate", self.optimizer.param_groups[0]["lr"])
