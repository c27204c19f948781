"""Bookkeeping shared by the replay-based PyTorch agents (SAC, TD3, DDPG, DQN, DDQN).

What lives here, so that each algorithm file holds only its losses and update order:

- the replay writes (training mode only; evaluation never touches the memory) of ``states``, ``actions``,
  ``rewards``, ``next_states`` (the TRUE next observation, also for finished episodes), ``terminated`` and
  ``truncated``: targets bootstrap through truncation and stop at termination;
- ``gradient_steps`` updates per training step once ``learning_starts`` transitions are stored;
- optional replay memory checkpointing (``cfg["checkpoint_memory"]``, a steprl addition).

Subclasses implement ``_create_memory_tensors`` (only if they store more), ``_policy_act`` and ``_update_step``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from steprl import config
from steprl.agents.torch._build import build_preprocessor, build_scheduler
from steprl.agents.torch.base import Agent
from steprl.agents.torch.critic_group import CriticGroup
from steprl.core.off_policy import BATCH_NAMES, ReplaySchedule, discrete_actions, replay_settings
from steprl.models.torch import Model

__all__ = ["OffPolicyAgent", "soft_update", "soft_updater"]

_BATCH_NAMES = BATCH_NAMES  # kept for the recurrent variants


def _plain_mode_modules(models: Iterable[Any]) -> tuple[list[nn.Module], list[Any]]:
    """``(submodules whose mode is a plain flag, models to switch with their own set_mode)``."""
    plain: list[nn.Module] = []
    custom: list[Any] = []
    for model in models:
        if model is None:
            continue
        modules = list(model.modules())
        overridden = type(model).set_mode is not Model.set_mode or any(
            type(m).train is not nn.Module.train for m in modules
        )
        if overridden:
            custom.append(model)
        else:
            plain.extend(modules)
    return plain, custom


def soft_update(target: nn.Module, source: nn.Module, polyak: float) -> None:
    """``θ_target ← (1 - polyak)·θ_target + polyak·θ_source`` in place, without gradient (``polyak=1``: hard copy)."""
    if hasattr(target, "update_parameters"):
        target.update_parameters(source, polyak=polyak)
        return
    own, src = list(target.parameters()), list(source.parameters())
    with torch.no_grad():
        torch._foreach_lerp_(own, src, float(polyak))


def soft_updater(pairs: Iterable[tuple[nn.Module, nn.Module]]) -> Callable[[float], None]:
    """``update(polyak)``: :func:`soft_update` of every ``(target, source)`` pair.

    When no target overrides ``Model.update_parameters`` and each pair's parameters match in shape, all pairs move
    in one fused ``θ' ← θ' + polyak·(θ − θ')`` over every tensor; otherwise pair by pair.
    """
    pairs = list(pairs)
    targets = [p for target, _ in pairs for p in target.parameters()]
    sources = [p for _, source in pairs for p in source.parameters()]
    fusable = all(
        getattr(type(target), "update_parameters", Model.update_parameters) is Model.update_parameters
        for target, _ in pairs
    ) and [p.shape for p in targets] == [p.shape for p in sources]

    def update(polyak: float) -> None:
        if not fusable:
            for target, source in pairs:
                soft_update(target, source, polyak)
        elif targets:
            with torch.no_grad():
                torch._foreach_lerp_(targets, sources, float(polyak))

    return update


class OffPolicyAgent(ReplaySchedule, Agent):
    """Base of the replay-based agents (the config must already be merged with the algorithm's defaults)."""

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: Mapping[str, Any],
    ) -> None:
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        c = self.cfg
        settings = replay_settings(c, type(self).__name__)
        self._gradient_steps = settings.gradient_steps
        self._batch_size = settings.batch_size
        self._discount_factor = settings.discount_factor
        self._polyak = settings.polyak

        self._state_preprocessor = build_preprocessor(c.get("state_preprocessor"), c.get("state_preprocessor_kwargs"), self.device)
        if c.get("state_preprocessor") is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        if c.get("checkpoint_memory") and self.memory is not None:
            self.checkpoint_modules["memory"] = self.memory
        self._mode_modules: tuple[list[nn.Module], list[Any]] | None = None
        self._critic_groups: list[CriticGroup] = []  # twin critics and their targets (SAC, TD3)

    # ------------------------------------------------------------------ construction helpers
    def _scheduler(self, optimizer: torch.optim.Optimizer, name: str) -> Any:
        """The configured learning-rate scheduler on ``optimizer``, registered in checkpoints as ``name``."""
        scheduler = build_scheduler(self.cfg.get("learning_rate_scheduler"), optimizer, self.cfg.get("learning_rate_scheduler_kwargs"))
        if scheduler is not None:
            self.checkpoint_modules[name] = scheduler
        return scheduler

    def _broadcast(self, *models: Any) -> None:
        """Distributed runs: start every rank from rank 0's parameters."""
        if config.torch.is_distributed:
            for model in models:
                if model is not None:
                    model.broadcast_parameters()

    @property
    def batched_critics(self) -> bool:
        """Whether the twin critics (and their twin targets) run as one batched ensemble each (default: off).

        Same values and gradients as one pass per critic (see :mod:`steprl.agents.torch.critic_group`); on one CPU
        thread the separate passes measured faster, so turn it on only where it is measured to pay off. Setting it
        raises ``ValueError`` when the critics are not structurally identical.
        """
        return any(group.batched for group in self._critic_groups)

    @batched_critics.setter
    def batched_critics(self, enabled: bool) -> None:
        if not self._critic_groups:
            raise ValueError(
                f"{type(self).__name__} has no twin critics to batch (SAC and TD3 have; learning needs every model)"
            )
        try:
            for group in self._critic_groups:
                group.batched = bool(enabled)
        except ValueError:
            for group in self._critic_groups:
                group.batched = False
            raise

    def set_mode(self, mode: str) -> None:
        """``model.set_mode(mode)`` on every model, fast.

        The mode switches around every update step. ``nn.Module.train`` walks and ``__setattr__``-s every submodule
        of every model (hundreds of microseconds, as much as a small update step on a CPU); when neither a
        model's ``set_mode`` nor any submodule's ``train`` is overridden, setting the ``training`` flags of the
        cached submodule list directly is equivalent.
        """
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        if self._mode_modules is None:
            self._mode_modules = _plain_mode_modules(self.models.values())
        plain, custom = self._mode_modules
        training = mode == "train"
        for module in plain:
            module.__dict__["training"] = training
        for model in custom:
            model.set_mode(mode)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve intervals and create the replay tensors."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        for memory in [self.memory, *self.secondary_memories]:
            self._create_memory_tensors(memory)

    def _create_memory_tensors(self, memory: Any) -> None:
        """``states``/``next_states`` (observation), ``actions``, ``rewards``, ``terminated``, ``truncated``."""
        discrete = discrete_actions(self.action_space)
        memory.create_tensor(name="states", size=self.observation_space, dtype=torch.float32)
        memory.create_tensor(name="next_states", size=self.observation_space, dtype=torch.float32)
        memory.create_tensor(name="actions", size=self.action_space, dtype=torch.int64 if discrete else torch.float32)
        memory.create_tensor(name="rewards", size=1, dtype=torch.float32)
        memory.create_tensor(name="terminated", size=1, dtype=torch.bool)
        memory.create_tensor(name="truncated", size=1, dtype=torch.bool)

    # ------------------------------------------------------------------ interaction
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """Uniformly random actions during the first ``random_timesteps`` training steps, else ``_policy_act``."""
        if self._exploring():
            actions, _, outputs = self._random_policy().random_act({"states": states}, role="policy")
            return actions, None, outputs if isinstance(outputs, dict) else {}
        with self._autocast():
            return self._policy_act(self._state_preprocessor(states), timestep, timesteps)

    def _random_policy(self) -> Any:
        """The model whose ``random_act`` samples the action space (the policy; DQN: the Q-network)."""
        return self.models.get("policy")

    def _policy_act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement _policy_act()")

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """``gradient_steps`` updates at every training step once learning has started (``learning_starts``)."""
        if self._should_update():
            self.set_mode("train")
            self._update(timestep, timesteps)
            self.set_mode("eval")

    # ------------------------------------------------------------------ learning
    def _model_inputs(self, states: torch.Tensor, kind: str = "act") -> dict[str, Any]:
        """A model's inputs for ``states``: ``kind`` is ``"act"`` (acting), ``"states"`` or ``"next_states"`` (the
        batch being learned from); the recurrent variants add hidden states and episode ends."""
        return {"states": states}

    def _sample_batch(self) -> list[torch.Tensor]:
        """``[states, actions, rewards, next_states, terminated]`` of ``batch_size`` random transitions (the recurrent
        variants sample whole sequences)."""
        return self.memory.sample(names=_BATCH_NAMES, batch_size=self._batch_size)[0]

    def _critic_weights(self) -> torch.Tensor | None:
        """Per-sample weights of the critic loss on the batch being learned from (``None``: all equal)."""
        return None

    def _update(self, timestep: int, timesteps: int) -> None:
        """``gradient_steps`` updates, each on a fresh batch of ``batch_size`` transitions."""
        for _ in range(self._gradient_steps):
            states, actions, rewards, next_states, terminated = self._sample_batch()
            self._update_step(
                self._state_preprocessor(states, train=True), actions, rewards, self._state_preprocessor(next_states), terminated
            )
            self._scaler.update()

    def _update_step(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
    ) -> None:
        """One gradient step on a batch (``truncated`` is not needed: only termination stops the bootstrap)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update_step()")
