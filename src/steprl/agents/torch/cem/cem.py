"""Cross-entropy method (Rubinstein, 1999) for a categorical policy, as in skrl: imitate the elite episodes."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

import torch

from steprl import config
from steprl.agents.torch._build import build_preprocessor, build_scheduler, check_model_roles, make_adam, require_model
from steprl.agents.torch.base import Agent
from steprl.agents.torch.cem.losses import cem_loss, select_elite
from steprl.core.cem import CEM_DEFAULTS, STREAM_NAMES, CEMSchedule, cem_settings
from steprl.core.cfg import DefaultConfig, merge_config

__all__ = ["CEM", "CEM_DEFAULT_CONFIG"]

CEM_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(copy.deepcopy(CEM_DEFAULTS))


class _Carry(NamedTuple):
    """Steps of episodes still running when a rollout ended, ordered by environment then time (``C`` rows)."""

    env_ids: torch.Tensor  # (C,) int64
    states: torch.Tensor  # (C, obs)
    actions: torch.Tensor  # (C, 1) int64
    rewards: torch.Tensor  # (C, 1)


class CEM(CEMSchedule, Agent):
    """Cross-entropy method: every ``rollouts`` training steps, one cross-entropy step on the elite (state, action) pairs.

    Episodes are tracked per environment (each column of the rollout memory is one environment's time line).
    Only *complete* episodes (ended by termination or truncation) are ranked, by their discounted return
    ``sum_k γ^k·r_k`` from the episode's first step; the elite are those at or above the ``percentile`` quantile.
    An episode still running when a rollout ends is not dropped: its steps are carried over (see
    :attr:`carry`) and prepended to that environment's next rollout, so the episode is ranked, whole, in the
    update after it ends. Episodes abandoned by the trainer (``interrupt_episodes``) are dropped. An update with
    no complete episode only carries the steps over.

    Models: ``policy`` (categorical). Memory: ``rollouts`` rows (``memory_size`` must equal ``rollouts``) of
    ``states``, ``next_states``, ``actions`` (int64), ``rewards``, ``terminated``, ``truncated``. Checkpoint:
    ``policy``, ``optimizer`` (+ ``state_preprocessor``, ``scheduler`` when configured).
    """

    _not_distributed = (
        "each rank ranks only its own episodes, and a rank whose rollout holds no complete episode skips the update "
        "the others take"
    )

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(CEM_DEFAULT_CONFIG, cfg, where="CEM cfg")
        check_model_roles(models, ("policy",), "CEM")
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.policy = require_model(self.models, "policy", "CEM")
        self.checkpoint_modules["policy"] = self.policy

        c = self.cfg
        self._rollouts, self._percentile, self._discount_factor, self._learning_rate = cem_settings(c)

        if config.torch.is_distributed:
            self.policy.broadcast_parameters()
        self.optimizer = make_adam(list(self.policy.parameters()), self._learning_rate)
        self.checkpoint_modules["optimizer"] = self.optimizer
        self.scheduler = build_scheduler(c["learning_rate_scheduler"], self.optimizer, c["learning_rate_scheduler_kwargs"])
        if self.scheduler is not None:
            self.checkpoint_modules["scheduler"] = self.scheduler
        self._state_preprocessor = build_preprocessor(c["state_preprocessor"], c["state_preprocessor_kwargs"], self.device)
        if c["state_preprocessor"] is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor

        self._init_schedule()

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the memory tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        self._check_memory()
        for memory in [self.memory, *self.secondary_memories]:
            memory.create_tensor(name="states", size=self.observation_space, dtype=torch.float32)
            memory.create_tensor(name="next_states", size=self.observation_space, dtype=torch.float32)
            memory.create_tensor(name="actions", size=self.action_space, dtype=torch.int64)
            memory.create_tensor(name="rewards", size=1, dtype=torch.float32)
            memory.create_tensor(name="terminated", size=1, dtype=torch.bool)
            memory.create_tensor(name="truncated", size=1, dtype=torch.bool)

    # ------------------------------------------------------------------ interaction
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """Sample actions from the policy (uniformly at random during the first ``random_timesteps`` training steps)."""
        inputs = {"states": self._state_preprocessor(states)}
        if self._exploring():
            return self.policy.random_act(inputs, role="policy")
        with self._autocast():
            return self.policy.act(inputs, role="policy")

    # ------------------------------------------------------------------ learning
    def _stream(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The carried steps followed by the rollout, per environment: ``(env_ids, states, actions, rewards, dones,
        cuts)`` with ``L`` rows ordered by environment then time."""
        memory = self.memory
        t, n = memory.memory_size, memory.num_envs
        columns = {name: memory.get_tensor_by_name(name).transpose(0, 1).reshape(t * n, -1) for name in STREAM_NAMES}
        device = columns["rewards"].device
        env_ids = torch.arange(n, device=device).repeat_interleave(t)
        dones = (columns["terminated"] | columns["truncated"]).view(-1)
        cuts = torch.zeros(t, n, dtype=torch.bool, device=device)
        cut_rows = self._take_cut_rows()
        if cut_rows:
            cuts[cut_rows] = True
        cuts = cuts.transpose(0, 1).reshape(-1)
        states, actions, rewards = columns["states"], columns["actions"], columns["rewards"]
        carry = self.carry
        if carry is not None and carry.env_ids.numel():
            env_ids = torch.cat([carry.env_ids, env_ids])
            order = torch.sort(env_ids, stable=True).indices
            env_ids = env_ids[order]
            states = torch.cat([carry.states, states])[order]
            actions = torch.cat([carry.actions, actions])[order]
            rewards = torch.cat([carry.rewards, rewards])[order]
            none = torch.zeros(carry.env_ids.numel(), dtype=torch.bool, device=device)
            dones = torch.cat([none, dones])[order]
            cuts = torch.cat([none, cuts])[order]
        return env_ids, states, actions, rewards, dones, cuts

    def _update(self, timestep: int, timesteps: int) -> None:
        """Rank the complete episodes, take one cross-entropy step on the elite steps, carry the unfinished ones."""
        env_ids, states, actions, rewards, dones, cuts = self._stream()
        selection = select_elite(env_ids, rewards.view(-1), dones, cuts, self._discount_factor, self._percentile)
        tail = selection.tail_steps
        self.carry = _Carry(env_ids[tail], states[tail], actions[tail], rewards[tail])
        if not self._learning_started() or not bool(selection.elite.any()):
            return
        elite = selection.elite_steps
        with self._autocast():
            elite_states = self._state_preprocessor(states[elite], train=True)
            _, log_prob, _ = self.policy.act({"states": elite_states, "taken_actions": actions[elite]}, role="policy")
            loss = cem_loss(log_prob)
        self._optimizer_step(self.optimizer, loss, [self.policy], list(self.policy.parameters()))
        self._scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()

        if self.write_interval > 0:
            self.track_data("Loss / Policy loss", loss.detach())
            self.track_data("Coefficient / Return threshold", selection.threshold)
            self.track_data("Coefficient / Mean discounted returns", selection.returns[selection.complete].mean())
            if self.scheduler is not None:
                self.track_data("Learning / Learning rate", self.optimizer.param_groups[0]["lr"])
