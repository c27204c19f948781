"""The backend-neutral trainers: validation, agents/scopes, per-mode loop state, progress, episodes, dispatch.

A backend binds these classes in a few lines (``steprl.trainers.torch``): it names the default config, the
backend (for error messages) and how to read the process rank. Everything else lives here, once.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from steprl import logger
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.loop import StepLoop, is_multi_agent_env
from steprl.core.progress import ProgressBar, progress_disabled
from steprl.core.scopes import generate_equally_spaced_scopes, normalize_agents

__all__ = ["Trainer", "ManualTrainer", "SequentialTrainer", "TRAINER_DEFAULT_CONFIG", "generate_equally_spaced_scopes"]

# fmt: off
TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "timesteps": 100000,                # number of timesteps to train for
    "headless": False,                  # whether to use headless mode (no rendering)
    "disable_progressbar": False,       # whether to disable the progressbar (None: disabled when stdout is not a TTY)
    "close_environment_at_exit": True,  # whether to close the environment on normal program termination
    "environment_info": "episode",      # key used to get and log environment info
    "stochastic_evaluation": False,     # whether to use actions rather than (deterministic) mean actions during evaluation
    "episode_history": 10000,           # steprl: completed episodes kept per mode for episode_returns() (None: all)
})
# fmt: on

DEFAULT_EPISODE_STEP_CAP = 100_000  # run_episodes: vector steps after which it stops waiting for episodes to end


class Trainer:
    """Base trainer: owns the environment, the agents and the step loop; subclasses decide how steps are driven.

    ``Trainer(env, agents, agents_scope=None, cfg=None)``: ``agents`` is one agent or a list of agents sharing a
    vectorized environment (``agents_scope`` = number of environments per agent; equal split when omitted).
    Nothing passed in is modified. The progress bar counts environment steps (vector steps × sub-environments,
    × ranks in a data-parallel run, where rank 0 alone shows it).
    """

    default_config: ClassVar[Mapping[str, Any]] = {**TRAINER_DEFAULT_CONFIG, "timesteps": 0}
    backend: ClassVar[str] = "torch"  # the backend whose ``wrap_env`` error messages point to

    def __init__(self, env: Any, agents: Any, agents_scope: Sequence[int] | None = None, cfg: Mapping[str, Any] | None = None) -> None:
        self.cfg: dict[str, Any] = merge_config(self.default_config, cfg, where=f"{type(self).__name__} cfg")
        self.timesteps: int = _non_negative_int(self.cfg["timesteps"], "timesteps")
        self.headless: bool = bool(self.cfg["headless"])
        self.disable_progressbar: bool | None = self.cfg["disable_progressbar"]
        self.close_environment_at_exit: bool = bool(self.cfg["close_environment_at_exit"])
        self.environment_info: str = self.cfg["environment_info"]
        self.stochastic_evaluation: bool = bool(self.cfg["stochastic_evaluation"])
        history = self.cfg["episode_history"]
        if history is not None and (isinstance(history, bool) or not isinstance(history, int) or history < 1):
            raise ValueError(f"cfg['episode_history'] must be a positive integer or None, got {history!r}")

        _check_wrapped(env, self.backend)
        self.env = env
        self.num_envs = int(getattr(env, "num_envs", 1))
        agent_list, sizes, ranges = normalize_agents(agents, agents_scope, self.num_envs)
        _check_agent_kind(env, agent_list)
        self._agent_list = agent_list
        self._scope_sizes = sizes
        self._memories_checked = False
        self.agents: Any = agent_list[0] if len(agent_list) == 1 else list(agent_list)
        self.agents_scope: list[Any] = [list(r) for r in ranges] if isinstance(agents, (list, tuple)) and len(agent_list) > 1 else []
        self.num_simultaneous_agents = len(agent_list)
        self.initial_timestep = 0
        self._ranges = ranges
        self._loop = StepLoop(
            env, agent_list, ranges, self.headless, self.environment_info, self.stochastic_evaluation, history
        )
        self._progress_disabled = progress_disabled(self.disable_progressbar, self.process_rank())
        self._bar_steps = self.num_envs * max(1, self.process_count())  # environment steps per vector step, all ranks
        self._env_closed = False
        self._eval_logged = 0
        if self.close_environment_at_exit:
            atexit.register(self._close_environment)
        self._initialize_agents(agent_list)

    def _initialize_agents(self, agents: list[Any]) -> None:
        """``agent.init(trainer_cfg)``, once per agent (a trainer whose agents run elsewhere overrides it)."""
        for agent in agents:
            if not getattr(agent, "_steprl_initialized", False):
                agent.init(trainer_cfg=self.cfg)
                agent._steprl_initialized = True

    @staticmethod
    def process_rank() -> int:
        """This process's rank in a distributed run (0 otherwise); only rank 0 shows a progress bar."""
        return int(os.getenv("RANK", "0"))

    @staticmethod
    def process_count() -> int:
        """How many processes train together (data-parallel ranks; 1 otherwise)."""
        return int(os.getenv("WORLD_SIZE", "1"))

    def __str__(self) -> str:
        lines = [f"{type(self).__name__}", f"  |-- Number of parallelizable environments: {self.num_envs}"]
        lines.append(f"  |-- Number of simultaneous agents: {self.num_simultaneous_agents}")
        for i, (agent, (s, e)) in enumerate(zip(self._agent_list, self._ranges)):
            lines.append(f"  |-- agent {i}: {type(agent).__name__}, environments [{s}, {e})")
        return "\n".join(lines)

    def _close_environment(self) -> None:
        if self._env_closed:
            return
        self._env_closed = True
        logger.info("Closing environment")
        try:
            self.env.close()
        except Exception as exc:  # noqa: BLE001 - closing must never raise at interpreter exit
            logger.warning(f"Error while closing the environment: {exc}")
        logger.info("Environment closed")

    # ------------------------------------------------------------------ episodes
    def episode_returns(self, mode: str = "train", agent: str | None = None) -> list[float]:
        """Returns of every episode completed in ``mode`` (plain floats; one host sync).

        Multi-agent environments: summed over the agents, or the share of ``agent`` (an agent id) alone.
        """
        state = self._loop.modes[mode]
        if agent is None:
            tracker = state.episodes
        elif agent in state.agent_episodes:
            tracker = state.agent_episodes[agent]
        else:
            agents = list(state.agent_episodes)
            raise ValueError(f"agent must be one of the environment's agents {agents}, got {agent!r}")
        tracker.harvest()
        return list(tracker.returns)

    def episode_lengths(self, mode: str = "train") -> list[int]:
        """Lengths of every episode completed in ``mode``."""
        tracker = self._loop.modes[mode].episodes
        tracker.harvest()
        return list(tracker.lengths)

    def episode_env_ids(self, mode: str = "train") -> list[int]:
        """Index of the sub-environment in which each completed episode of ``mode`` ran."""
        tracker = self._loop.modes[mode].episodes
        tracker.harvest()
        return list(tracker.env_ids)

    def episode_end_steps(self, mode: str = "train") -> list[int]:
        """The vector step of ``mode`` (1-based) at which each completed episode ended."""
        tracker = self._loop.modes[mode].episodes
        tracker.harvest()
        return list(tracker.end_steps)

    def episode_count(self, mode: str = "train") -> int:
        """How many episodes ended in ``mode`` (all of them, also those beyond ``episode_history``)."""
        tracker = self._loop.modes[mode].episodes
        tracker.harvest()
        return tracker.total_episodes

    def _log_eval_episodes(self, timestep: int) -> None:
        """Write evaluation episodes completed since the last call to every agent's TensorBoard writer."""
        tracker = self._loop.modes["eval"].episodes
        tracker.harvest()
        fresh = min(tracker.total_episodes - self._eval_logged, len(tracker.returns))
        if fresh > 0:
            returns, lengths = list(tracker.returns)[-fresh:], list(tracker.lengths)[-fresh:]
            shares = {uid: list(t.returns)[-fresh:] for uid, t in self._loop.modes["eval"].agent_episodes.items()}
            for i, (r, k) in enumerate(zip(returns, lengths)):
                for agent in self._agent_list:
                    writer = getattr(agent, "writer", None)
                    if writer is not None:
                        writer.add_scalar("Eval / Episode return", r, timestep)
                        writer.add_scalar("Eval / Episode length", k, timestep)
                        for uid, values in shares.items():
                            writer.add_scalar(f"Eval / Episode return ({uid})", values[i], timestep)
        self._eval_logged = tracker.total_episodes

    def _check_memories(self) -> None:
        """Before the first training step: each agent's memory must have one slot per environment it steps."""
        for i, (agent, size) in enumerate(zip(self._agent_list, self._scope_sizes)):
            memory = getattr(agent, "memory", None)
            if memory is not None and getattr(memory, "num_envs", size) != size:
                who = "the agent" if len(self._agent_list) == 1 else f"agent {i}"
                raise ValueError(
                    f"The memory of {who} was created with num_envs={memory.num_envs} but {who} steps {size} "
                    f"environment(s) of this trainer: create it with RandomMemory(..., num_envs={size})"
                )
        self._memories_checked = True

    # ------------------------------------------------------------------ stepping
    def _run_step(self, mode: str, timestep: int | None, timesteps: int | None, own_bar: bool = True) -> tuple[Any, Any, Any, Any, Any]:
        if mode == "train" and not self._memories_checked:
            self._check_memories()
        state = self._loop.modes[mode]
        if timestep is None:
            timestep = state.counter
        elif isinstance(timestep, bool) or not isinstance(timestep, int) or timestep < 0:
            raise ValueError(f"timestep must be an integer >= 0 (or None to count automatically), got {timestep!r}")
        if timesteps is None:
            timesteps = self.timesteps
        state.counter = timestep + 1
        bar = state.progress
        n = self._bar_steps
        if own_bar and timestep < timesteps and (bar is None or bar.closed or bar.total != timesteps * n):
            if bar is not None:
                bar.close()
            bar = state.progress = ProgressBar(timesteps * n, mode, self._progress_disabled, initial=timestep * n)
        result = self._loop.step(mode, timestep, timesteps)
        if mode == "eval" and (not state.counter % 100 or timestep >= timesteps - 1):
            self._log_eval_episodes(timestep)
        if own_bar and bar is not None and not bar.closed:
            bar.update(n, state.episodes.mean_return)
            if timestep >= timesteps - 1:
                bar.close()
        return result

    def _run(self, mode: str, start: int, timesteps: int) -> None:
        for timestep in range(start, timesteps):
            self._run_step(mode, timestep, timesteps)

    def run_episodes(self, num_episodes: int, mode: str = "eval", max_steps: int | None = DEFAULT_EPISODE_STEP_CAP) -> list[float]:
        """Step in ``mode`` (fresh episodes) until ``num_episodes`` episodes end; returns their returns.

        With a vectorized environment each sub-environment contributes an equal share of episodes (the first
        ones it completes), so short episodes are not over-represented. At most ``max_steps`` vector steps are
        taken (``None``: no cap); when the cap is reached the episodes completed so far are returned, with a warning.
        """
        num_episodes = int(num_episodes)
        if num_episodes < 1:
            raise ValueError(f"num_episodes must be >= 1, got {num_episodes}")
        if max_steps is not None and int(max_steps) < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
        loop = self._loop
        state = loop.activate(mode, fresh=True)
        tracker = state.episodes
        for each in state.trackers():
            each.clear()
        self._eval_logged = 0
        num_envs = self.num_envs
        targets = np.array([(num_episodes + i) // num_envs for i in range(num_envs)])
        counts = np.zeros(num_envs, dtype=np.int64)
        selected: list[float] = []
        step = 0
        while len(selected) < num_episodes:
            if max_steps is not None and step >= max_steps:
                logger.warning(
                    f"run_episodes: only {len(selected)} of {num_episodes} episodes ended within {max_steps} steps; "
                    "returning those (pass a larger max_steps, or None for no cap)"
                )
                break
            loop.step(mode, state.counter, self.timesteps)
            state.counter += 1
            step += 1
            for r, _, e in tracker.harvest_episodes():
                if counts[e] < targets[e]:
                    counts[e] += 1
                    selected.append(r)
        return selected

    # ------------------------------------------------------------------ skrl entry points
    def _check_single(self) -> None:
        if self.num_simultaneous_agents != 1:
            raise RuntimeError(f"single_agent_* methods drive one agent; this trainer has {self.num_simultaneous_agents}")
        if is_multi_agent_env(self.env):
            raise RuntimeError("single_agent_* methods need a single-agent environment; use multi_agent_* or train()/eval()")

    def _check_multi(self) -> None:
        if self.num_simultaneous_agents != 1:
            raise RuntimeError(f"multi_agent_* methods drive one multi-agent object; this trainer has {self.num_simultaneous_agents} agents")
        if not is_multi_agent_env(self.env):
            raise RuntimeError("multi_agent_* methods need a multi-agent environment; use single_agent_* or train()/eval()")

    def single_agent_train(self) -> None:
        """Train one agent on a single-agent environment for ``cfg['timesteps']`` steps."""
        self._check_single()
        self._run("train", self.initial_timestep, self.timesteps)

    def single_agent_eval(self) -> None:
        """Evaluate one agent on a single-agent environment for ``cfg['timesteps']`` steps."""
        self._check_single()
        self._run("eval", self.initial_timestep, self.timesteps)

    def multi_agent_train(self) -> None:
        """Train a multi-agent object on a multi-agent environment for ``cfg['timesteps']`` steps."""
        self._check_multi()
        self._run("train", self.initial_timestep, self.timesteps)

    def multi_agent_eval(self) -> None:
        """Evaluate a multi-agent object on a multi-agent environment for ``cfg['timesteps']`` steps."""
        self._check_multi()
        self._run("eval", self.initial_timestep, self.timesteps)

    def _run_all(self, mode: str) -> None:
        """The whole loop in ``mode``, dispatched on the environment kind."""
        if self.num_simultaneous_agents > 1:
            self._run(mode, self.initial_timestep, self.timesteps)
        elif is_multi_agent_env(self.env):
            self.multi_agent_train() if mode == "train" else self.multi_agent_eval()
        else:
            self.single_agent_train() if mode == "train" else self.single_agent_eval()

    def train(self) -> None:
        """Run the whole training loop (dispatching on the environment kind)."""
        self._run_all("train")

    def eval(self) -> None:
        """Run the whole evaluation loop (dispatching on the environment kind)."""
        self._run_all("eval")


class ManualTrainer(Trainer):
    """Step-by-step trainer::

        trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 50000, "headless": True})
        for timestep in range(50000):
            trainer.train(timestep=timestep)

    ``train``/``eval`` return the step's ``(next_states, rewards, terminated, truncated, infos)``. With
    ``timestep=None`` an internal 0-based counter (one per mode) is used; an explicit timestep moves it.
    Train and eval keep separate episodes: switching mode starts fresh episodes.
    """

    default_config: ClassVar[Mapping[str, Any]] = TRAINER_DEFAULT_CONFIG

    def train(self, timestep: int | None = None, timesteps: int | None = None) -> tuple[Any, Any, Any, Any, Any]:  # type: ignore[override]
        """Execute one training step (act, env step, render, record, learn, reset finished sub-environments)."""
        return self._run_step("train", timestep, timesteps)

    def eval(self, timestep: int | None = None, timesteps: int | None = None) -> tuple[Any, Any, Any, Any, Any]:  # type: ignore[override]
        """Execute one evaluation step (deterministic actions unless ``stochastic_evaluation``; no learning, no memory)."""
        return self._run_step("eval", timestep, timesteps)


class SequentialTrainer(Trainer):
    """``trainer.train()`` / ``trainer.eval()`` run ``cfg['timesteps']`` steps (from ``initial_timestep``).

    After ``agent.load(checkpoint)`` the loop continues from the checkpoint's timestep.
    """

    default_config: ClassVar[Mapping[str, Any]] = TRAINER_DEFAULT_CONFIG

    def train(self) -> None:
        self.initial_timestep = max([getattr(a, "checkpoint_timestep", 0) for a in self._agent_list] + [self.initial_timestep])
        super().train()


def _check_agent_kind(env: Any, agents: Sequence[Any]) -> None:
    """A ``TypeError`` for a single-agent agent on a multi-agent environment (and the reverse); a ``ValueError``
    for a multi-agent object built for other agent ids than the environment's."""
    multi_env = is_multi_agent_env(env)
    for agent in agents:
        name = type(agent).__name__
        uids = getattr(agent, "possible_agents", None)
        if multi_env and uids is None:
            raise TypeError(
                f"{name} is a single-agent agent but the environment is multi-agent (agents "
                f"{list(getattr(env, 'possible_agents', []))}): use a multi-agent algorithm such as "
                "steprl.multi_agents.torch.ippo.IPPO or mappo.MAPPO"
            )
        if not multi_env and uids is not None:
            raise TypeError(
                f"{name} is a multi-agent algorithm but the environment is single-agent: give it a multi-agent "
                "environment (a PettingZoo parallel env or VMAS, wrapped with wrap_env) or use a single-agent agent"
            )
        if multi_env and set(uids) != set(env.possible_agents):
            raise ValueError(
                f"{name} was built for the agents {list(uids)} but the environment's possible agents are "
                f"{list(env.possible_agents)}: build it with possible_agents=env.possible_agents"
            )


def _check_wrapped(env: Any, backend: str) -> None:
    """A ``TypeError`` for anything that is not a steprl environment wrapper (e.g. a raw Gymnasium environment)."""
    hint = f"wrap it first with steprl.envs.wrappers.{backend}.wrap_env(env)"
    for method in ("reset", "step"):
        if not callable(getattr(env, method, None)):
            raise TypeError(f"env must be a steprl environment wrapper (got {type(env).__name__} without {method}()): {hint}")
    module = type(env).__module__.partition(".")[0]
    if module in ("gymnasium", "gym"):
        raise TypeError(f"env is a raw {type(env).__name__}, not a steprl environment wrapper: {hint}")


def _non_negative_int(value: Any, key: str) -> int:
    """``cfg[key]`` as an int >= 0, or a ``ValueError`` naming the key."""
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cfg['{key}'] must be an integer >= 0, got {value!r}") from exc
    if number < 0 or number != value:
        raise ValueError(f"cfg['{key}'] must be an integer >= 0, got {value!r}")
    return number
