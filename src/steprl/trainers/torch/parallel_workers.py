"""One worker process per agent for :class:`steprl.trainers.torch.parallel.ParallelTrainer`.

:class:`AgentWorkers` looks like a single agent to the step loop (``core/loop.py``): it receives the whole batch
of sub-environments and has each worker run its agent on its own slice, all workers at the same time. Per step
the parent and the workers exchange nothing but shared-memory tensors (observations, actions, rewards, flags and
a small control vector) and semaphores: no pickling on the step path.

A step is two phases. ``act``: each worker calls ``pre_interaction`` then ``act`` and writes its actions into the
shared action tensor. ``record`` (after the parent stepped the environment): ``record_transition`` and, in
training, ``post_interaction``. Each agent therefore sees exactly the calls, in the order and with the
arguments, that it would see under the SequentialTrainer (except ``infos``, which stays in the parent: workers
receive an empty dict; the environment-info values the trainer logs are forwarded to their ``track_data``).
"""

from __future__ import annotations

import os
import random
import signal
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import torch
import torch.multiprocessing as mp

from steprl.core.loop import _choose_actions

__all__ = ["AgentWorkers", "WorkerError"]

INIT, ACT, RECORD, RECORD_POST, INTERRUPT, TERMINATE = range(6)
PHASES = {INIT: "init", ACT: "pre_interaction/act", RECORD: "record_transition",
          RECORD_POST: "record_transition/post_interaction", INTERRUPT: "interrupt_episodes"}  # fmt: skip
# control vector: command, timestep, timesteps, training, environment-info values queued
_COMMAND, _TIMESTEP, _TIMESTEPS, _TRAINING, _TRACKS = range(5)
_POLL_S = 0.5  # how often a waiting process checks that the other side is still alive
_JOIN_S = 30.0  # how long a worker may take to finish its phase and exit before it is terminated
_MAX_TRACEBACK = 16_000  # characters of a worker's traceback sent back (a pipe write must not block)


class WorkerError(RuntimeError):
    """An agent failed in its worker process (the message names the agent, the phase and the original error)."""


@dataclass
class SharedStep:
    """The tensors of one step, in shared memory: what the parent writes and the workers read (and actions)."""

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_states: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    control: torch.Tensor

    @classmethod
    def allocate(cls, states: torch.Tensor, action_space: gymnasium.Space) -> SharedStep:
        """Buffers shaped like ``states`` (``N`` rows) and the actions of ``action_space``."""
        n = states.shape[0]
        if isinstance(action_space, gymnasium.spaces.Box):
            actions = torch.zeros((n, int(np.prod(action_space.shape))), dtype=torch.float32, device=states.device)
        elif isinstance(action_space, gymnasium.spaces.Discrete):
            actions = torch.zeros((n, 1), dtype=torch.int64, device=states.device)
        elif isinstance(action_space, (gymnasium.spaces.MultiDiscrete, gymnasium.spaces.MultiBinary)):
            actions = torch.zeros((n, int(np.prod(action_space.shape))), dtype=torch.int64, device=states.device)
        else:
            raise TypeError(
                f"ParallelTrainer supports Box, Discrete, MultiDiscrete and MultiBinary action spaces, got {action_space}"
            )
        step = cls(
            states=torch.zeros_like(states),
            actions=actions,
            rewards=torch.zeros((n, 1), dtype=torch.float32, device=states.device),
            next_states=torch.zeros_like(states),
            terminated=torch.zeros((n, 1), dtype=torch.bool, device=states.device),
            truncated=torch.zeros((n, 1), dtype=torch.bool, device=states.device),
            control=torch.zeros(5, dtype=torch.int64),
        )
        for tensor in vars(step).values():
            if tensor.device.type == "cpu":
                tensor.share_memory_()
        return step


def share_agent(agent: Any) -> None:
    """Move the agent's CPU modules to shared memory so that the parent's copy sees the workers' updates."""
    modules = [*getattr(agent, "models", {}).values(), *getattr(agent, "checkpoint_modules", {}).values()]
    for module in modules:
        if isinstance(module, torch.nn.Module):
            module.share_memory()


