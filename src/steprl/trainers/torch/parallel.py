"""``ParallelTrainer``: simultaneous agents on scopes of one vector environment, one worker process per agent."""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from steprl.core import trainer as core
from steprl.core.cfg import DefaultConfig
from steprl.core.loop import StepLoop
from steprl.trainers.torch.base import Trainer
from steprl.trainers.torch.parallel_workers import AgentWorkers, WorkerError

__all__ = ["ParallelTrainer", "PARALLEL_TRAINER_DEFAULT_CONFIG", "WorkerError"]

PARALLEL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(core.TRAINER_DEFAULT_CONFIG)


class ParallelTrainer(core.SequentialTrainer, Trainer):
    """``trainer.train()`` / ``trainer.eval()`` run ``cfg['timesteps']`` steps, like the SequentialTrainer, with each
    of several simultaneous agents in its own process (``torch.multiprocessing``, start method ``spawn``).

    The parent steps the environment; per step every agent runs ``pre_interaction``/``act`` and then
    ``record_transition``/``post_interaction`` on its scope at the same time as the others, with the tensors
    exchanged through shared memory. Each agent sees the calls and arguments of the SequentialTrainer (``infos``
    excepted: workers receive an empty dict), so agents that draw no random numbers end with the same parameters;
    random draws come from a generator per worker, seeded from the parent's generator when the workers start
    (runs with the same seed are reproducible, but the draws differ from the SequentialTrainer's one shared stream).

    The agents are sent to the workers when the first step runs and initialised there (``agent.init``); their
    modules are moved to shared memory, so the parent's agents see the trained parameters. Optimiser states,
    memories and counters live in the workers. The workers stay up across ``train()``/``eval()`` calls until
    :meth:`close` (or interpreter exit). An error in a worker raises :class:`WorkerError` naming the agent, and an
    error or ``KeyboardInterrupt`` in the parent shuts every worker down before it propagates.

    With one agent the trainer is the SequentialTrainer: everything runs in this process. With several, the agents
    must be picklable and a script must guard its entry point (``if __name__ == "__main__":``), since ``spawn``
    imports the main module again in each worker.
    """

    default_config = PARALLEL_TRAINER_DEFAULT_CONFIG

    def __init__(
        self, env: Any, agents: Any, agents_scope: Sequence[int] | None = None, cfg: Mapping[str, Any] | None = None
    ) -> None:
        self._workers: AgentWorkers | None = None
        super().__init__(env, agents, agents_scope, cfg)
        if self.num_simultaneous_agents > 1:
            self._workers = AgentWorkers(
                self._agent_list, self._ranges, env.action_space, self.cfg, self.stochastic_evaluation
            )
            history = self.cfg["episode_history"]
            self._loop = StepLoop(
                env, [self._workers], [(0, self.num_envs)], self.headless, self.environment_info,
                self.stochastic_evaluation, history,
            )  # fmt: skip
            atexit.register(_close_workers, weakref.ref(self._workers))

    def _initialize_agents(self, agents: list[Any]) -> None:
        """One agent is initialised here; several are initialised in their worker processes."""
        if len(agents) == 1:
            super()._initialize_agents(agents)

    def _run_step(self, *args: Any, **kwargs: Any) -> tuple[Any, Any, Any, Any, Any]:
        try:
            return super()._run_step(*args, **kwargs)
        except BaseException:
            self.close()
            raise

    def run_episodes(self, *args: Any, **kwargs: Any) -> list[float]:
        try:
            return super().run_episodes(*args, **kwargs)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Shut the worker processes down (the trainer cannot step afterwards); nothing to do with one agent."""
        if self._workers is not None:
            self._workers.close()

    @property
    def worker_processes(self) -> list[Any]:
        """The agents' worker processes (empty with one agent, and before the first step)."""
        return [] if self._workers is None else self._workers.processes


def _close_workers(ref: weakref.ReferenceType[AgentWorkers]) -> None:
    workers = ref()
    if workers is not None:
        workers.close()
