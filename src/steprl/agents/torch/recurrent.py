"""Recurrent (RNN/GRU/LSTM) rollout machinery shared by the on-policy ``*_RNN`` agents (``PPO_RNN``, ``A2C_RNN``,
``RPO_RNN``, ``TRPO_RNN``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from steprl.agents.torch.on_policy import BATCH_NAMES

__all__ = ["RecurrentRolloutMixin"]

_MODES = ("train", "eval")

HiddenStates = list[torch.Tensor]


def _rnn_spec(model: Any, role: str, owner: str) -> tuple[list[tuple[int, int, int]], int]:
    """``(sizes, sequence_length)`` of ``model.get_specification()["rnn"]`` (``([], 1)`` for a feed-forward model)."""
    spec = model.get_specification().get("rnn", {}) if model is not None else {}
    if not spec:
        return [], 1
    sizes = []
    for size in spec.get("sizes", []):
        if len(size) != 3:
            raise ValueError(f"{owner}: the {role} model's rnn 'sizes' entries must be (layers, num_envs, hidden), got {size!r}")
        sizes.append((int(size[0]), int(size[1]), int(size[2])))
    length = int(spec.get("sequence_length", 1))
    if length < 1:
        raise ValueError(f"{owner}: the {role} model's rnn 'sequence_length' must be >= 1, got {length}")
    return sizes, length


def _masked(hidden: HiddenStates, done: torch.Tensor) -> HiddenStates:
    """Zero the hidden states of the environments flagged in ``done`` (``(N, 1)`` bool) — no host sync."""
    mask = done.view(1, -1, 1)
    return [h.masked_fill(mask, 0.0) for h in hidden]


class RecurrentRolloutMixin:
    """Recurrent rollouts for an :class:`~steprl.agents.torch.on_policy.OnPolicyAgent` (``PPO_RNN``,
    ``A2C_RNN``): per-environment hidden states, whole-sequence minibatches.

    Mix it in before the algorithm (``class PPO_RNN(RecurrentRolloutMixin, PPO)``); every override defers to the
    algorithm through ``super()``, and error messages name the concrete class.

    Models declare recurrence through ``get_specification()["rnn"]`` (``sizes``: ``(layers, num_envs, hidden)`` per
    hidden-state tensor, ``sequence_length``); a model without it is treated as feed-forward. They receive
    ``inputs["rnn"]`` (list of hidden states) and, when learning, ``inputs["terminated"]`` (episode ends, i.e.
    ``terminated | truncated``, at which a sequence must restart from zero) and return the new hidden states in
    ``outputs["rnn"]``.

    Per step only the policy runs. The hidden state each step started from is stored (``rnn_policy_<i>``), so
    that at update time the old log-probabilities and values are recomputed in batched single-step passes that
    reproduce the rollout exactly. A separate recurrent value model is replayed once over the rollout (it never ran
    during it) to obtain its per-step hidden states (``rnn_value_<i>``); its state at the start of the rollout in
    progress is kept in ``_rnn_initial_states["value"]`` (training mode). A truncated step bootstraps from the value
    of its true final observation under the hidden state that step produced (before the reset).

    Hidden states are kept per running mode, so evaluation never disturbs the training rollout.
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
        self._shared = self.value is self.policy
        self._policy_sizes, policy_length = _rnn_spec(self.policy, "policy", self._rnn_owner)
        self._value_sizes, value_length = ([], 1) if self._shared else _rnn_spec(self.value, "value", self._rnn_owner)
        if self._policy_sizes and self._value_sizes and policy_length != value_length:
            raise ValueError(
                f"{self._rnn_owner}: the policy and value models must share one rnn 'sequence_length' (minibatches hold whole "
                f"sequences), got {policy_length} and {value_length}"
            )
        self._sequence_length = policy_length if self._policy_sizes else value_length
        self._policy_rnn = bool(self._policy_sizes)
        # the value is recurrent with its own states (separate model) or shares the policy's (same model)
        self._value_rnn = bool(self._value_sizes) or (self._shared and self._policy_rnn)
        self._policy_names = [f"rnn_policy_{i}" for i in range(len(self._policy_sizes))]
        self._value_names = [f"rnn_value_{i}" for i in range(len(self._value_sizes))]
        self._rnn_states: dict[str, dict[str, HiddenStates]] = {
            mode: {"policy": self._zeros(self._policy_sizes), "value": self._zeros(self._value_sizes)} for mode in _MODES
        }
        # hidden states the policy produced in the last ``act`` (consumed by ``record_transition``)
        self._pending_policy_states: HiddenStates = []

    @property
    def _rnn_owner(self) -> str:
        """The concrete class's name, for error messages (``PPO_RNN``, ``A2C_RNN``, a user subclass)."""
        return type(self).__name__

    def _zeros(self, sizes: list[tuple[int, int, int]]) -> HiddenStates:
        return [torch.zeros(size, dtype=torch.float32, device=self.device) for size in sizes]

    @property
    def _rnn_initial_states(self) -> dict[str, HiddenStates]:
        """The hidden states of the current running mode: ``{"policy": [...], "value": [...]}``."""
        return self._rnn_states["train" if self.training else "eval"]

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """The algorithm's tensors plus ``rnn_policy_<i>`` / ``rnn_value_<i>`` (``(layers, hidden)`` per env and step)."""
        super().init(trainer_cfg)
        if self.memory is None:
            return
        t, n, length = self.memory.memory_size, self.memory.num_envs, self._sequence_length
        for role, sizes in (("policy", self._policy_sizes), ("value", self._value_sizes)):
            for size in sizes:
                if size[1] != n:
                    raise ValueError(
                        f"{self._rnn_owner}: the {role} model's rnn size {size} is for {size[1]} environments but the memory "
                        f"holds num_envs={n}"
                    )
        if t % length:
            raise ValueError(f"{self._rnn_owner}: cfg['rollouts'] ({t}) must be a multiple of the rnn sequence_length ({length})")
        if n * t // length < self._mini_batches:
            raise ValueError(
                f"{self._rnn_owner}: the rollout holds {n * t // length} sequences of length {length}, fewer than "
                f"cfg['mini_batches']={self._mini_batches} (each minibatch holds whole sequences)"
            )
        for memory in [self.memory, *self.secondary_memories]:
            for names, sizes in ((self._policy_names, self._policy_sizes), (self._value_names, self._value_sizes)):
                for name, (layers, _, hidden) in zip(names, sizes):
                    memory.create_tensor(name=name, size=(layers, hidden), dtype=torch.float32, keep_dimensions=True)

    def set_running_mode(self, mode: str) -> None:
        """Switch running mode; entering evaluation starts its episodes (and hidden states) afresh."""
        if mode == "eval" and self.training:
            self._rnn_states["eval"]["policy"] = self._zeros(self._policy_sizes)
        super().set_running_mode(mode)

    # ------------------------------------------------------------------ interaction
    def _act_inputs(self, states: torch.Tensor) -> dict[str, Any]:
        """The algorithm's policy inputs plus the current hidden states (a recurrent policy)."""
        inputs = super()._act_inputs(states)
        if self._policy_rnn:
            inputs["rnn"] = self._rnn_initial_states["policy"]
        return inputs

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """The algorithm's ``act`` from the current hidden states, keeping the hidden states the policy produced
        (during the first ``random_timesteps`` training steps the actions are random, but the policy still runs to
        advance its hidden states).
        """
        if not self._policy_rnn:
            return super().act(states, timestep, timesteps)
        hidden = self._rnn_initial_states["policy"]
        if states.shape[0] != hidden[0].shape[1] and not self.training:  # evaluation may run on other environments
            hidden = [torch.zeros((size[0], states.shape[0], size[2]), device=self.device) for size in self._policy_sizes]
            self._rnn_states["eval"]["policy"] = hidden
        if states.shape[0] != hidden[0].shape[1]:
            raise ValueError(
                f"{self._rnn_owner}: act() got {states.shape[0]} environments but the policy's rnn sizes are for "
                f"{hidden[0].shape[1]} (get_specification()['rnn']['sizes'])"
            )
        result = super().act(states, timestep, timesteps)
        outputs = result[2]
        if self._exploring():  # random actions: run the policy for its hidden states only
            with self._autocast():
                outputs = self.policy.act(self._act_inputs(states), role="policy")[2]
        new_states = outputs.get("rnn") if isinstance(outputs, Mapping) else None
        if new_states is None:
            raise ValueError(f"{self._rnn_owner}: the policy declares an rnn specification but returned no outputs['rnn']")
        self._pending_policy_states = [s.detach() for s in new_states]
        return result

    def _transition_recorded(self, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Advance the hidden states, zeroing those of the environments whose episode ended (in evaluation too)."""
        super()._transition_recorded(terminated, truncated)
        if self._policy_rnn:
            self._rnn_initial_states["policy"] = _masked(self._pending_policy_states, terminated | truncated)

    def _transition_samples(self) -> Mapping[str, torch.Tensor]:
        hidden = self._rnn_initial_states["policy"]
        return {**super()._transition_samples(), **{name: h.transpose(0, 1) for name, h in zip(self._policy_names, hidden)}}

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """The algorithm's update schedule; a rollout skipped by ``learning_starts`` still advances the value's hidden states."""
        skipped = (
            self.memory is not None
            and bool(self._value_sizes)
            and not (self._rollout + 1) % self._rollouts
            and not self._learning_started()
        )
        super()._train_step(timestep, timesteps)
        if skipped:
            with torch.no_grad():
                self._replay_value_states()

    def interrupt_episodes(self) -> None:
        """The base truncation mark, and fresh hidden states for the episodes that restart."""
        mid_rollout = self.memory is not None and bool(self._rollout % self._rollouts)
        super().interrupt_episodes()
        states = self._rnn_states["train"]
        states["policy"] = self._zeros(self._policy_sizes)
        if not mid_rollout:  # mid-rollout, the replay needs the rollout's start states (the truncation mark resets)
            states["value"] = self._zeros(self._value_sizes)

    # ------------------------------------------------------------------ learning
    def _flat_hidden(self, names: list[str]) -> HiddenStates:
        """Stored per-step hidden states as model inputs: ``(layers, T*N, hidden)`` each (time-major rows)."""
        return [self.memory.get_tensor_by_name(name, keepdim=False).transpose(0, 1) for name in names]

    def _replay_value_states(self) -> None:
        """Run the separate recurrent value model over the stored rollout, step by step (batched over the
        environments), writing the hidden state each step starts from into ``rnn_value_<i>`` and advancing the
        rollout-start states to those of the next rollout.
        """
        memory = self.memory
        states = memory.get_tensor_by_name("states")
        done = memory.get_tensor_by_name("terminated") | memory.get_tensor_by_name("truncated")
        stored = [memory.get_tensor_by_name(name) for name in self._value_names]
        hidden = self._rnn_states["train"]["value"]
        was_training = self.value.training
        self.value.set_mode("eval")
        try:
            for t in range(memory.memory_size):
                for target, h in zip(stored, hidden):
                    target[t].copy_(h.transpose(0, 1))
                with self._autocast():
                    outputs = self.value.act({"states": self._state_preprocessor(states[t]), "rnn": hidden}, role="value")[2]
                hidden = _masked([s.detach().float() for s in outputs["rnn"]], done[t])
        finally:
            self.value.set_mode("train" if was_training else "eval")
        self._rnn_states["train"]["value"] = hidden

    def _rollout_policy_inputs(self) -> dict[str, Any]:
        """The base extra inputs plus, for a recurrent policy, the stored hidden state each rollout step started from
        (``(layers, T*N, hidden)``, time-major rows) for single-step (evaluation-mode) passes over the whole rollout.
        """
        inputs = super()._rollout_policy_inputs()
        if self._policy_rnn:
            inputs = {**inputs, "rnn": self._flat_hidden(self._policy_names)}
        return inputs

    @torch.no_grad()
    def _evaluate_rollout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Old log-probs and values (with next values from the un-reset hidden states) in single-step passes over
        all ``T*N`` stored steps at once, each from the hidden state that step started from.
        """
        if not self._policy_rnn and not self._value_rnn:
            return super()._evaluate_rollout()
        memory = self.memory
        t, n = memory.memory_size, memory.num_envs
        states = self._state_preprocessor(memory.get_tensor_by_name("states", keepdim=False))
        next_states = self._state_preprocessor(memory.get_tensor_by_name("next_states", keepdim=False))
        actions = memory.get_tensor_by_name("actions", keepdim=False)
        if self._value_sizes:
            self._replay_value_states()
        self.set_mode("eval")  # single-step (rollout) branch of the models
        try:
            with self._autocast():
                policy_inputs = {"states": states, "taken_actions": actions}
                if self._policy_rnn:
                    policy_inputs["rnn"] = self._flat_hidden(self._policy_names)
                _, log_prob, _ = self.policy.act(policy_inputs, role="policy")
                if self._value_rnn:
                    hidden = self._flat_hidden(self._policy_names if self._shared else self._value_names)
                    values, _, outputs = self.value.act({"states": states, "rnn": hidden}, role="value")
                    next_values = self.value.act({"states": next_states, "rnn": outputs["rnn"]}, role="value")[0]
                else:
                    both = self.value.act({"states": torch.cat([states, next_states])}, role="value")[0]
                    values, next_values = both[: t * n], both[t * n :]
        finally:
            self.set_mode("train")
        values = self._value_preprocessor(values.float(), inverse=True).view(t, n, 1)
        next_values = self._value_preprocessor(next_values.float(), inverse=True).view(t, n, 1)
        return values, next_values, log_prob.float().view(t, n, 1)

    def _minibatches(self) -> Iterator[tuple[list[torch.Tensor], dict[str, Any], dict[str, Any]]]:
        """Shuffled minibatches of whole sequences with each sequence's starting hidden states and episode ends."""
        return self._sequence_minibatches(self._mini_batches, shuffle=True)

    def _sequence_minibatches(
        self, mini_batches: int, shuffle: bool
    ) -> Iterator[tuple[list[torch.Tensor], dict[str, Any], dict[str, Any]]]:
        """The rollout as ``mini_batches`` groups of whole sequences (``shuffle``: in a fresh random order): per group
        the ``BATCH_NAMES`` tensors and the policy / value inputs (hidden states and episode ends; none for a
        feed-forward model).
        """
        names = [*BATCH_NAMES, "terminated", "truncated", *self._policy_names, *self._value_names]
        length = self._sequence_length
        [tensors] = self.memory.sample_all(names=names, sequence_length=length, shuffle=shuffle)
        # split on sequence boundaries (sizes differ by at most one sequence)
        chunks = [torch.tensor_split(x.view(-1, length, *x.shape[1:]), mini_batches) for x in tensors]
        k, p = len(BATCH_NAMES), len(self._policy_names)
        for parts in zip(*chunks):
            batch = [x.flatten(0, 1) for x in parts]
            done = batch[k] | batch[k + 1]
            policy_hidden = [h.transpose(0, 1) for h in batch[k + 2 : k + 2 + p]]
            value_hidden = policy_hidden if self._shared else [h.transpose(0, 1) for h in batch[k + 2 + p :]]
            policy_inputs = {"rnn": policy_hidden, "terminated": done} if self._policy_rnn else {}
            value_inputs = {"rnn": value_hidden, "terminated": done} if self._value_rnn else {}
            yield batch[:k], policy_inputs, value_inputs
