"""Recurrent (RNN/GRU/LSTM) replay machinery shared by the off-policy ``*_RNN`` agents (``SAC_RNN``, ``TD3_RNN``,
``DDPG_RNN``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from steprl.agents.torch.off_policy import _BATCH_NAMES
from steprl.agents.torch.recurrent import HiddenStates, _masked, _rnn_spec
from steprl.core.sequence_sampling import sample_sequence_rows, steps_before_episode_end

__all__ = ["RecurrentReplayMixin"]


class _TrainingStates(nn.Module):
    """The policy's per-environment hidden states in training mode, as buffers (so that checkpoints keep them)."""

    def __init__(self, sizes: list[tuple[int, int, int]], device: torch.device) -> None:
        super().__init__()
        for i, size in enumerate(sizes):
            self.register_buffer(f"hidden_{i}", torch.zeros(size, dtype=torch.float32, device=device))

    def states(self) -> HiddenStates:
        return list(self.buffers())


class RecurrentReplayMixin:
    """Recurrent policies for an :class:`~steprl.agents.torch.off_policy.OffPolicyAgent`: mix it in before the
    algorithm (``class SAC_RNN(RecurrentReplayMixin, SAC)``).

    Models follow skrl's recurrent contract (``get_specification()["rnn"]``, ``inputs["rnn"]``,
    ``inputs["terminated"]``, ``outputs["rnn"]``). Only the policy's hidden states are kept; as in skrl, every other
    model (critics, target networks) receives them too, so a recurrent critic must declare the policy's sizes.

    - Acting: the policy runs from each environment's current hidden state (also during ``random_timesteps``, to
      advance it); the states restart at zero where an episode ended. Training and evaluation keep separate states
      (evaluation starts afresh, never touches the memory and may run on another number of environments); the
      training states are checkpointed.
    - Memory: each training step stores the hidden state it started from (``rnn_policy_<i>``) and the one it produced
      (``next_rnn_policy_<i>``, before any reset: the state a truncated step's true final observation is seen from).
    - Learning: ``batch_size`` whole sequences of ``sequence_length`` steps of one environment
      (:mod:`steprl.core.sequence_sampling`). Passes over a batch's states start each sequence from its stored
      hidden state; passes over its next states (targets) from the state its first step produced. skrl's recurrent
      critics read position 1 of the hidden states they get in target roles (skrl passes target networks the states'
      hidden states), so in next-state passes positions 0 and 1 of each sequence both hold that state. Sequences may
      contain episode ends (``inputs["terminated"]`` restarts the models there); the targets of the steps after one
      are not exact (the next-state pass cannot see the new episode's first observation), so those steps get zero
      weight in the critic loss.
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
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        owner = type(self).__name__
        self._rnn_sizes, self._sequence_length = _rnn_spec(self.policy, "policy", owner)
        self._rnn = bool(self._rnn_sizes)
        for role, model in self.models.items():
            if role == "policy" or model is None:
                continue
            sizes, length = _rnn_spec(model, role, owner)
            if sizes and (sizes != self._rnn_sizes or length != self._sequence_length):
                raise ValueError(
                    f"{owner}: the {role} model's rnn specification (sizes {sizes}, sequence_length {length}) must match "
                    f"the policy's (sizes {self._rnn_sizes}, sequence_length {self._sequence_length}): every model "
                    "receives the policy's hidden states"
                )
        self._rnn_names = [f"rnn_policy_{i}" for i in range(len(self._rnn_sizes))]
        self._next_rnn_names = [f"next_rnn_policy_{i}" for i in range(len(self._rnn_sizes))]
        self._training_states = _TrainingStates(self._rnn_sizes, self.device)
        if self._rnn:
            self.checkpoint_modules["rnn_states"] = self._training_states
        self._evaluation_states: HiddenStates = self._zeros()
        self._pending_states: HiddenStates = []  # produced by the last act(), consumed when the transition is recorded
        self._batch_rnn: dict[str, dict[str, Any]] = {}  # the recurrent inputs of the batch being learned from
        self._batch_weights: torch.Tensor | None = None

    def _zeros(self) -> HiddenStates:
        return [torch.zeros(size, dtype=torch.float32, device=self.device) for size in self._rnn_sizes]

    def _current_states(self) -> HiddenStates:
        """The policy's hidden states in the current running mode."""
        return self._training_states.states() if self.training else self._evaluation_states

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """The algorithm's replay tensors plus ``rnn_policy_<i>`` and ``next_rnn_policy_<i>`` (``(layers, hidden)``)."""
        super().init(trainer_cfg)
        if self.memory is None or not self._rnn:
            return
        owner, n, length = type(self).__name__, self.memory.num_envs, self._sequence_length
        if self._rnn_sizes[0][1] != n:
            raise ValueError(
                f"{owner}: the policy's rnn sizes {self._rnn_sizes} are for {self._rnn_sizes[0][1]} environments but the "
                f"memory holds num_envs={n}"
            )
        if length > self.memory.memory_size:
            raise ValueError(
                f"{owner}: the memory (memory_size={self.memory.memory_size}) cannot hold one sequence of the rnn "
                f"sequence_length ({length})"
            )
        for memory in [self.memory, *self.secondary_memories]:
            for name, (layers, _, hidden) in zip([*self._rnn_names, *self._next_rnn_names], self._rnn_sizes * 2):
                memory.create_tensor(name=name, size=(layers, hidden), dtype=torch.float32, keep_dimensions=True)

    def set_running_mode(self, mode: str) -> None:
        """Switch running mode; entering evaluation starts its hidden states afresh."""
        if mode == "eval" and self.training:
            self._evaluation_states = self._zeros()
        super().set_running_mode(mode)

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the training episodes: the last stored step counts as truncated (no stored sequence
        chains it to the fresh episodes) and the training hidden states restart."""
        hook = getattr(super(), "interrupt_episodes", None)
        if hook is not None:
            hook()
        if not self._rnn:
            return
        for h in self._training_states.states():
            h.zero_()
        if self.memory is not None and len(self.memory):
            self.memory.get_tensor_by_name("truncated")[(self.memory.memory_index - 1) % self.memory.memory_size] = True

    # ------------------------------------------------------------------ interaction
    def _model_inputs(self, states: torch.Tensor, kind: str = "act") -> dict[str, Any]:
        inputs = super()._model_inputs(states, kind)
        if self._rnn:
            inputs.update({"rnn": self._current_states()} if kind == "act" else self._batch_rnn[kind])
        return inputs

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """The algorithm's ``act`` from the current hidden states, keeping the hidden states the policy produced."""
        if not self._rnn:
            return super().act(states, timestep, timesteps)
        expected = self._current_states()[0].shape[1]
        if states.shape[0] != expected and not self.training:  # evaluation may run on other environments
            self._evaluation_states = [torch.zeros((size[0], states.shape[0], size[2]), device=self.device)
                                       for size in self._rnn_sizes]
            expected = states.shape[0]
        if states.shape[0] != expected:
            raise ValueError(
                f"{type(self).__name__}: act() got {states.shape[0]} environments but the policy's rnn sizes are for "
                f"{expected} (get_specification()['rnn']['sizes'])"
            )
        result = super().act(states, timestep, timesteps)
        outputs = result[2]
        if self._exploring():  # random actions: run the policy for its hidden states only
            with self._autocast():
                outputs = self.policy.act(self._model_inputs(self._state_preprocessor(states)), role="policy")[2]
        new_states = outputs.get("rnn") if isinstance(outputs, Mapping) else None
        if new_states is None:
            raise ValueError(f"{type(self).__name__}: the policy declares an rnn specification but returned no outputs['rnn']")
        self._pending_states = [s.detach().float() for s in new_states]
        return result

    def _transition_samples(self) -> Mapping[str, torch.Tensor]:
        samples = super()._transition_samples()
        if not self._rnn:
            return samples
        started = {name: h.transpose(0, 1) for name, h in zip(self._rnn_names, self._training_states.states())}
        produced = {name: h.transpose(0, 1) for name, h in zip(self._next_rnn_names, self._pending_states)}
        return {**samples, **started, **produced}

    def _transition_recorded(self, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Advance the hidden states, zeroing those of the environments whose episode ended (in evaluation too)."""
        super()._transition_recorded(terminated, truncated)
        if not self._rnn or not self._pending_states:
            return
        advanced = _masked(self._pending_states, terminated | truncated)
        if self.training:
            for h, new in zip(self._training_states.states(), advanced):
                h.copy_(new)
        else:
            self._evaluation_states = advanced
        self._pending_states = []

    # ------------------------------------------------------------------ learning
    def _sample_batch(self) -> list[torch.Tensor]:
        """``batch_size`` sequences; keeps their recurrent inputs and critic weights for the update step."""
        if not self._rnn:
            return super()._sample_batch()
        length, k = self._sequence_length, len(self._rnn_names)
        rows = sample_sequence_rows(self.memory, length, self._batch_size)
        names = [*_BATCH_NAMES, "truncated", *self._rnn_names, *self._next_rnn_names]
        tensors = self.memory.sample_by_index(names, rows)[0]
        self.memory.sampling_indexes = rows
        states, actions, rewards, next_states, terminated, truncated = tensors[:6]
        done = terminated | truncated
        started = [h.transpose(0, 1) for h in tensors[6 : 6 + k]]  # (layers, B*L, hidden)
        next_started = []
        for h, produced in zip(started, tensors[6 + k :]):
            sequences = h.reshape(h.shape[0], -1, length, h.shape[-1]).clone()
            first = produced.transpose(0, 1).reshape(h.shape[0], -1, length, h.shape[-1])[:, :, 0]
            sequences[:, :, : min(2, length)] = first.unsqueeze(2)
            next_started.append(sequences.reshape(h.shape))
        self._batch_rnn = {
            "states": {"rnn": started, "terminated": done},
            "next_states": {"rnn": next_started, "terminated": done},
        }
        self._batch_weights = steps_before_episode_end(done, length).float()
        return [states, actions, rewards, next_states, terminated]

    def _critic_weights(self) -> torch.Tensor | None:
        return self._batch_weights if self._rnn else super()._critic_weights()

    def _update(self, timestep: int, timesteps: int) -> None:
        super()._update(timestep, timesteps)
        self._batch_weights = None  # scratch of the last batch: not part of the agent's state
