"""Agents for the ParallelTrainer tests: they run in spawned worker processes, so they live in an importable module."""

from __future__ import annotations

from typing import Any

import torch

from steprl.agents.torch import Agent

NO_LOGS = {"experiment": {"write_interval": 0, "checkpoint_interval": 0}}


class TinyQ(torch.nn.Module):
    """A linear Q-function plus buffers counting the calls each agent received (shared with the parent)."""

    def __init__(self, num_observations: int, num_actions: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(num_observations, num_actions)
        self.register_buffer("calls", torch.zeros(4, dtype=torch.int64))  # pre, act, record, post
        self.register_buffer("timestep_sum", torch.zeros((), dtype=torch.int64))
        self.register_buffer("training_records", torch.zeros((), dtype=torch.int64))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.linear(states.float())


class DeterministicQAgent(Agent):
    """Greedy actions and one SGD step of a one-step TD loss per training step: no random numbers after
    construction, so its parameters depend only on the transitions and calls the trainer gives it.

    ``fail_at``: the timestep at which ``act`` raises ``ValueError`` (to test the trainer's error handling).
    """

    def __init__(self, observation_space: Any, action_space: Any, fail_at: int | None = None) -> None:
        q = TinyQ(int(observation_space.shape[0]), int(action_space.n))
        super().__init__(models={"q": q}, observation_space=observation_space, action_space=action_space, device="cpu", cfg=NO_LOGS)
        self.q = q
        self.optimizer = torch.optim.SGD(q.parameters(), lr=0.01)
        self.fail_at = fail_at
        self._transition: tuple[torch.Tensor, ...] | None = None

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        self.q.calls[0] += 1
        self.q.timestep_sum += timestep

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, None, dict[str, Any]]:
        if self.fail_at is not None and timestep >= self.fail_at:
            raise ValueError(f"deliberate failure at timestep {timestep}")
        self.q.calls[1] += 1
        actions = self.q(states).argmax(dim=-1, keepdim=True)
        return actions, None, {"mean_actions": actions}

    def record_transition(self, **kwargs: Any) -> None:
        super().record_transition(**kwargs)
        self.q.calls[2] += 1
        if self.training:
            self.q.training_records += 1
            keys = ("states", "actions", "rewards", "next_states", "terminated")
            self._transition = tuple(kwargs[k].clone() for k in keys)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        self.q.calls[3] += 1
        super().post_interaction(timestep, timesteps)
        if self._transition is None:
            return
        states, actions, rewards, next_states, terminated = self._transition
        with torch.no_grad():
            target = rewards + 0.9 * self.q(next_states).max(dim=-1, keepdim=True).values * (~terminated)
        loss = (self.q(states).gather(1, actions) - target).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._transition = None