class AgentWorkers:
    """The simultaneous agents of a ParallelTrainer, each in its own process, driven as one agent by the loop."""

    def __init__(
        self,
        agents: Sequence[Any],
        ranges: Sequence[tuple[int, int]],
        action_space: gymnasium.Space,
        trainer_cfg: Mapping[str, Any],
        stochastic_evaluation: bool,
    ) -> None:
        self.agents = list(agents)
        self.ranges = [tuple(r) for r in ranges]
        self.action_space = action_space
        self.trainer_cfg = dict(trainer_cfg)
        self.stochastic_evaluation = stochastic_evaluation
        self.training = True
        self._step: SharedStep | None = None
        self._processes: list[Any] = []
        self._pending: tuple[int, int] | None = None  # pre_interaction's (timestep, timesteps), run with act
        self._tracks: list[tuple[str, float]] = []
        self._closed = False
        self._states_given: Any = None

    # ------------------------------------------------------------------ agent interface used by the loop
    def set_running_mode(self, mode: str) -> None:
        """Remembered and applied by each worker before its next phase."""
        self.training = mode == "train"

    def interrupt_episodes(self) -> None:
        """Forward to the agents (their rollouts in progress end as truncated)."""
        if self._processes:
            self._phase(INTERRUPT, 0, 0)

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        """Deferred: the workers run it right before ``act``, in the same phase."""
        self._pending = (timestep, timesteps)

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, None, dict]:
        """Every agent acts on its slice at once; returns the shared action tensor (the actions already chosen by
        the running mode: sampled in training, ``mean_actions`` in deterministic evaluation)."""
        if self._step is None:
            self._start(states)
        assert self._step is not None
        self._step.states.copy_(states)
        self._states_given = states
        self._phase(ACT, timestep, timesteps)
        return self._step.actions, None, {}

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
        """Copy the step into shared memory; in evaluation the workers record now, in training together with
        ``post_interaction`` (one phase)."""
        step = self._step
        if step is None:
            raise RuntimeError("record_transition() before act(): the workers have not started")
        if states is not self._states_given:
            step.states.copy_(states)
        if actions is not step.actions:
            step.actions.copy_(actions.reshape(step.actions.shape))
        step.rewards.copy_(rewards.reshape(step.rewards.shape))
        step.next_states.copy_(next_states)
        step.terminated.copy_(terminated.reshape(step.terminated.shape))
        step.truncated.copy_(truncated.reshape(step.truncated.shape))
        self._pending = (timestep, timesteps)
        if not self.training:
            self._phase(RECORD, timestep, timesteps)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Record the step and run ``post_interaction`` in every worker."""
        self._phase(RECORD_POST, timestep, timesteps)

    def track_data(self, tag: str, value: Any) -> None:
        """Environment-info values: queued and handed to every agent's ``track_data`` with the next record phase."""
        self._tracks.append((tag, float(value)))

    # ------------------------------------------------------------------ processes
    def _start(self, states: torch.Tensor) -> None:
        if self._closed:
            raise RuntimeError(
                "The ParallelTrainer's worker processes were shut down (after an error or close()): build a new trainer"
            )
        self._step = SharedStep.allocate(states, self.action_space)
        context = mp.get_context("spawn")
        self._go = [context.Semaphore(0) for _ in self.agents]
        self._done = context.Semaphore(0)
        self._errors = context.SimpleQueue()
        self._track_queues = [context.SimpleQueue() for _ in self.agents]
        self._status = torch.zeros(len(self.agents), dtype=torch.int64).share_memory_()
        threads = max(1, torch.get_num_threads() // len(self.agents))
        seeds = torch.randint(0, 2**31 - 1, (len(self.agents),)).tolist()  # from the parent's (seeded) generator
        for index, (agent, scope) in enumerate(zip(self.agents, self.ranges)):
            share_agent(agent)
            process = context.Process(
                target=_worker_main,
                args=(index, agent, scope, self._step, self._status, self._go[index], self._done, self._errors,
                      self._track_queues[index], self.trainer_cfg, self.stochastic_evaluation, seeds[index], threads,
                      os.getpid()),  # fmt: skip
                name=f"steprl-agent-{index}",
                daemon=True,
            )
            try:
                process.start()
            except Exception as exc:
                self.close()
                raise WorkerError(
                    f"Agent {index} ({type(agent).__name__}) could not be sent to its worker process ({exc}): every "
                    "part of an agent must be picklable; all workers were shut down"
                ) from exc
            self._processes.append(process)
        self._phase(INIT, 0, 0)

    def _phase(self, command: int, timestep: int, timesteps: int) -> None:
        """Run one phase in every worker and wait for all of them; a failure shuts every worker down and raises."""
        step = self._step
        assert step is not None
        if self._closed:
            raise RuntimeError(
                "The ParallelTrainer's worker processes were shut down (after an error or close()): build a new trainer"
            )
        if command == ACT and self._pending is not None:
            timestep, timesteps = self._pending
        self._pending = None
        tracks, self._tracks = self._tracks, []
        step.control[_COMMAND] = command
        step.control[_TIMESTEP] = timestep
        step.control[_TIMESTEPS] = timesteps
        step.control[_TRAINING] = int(self.training)
        step.control[_TRACKS] = int(bool(tracks) and command in (RECORD, RECORD_POST))
        if step.control[_TRACKS]:
            for queue in self._track_queues:
                queue.put(tracks)
        for go in self._go:
            go.release()
        waiting = len(self._processes)
        while waiting:
            if self._done.acquire(timeout=_POLL_S):
                waiting -= 1
                continue
            dead = [i for i, p in enumerate(self._processes) if not p.is_alive()]
            if dead:
                i = dead[0]
                code = self._processes[i].exitcode
                self.close()
                raise WorkerError(
                    f"The worker process of agent {i} ({type(self.agents[i]).__name__}) exited with code {code} "
                    f"during {PHASES.get(command, command)} (timestep {timestep}); all workers were shut down"
                )
        if bool(self._status.any()):
            failures = []
            for _ in range(int(self._status.count_nonzero())):
                index, text = self._errors.get()
                failures.append(
                    f"agent {index} ({type(self.agents[index]).__name__}) failed in {PHASES.get(command, command)} "
                    f"at timestep {timestep}:\n{text}"
                )
            self.close()
            raise WorkerError("ParallelTrainer: " + "\n".join(sorted(failures)) + "\nAll workers were shut down.")

    def close(self) -> None:
        """Stop every worker (finish the current phase, then exit; terminate those that don't) and join them."""
        if self._closed:
            return
        self._closed = True
        if not self._processes:
            return
        assert self._step is not None
        self._step.control[_COMMAND] = TERMINATE
        for go in self._go:
            go.release()
        for process in self._processes:
            process.join(timeout=_JOIN_S)
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=_JOIN_S)
            if process.is_alive():
                process.kill()
                process.join()

    @property
    def processes(self) -> list[Any]:
        """The worker processes (empty until the first step)."""
        return list(self._processes)


