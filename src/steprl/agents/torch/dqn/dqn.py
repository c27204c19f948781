"""Deep Q-Network (Mnih et al., 2015), with double DQN (van Hasselt et al., 2016) as a one-flag subclass."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch

from steprl.agents.torch._build import check_model_roles, make_adam, require_model
from steprl.agents.torch.dqn.losses import dqn_loss, dqn_targets
from steprl.agents.torch.off_policy import OffPolicyAgent, soft_update
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.dqn import DQN_DEFAULTS, DQN_ROLES, dqn_settings

__all__ = ["DQN", "DQN_DEFAULT_CONFIG"]

DQN_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(copy.deepcopy(DQN_DEFAULTS))




class DQN(OffPolicyAgent):
    """Deep Q-Network: epsilon-greedy over ``q_network``, TD targets from ``target_q_network``.

    - ``act``: greedy ``argmax_a Q(s, a)`` replaced, per environment, by a uniform random action with probability
      ``epsilon = final + (initial - final)·exp(-t / exploration.timesteps)`` (``t``: training steps so far; falsy
      ``exploration.timesteps``: always greedy). Evaluation is always greedy; ``outputs["mean_actions"]`` holds
      the greedy actions (what deterministic evaluation uses) and ``outputs["q_values"]`` the action values.
    - Updates: every ``update_interval`` training steps once more than ``learning_starts`` are stored,
      ``gradient_steps`` MSE steps on fresh batches.
    - Target network: ``θ' ← (1 - polyak)·θ' + polyak·θ`` every ``target_update_interval`` training steps (once
      learning has started, whether or not the step has gradient steps), before that step's gradient steps
      (Stable-Baselines3's order); ``polyak = 1`` copies.
    """

    _NAME = "DQN"
    _DEFAULTS: Mapping[str, Any] = DQN_DEFAULT_CONFIG
    _DOUBLE = False  # double DQN: the online network picks the next action, the target network evaluates it

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        name = self._NAME
        cfg = merge_config(self._DEFAULTS, cfg, where=f"{name} cfg")
        check_model_roles(models, DQN_ROLES, name)
        super().__init__(models, memory, observation_space, action_space, device, cfg)

        self.q_network = require_model(self.models, "q_network", name)
        self.target_q_network = self.models.get("target_q_network")
        self.checkpoint_modules["q_network"] = self.q_network
        if self.target_q_network is not None:  # absent only for evaluation-only use
            self.checkpoint_modules["target_q_network"] = self.target_q_network

        self._settings = dqn_settings(self.cfg, name)
        self._learning_rate = self._settings.learning_rate
        self._target_update_interval = self._settings.target_update_interval

        self._broadcast(self.q_network)
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        if self.target_q_network is not None:
            self.target_q_network.freeze_parameters(True)
            soft_update(self.target_q_network, self.q_network, 1.0)
            self.optimizer = make_adam(list(self.q_network.parameters()), self._learning_rate)
            self.checkpoint_modules["optimizer"] = self.optimizer
            self.scheduler = self._scheduler(self.optimizer, "scheduler")
        self._metrics: list[tuple[torch.Tensor, torch.Tensor]] = []  # (loss, targets) per gradient step of an update

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the replay tensors (a memory needs the ``target_q_network`` to learn)."""
        if self.memory is not None and self.target_q_network is None:
            raise ValueError(
                f"{self._NAME} requires a 'target_q_network' model to learn (a memory was given): "
                "pass models={'target_q_network': ...}"
            )
        super().init(trainer_cfg)

    def _create_memory_tensors(self, memory: Any) -> None:
        """``states``/``next_states``, ``actions`` (one int64 action index), ``rewards``, ``terminated``, ``truncated``."""
        memory.create_tensor(name="states", size=self.observation_space, dtype=torch.float32)
        memory.create_tensor(name="next_states", size=self.observation_space, dtype=torch.float32)
        memory.create_tensor(name="actions", size=1, dtype=torch.int64)
        memory.create_tensor(name="rewards", size=1, dtype=torch.float32)
        memory.create_tensor(name="terminated", size=1, dtype=torch.bool)
        memory.create_tensor(name="truncated", size=1, dtype=torch.bool)

    # ------------------------------------------------------------------ interaction
    def epsilon(self) -> float:
        """The exploration rate of the next training step (0 when ``exploration.timesteps`` is falsy)."""
        return self._settings.epsilon(self.training_steps)

    def _random_policy(self) -> Any:
        return self.q_network

    def _policy_act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """Epsilon-greedy in training, greedy in evaluation; actions ``(N, 1)`` int64 (no host sync)."""
        q_values, _, outputs = self.q_network.act({"states": states}, role="q_network")
        greedy = q_values.argmax(dim=-1, keepdim=True)
        outputs = dict(outputs) if isinstance(outputs, Mapping) else {}
        outputs["q_values"] = q_values
        outputs["mean_actions"] = greedy
        if not self.training:
            return greedy, None, outputs
        epsilon = self.epsilon()
        if self.write_interval > 0:
            self.track_data("Exploration / Exploration epsilon", torch.tensor(epsilon))
        if epsilon <= 0.0:
            return greedy, None, outputs
        rows = greedy.shape[0]
        explore = torch.rand(rows, 1, device=greedy.device) < epsilon
        random_actions = torch.randint(q_values.shape[-1], (rows, 1), device=greedy.device)
        return torch.where(explore, random_actions, greedy), None, outputs

    def _can_learn(self) -> bool:
        return self._settings.updates_at(self.training_steps)

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Once learning has started (``learning_starts``): the target update every ``target_update_interval``
        training steps, then the update every ``update_interval`` steps. The models stay in evaluation mode during
        updates (as in skrl, DQN switches no mode)."""
        if self.memory is None or self.target_q_network is None or not self._learning_started():
            return
        if self._settings.target_update_at(self.training_steps):
            soft_update(self.target_q_network, self.q_network, self._polyak)
        if self._can_learn():
            self._update(timestep, timesteps)

    # ------------------------------------------------------------------ learning
    def _update(self, timestep: int, timesteps: int) -> None:
        """``gradient_steps`` gradient steps, then the scheduler step and the tracking data (mean over the steps)."""
        self._metrics.clear()
        super()._update(timestep, timesteps)
        if self.scheduler is not None:
            self.scheduler.step()
        if self.write_interval > 0 and self._metrics:
            losses = torch.stack([loss for loss, _ in self._metrics])
            targets = torch.cat([t for _, t in self._metrics])
            self.track_data("Loss / Q-network loss", losses.mean())
            self.track_data("Target / Target (max)", targets.max())
            self.track_data("Target / Target (min)", targets.min())
            self.track_data("Target / Target (mean)", targets.mean())
            self.track_data("Learning / Learning rate", self.optimizer.param_groups[0]["lr"])
        self._metrics.clear()

    def _update_step(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
    ) -> None:
        """One MSE step of the online Q-network towards the (double) DQN targets."""
        assert self.optimizer is not None and self.target_q_network is not None
        with torch.no_grad(), self._autocast():
            next_target_q = self.target_q_network.act({"states": next_states}, role="target_q_network")[0]
            next_online_q = self.q_network.act({"states": next_states}, role="q_network")[0] if self._DOUBLE else None
            targets = dqn_targets(rewards, terminated, next_target_q.float(), self._discount_factor,
                                  None if next_online_q is None else next_online_q.float())
        with self._autocast():
            q_values = self.q_network.act({"states": states}, role="q_network")[0]
            loss = dqn_loss(q_values.float(), actions, targets)
        self._optimizer_step(self.optimizer, loss, [self.q_network], self.optimizer.param_groups[0]["params"])
        if self.write_interval > 0:
            self._metrics.append((loss.detach(), targets))