def _worker_main(
    index: int,
    agent: Any,
    scope: tuple[int, int],
    step: SharedStep,
    status: torch.Tensor,
    go: Any,
    done: Any,
    errors: Any,
    tracks: Any,
    trainer_cfg: Mapping[str, Any],
    stochastic_evaluation: bool,
    seed: int,
    threads: int,
    parent_pid: int,
) -> None:
    """A worker's life: wait for a phase, run it on the agent's slice, report, until told to terminate."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl+C and shuts the workers down
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    start, end = scope
    while True:
        while not go.acquire(timeout=_POLL_S):
            if os.getppid() != parent_pid:
                return  # the parent is gone
        command = int(step.control[_COMMAND])
        if command == TERMINATE:
            return
        try:
            _run_phase(agent, command, step, start, end, trainer_cfg, stochastic_evaluation, tracks)
        except BaseException:  # noqa: BLE001 - every failure is reported to the parent, which raises it
            status[index] = 1
            errors.put((index, traceback.format_exc()[-_MAX_TRACEBACK:]))
            done.release()
            return
        done.release()


def _run_phase(
    agent: Any,
    command: int,
    step: SharedStep,
    start: int,
    end: int,
    trainer_cfg: Mapping[str, Any],
    stochastic_evaluation: bool,
    tracks: Any,
) -> None:
    """One phase of the step contract for one agent on its slice ``[start, end)`` of the sub-environments."""
    timestep, timesteps = int(step.control[_TIMESTEP]), int(step.control[_TIMESTEPS])
    training = bool(step.control[_TRAINING])
    if command == INIT:
        agent.init(trainer_cfg=trainer_cfg)
        agent._steprl_initialized = True
        return
    if getattr(agent, "training", None) is not training:
        agent.set_running_mode("train" if training else "eval")
    if command == INTERRUPT:
        hook = getattr(agent, "interrupt_episodes", None)
        if hook is not None:
            hook()
        return
    if command == ACT:
        agent.pre_interaction(timestep=timestep, timesteps=timesteps)
        with torch.no_grad():
            result = agent.act(step.states[start:end].clone(), timestep=timestep, timesteps=timesteps)
        actions = _choose_actions(result, training, stochastic_evaluation)
        target = step.actions[start:end]
        if actions.numel() != target.numel():
            raise ValueError(
                f"act() returned actions of shape {tuple(actions.shape)} for {end - start} sub-environment(s); "
                f"expected {tuple(target.shape)}"
            )
        target.copy_(actions.reshape(target.shape))
        return
    with torch.no_grad():
        agent.record_transition(
            states=step.states[start:end].clone(),
            actions=step.actions[start:end].clone(),
            rewards=step.rewards[start:end].clone(),
            next_states=step.next_states[start:end].clone(),
            terminated=step.terminated[start:end].clone(),
            truncated=step.truncated[start:end].clone(),
            infos={},
            timestep=timestep,
            timesteps=timesteps,
        )
    if step.control[_TRACKS]:
        for tag, value in tracks.get():
            agent.track_data(tag, value)
    if command == RECORD_POST:
        agent.post_interaction(timestep=timestep, timesteps=timesteps)
