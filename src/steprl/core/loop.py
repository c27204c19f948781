"""The one step loop behind every trainer: pre-interaction → act → env step → render → record → post-interaction → reset.

Single agent, simultaneous agents (scopes) and multi-agent environments are branches of :meth:`StepLoop.step`;
ManualTrainer/StepTrainer call it once per ``train()``/``eval()``, SequentialTrainer calls it in a ``for`` loop.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from steprl.backends import ops_for
from steprl.core.episodes import EpisodeTracker
from steprl.core.progress import ProgressBar

MODES = ("train", "eval")


@dataclass
class ModeState:
    """What one mode (train or eval) carries between steps; the two modes never share it."""

    states: Any = None
    shared_states: Any = None
    counter: int = 0
    episodes: EpisodeTracker = field(default_factory=EpisodeTracker)
    progress: ProgressBar | None = None
    agent_episodes: dict[str, EpisodeTracker] = field(default_factory=dict)  # multi-agent: each agent's share

    def trackers(self) -> list[EpisodeTracker]:
        """The episode tracker of the whole step (rewards summed over agents) and those of each agent."""
        return [self.episodes, *self.agent_episodes.values()]


def is_multi_agent_env(env: Any) -> bool:
    """Whether ``env`` speaks the multi-agent protocol (dicts keyed by agent id), whatever its current agent count."""
    return hasattr(env, "possible_agents") or getattr(env, "num_agents", 1) > 1


def _reset_env(env: Any) -> tuple[Any, Any]:
    """Really reset ``env`` (steprl wrappers cache observations unless ``force=True``)."""
    try:
        params = inspect.signature(env.reset).parameters
    except (TypeError, ValueError):
        params = {}
    if "force" in params:
        return env.reset(force=True)
    return env.reset()


def _autoreset_states(env: Any, next_states: Any, terminated: Any, truncated: Any) -> Any:
    """Observations to act from next; finished sub-environments are reset by the wrapper, never the whole batch."""
    method = getattr(env, "autoreset_states", None)
    if method is not None:
        return method(next_states, terminated, truncated)
    if getattr(env, "num_envs", 1) > 1:
        return next_states
    if bool(terminated.any()) or bool(truncated.any()):
        return env.reset()[0]
    return next_states


def _episode_ends(env: Any, terminated: Mapping[str, Any], truncated: Mapping[str, Any]) -> Any:
    """``(N, 1)`` flags: the episode of a sub-environment ends when every agent in the step's dicts is done.

    Agents that finished earlier are either absent from the dicts or still flagged done, so the flags of the
    agents present decide; an environment left without agents (and without flags) ended every episode.
    """
    ended = None
    for uid, flags in terminated.items():
        done = flags | truncated[uid]
        ended = done if ended is None else ended & done
    if ended is None:
        raise ValueError("The multi-agent environment's step returned no agent: its episode had already ended")
    if not getattr(env, "agents", True):
        ended = ended | True
    return ended


def _autoreset_multi_agent(env: Any, next_states: Any, terminated: Any, truncated: Any) -> Any:
    """Observations to act from next: the wrapper resets the finished sub-environments (or, lacking a method for
    it, the whole environment is reset once no agent is left)."""
    method = getattr(env, "autoreset_states", None)
    if method is not None:
        return method(next_states, terminated, truncated)
    if not getattr(env, "agents", True):
        return env.reset()[0]
    return next_states


def _choose_actions(result: Any, training: bool, stochastic_evaluation: bool) -> Any:
    """Element 0 of ``act``'s result in training; ``outputs["mean_actions"]`` in deterministic evaluation."""
    actions = result[0]
    if not training and not stochastic_evaluation:
        outputs = result[2] if len(result) > 2 else None
        if isinstance(outputs, Mapping) and outputs.get("mean_actions") is not None:
            return outputs["mean_actions"]
    return actions


class StepLoop:
    """Executes single environment steps for a set of agents on one environment, keeping per-mode state."""

    def __init__(
        self,
        env: Any,
        agents: list[Any],
        ranges: list[tuple[int, int]],
        headless: bool,
        environment_info: str,
        stochastic_evaluation: bool,
        episode_history: int | None = 10_000,
    ) -> None:
        self.env = env
        self.agents = agents
        self.ranges = ranges
        self.headless = headless
        self.environment_info = environment_info
        self.stochastic_evaluation = stochastic_evaluation
        self.multi_agent = is_multi_agent_env(env)
        if self.multi_agent and len(agents) > 1:
            raise ValueError("Multi-agent environments take one multi-agent object (e.g. IPPO/MAPPO), not a list of agents")
        uids = list(getattr(env, "possible_agents", ())) if self.multi_agent else []
        self.modes = {
            mode: ModeState(
                episodes=EpisodeTracker(history=episode_history),
                agent_episodes={uid: EpisodeTracker(history=episode_history) for uid in uids},
            )
            for mode in MODES
        }
        self.active_mode: str | None = None
        self._env_started = False

    # ------------------------------------------------------------------ mode handling
    def activate(self, mode: str, fresh: bool = False) -> ModeState:
        """Switch to ``mode`` (``fresh=True``: also restart its episodes when it is already active).

        Leaving a mode abandons its episodes in progress; an abandoned training rollout is reported to the agents
        (``interrupt_episodes``) so that its last stored step counts as truncated. Agents whose running mode was
        changed elsewhere (e.g. by another trainer sharing them) are switched back.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if self.active_mode != mode or fresh:
            if self.active_mode is not None:
                self._abandon(self.active_mode)
            self.active_mode = mode
        training = mode == "train"
        for agent in self.agents:
            if getattr(agent, "training", None) is not training:
                agent.set_running_mode(mode)
        return self.modes[mode]

    def _abandon(self, mode: str) -> None:
        state = self.modes[mode]
        if mode == "train" and state.states is not None:
            for agent in self.agents:
                hook = getattr(agent, "interrupt_episodes", None)
                if hook is not None:
                    hook()
        state.states = None
        state.shared_states = None
        for tracker in state.trackers():
            tracker.reset()

    def start_episodes(self, state: ModeState) -> None:
        """Start fresh episodes in every sub-environment (the first time, a reset the user already did is reused)."""
        states, _ = _reset_env(self.env) if self._env_started else self.env.reset()
        self._env_started = True
        state.states = states
        state.shared_states = self._env_state() if self.multi_agent else None
        for tracker in state.trackers():
            tracker.reset()

    def _env_state(self) -> Any:
        try:
            return self.env.state()
        except NotImplementedError:
            return None

    # ------------------------------------------------------------------ one step
    def step(self, mode: str, timestep: int, timesteps: int) -> tuple[Any, Any, Any, Any, Any]:
        """One environment step in ``mode``; returns ``(next_states, rewards, terminated, truncated, infos)``."""
        state = self.activate(mode)
        if state.states is None:
            self.start_episodes(state)
        training = mode == "train"
        for agent in self.agents:
            agent.pre_interaction(timestep=timestep, timesteps=timesteps)
        if self.multi_agent:
            result = self._step_multi_agent(state, training, timestep, timesteps)
        else:
            result = self._step_single(state, training, timestep, timesteps)
        if training:
            for agent in self.agents:
                agent.post_interaction(timestep=timestep, timesteps=timesteps)
        return result

    def _step_single(self, state: ModeState, training: bool, timestep: int, timesteps: int) -> tuple[Any, Any, Any, Any, Any]:
        env, agents, ranges = self.env, self.agents, self.ranges
        states = state.states
        ops = ops_for(states)
        with ops.no_grad():
            if len(agents) == 1:
                actions = _choose_actions(agents[0].act(states, timestep=timestep, timesteps=timesteps), training, self.stochastic_evaluation)
            else:
                actions = ops.concatenate(
                    [
                        _choose_actions(agent.act(states[s:e], timestep=timestep, timesteps=timesteps), training, self.stochastic_evaluation)
                        for agent, (s, e) in zip(agents, ranges)
                    ]
                )
            next_states, rewards, terminated, truncated, infos = env.step(actions)
            if not self.headless:
                env.render()
            if len(agents) == 1:
                agents[0].record_transition(
                    states=states,
                    actions=actions,
                    rewards=rewards,
                    next_states=next_states,
                    terminated=terminated,
                    truncated=truncated,
                    infos=infos,
                    timestep=timestep,
                    timesteps=timesteps,
                )
            else:
                for agent, (s, e) in zip(agents, ranges):
                    agent.record_transition(
                        states=states[s:e],
                        actions=actions[s:e],
                        rewards=rewards[s:e],
                        next_states=next_states[s:e],
                        terminated=terminated[s:e],
                        truncated=truncated[s:e],
                        infos=infos,
                        timestep=timestep,
                        timesteps=timesteps,
                    )
        if training:
            self._log_environment_info(infos)
        state.episodes.update(rewards, terminated, truncated)
        state.states = _autoreset_states(env, next_states, terminated, truncated)
        return next_states, rewards, terminated, truncated, infos

    def _step_multi_agent(self, state: ModeState, training: bool, timestep: int, timesteps: int) -> tuple[Any, Any, Any, Any, Any]:
        env, agent = self.env, self.agents[0]
        states = state.states
        ops = ops_for(next(iter(states.values())))
        with ops.no_grad():
            result = agent.act(states, timestep=timestep, timesteps=timesteps)
            actions = result[0]
            if not training and not self.stochastic_evaluation and len(result) > 2 and isinstance(result[2], Mapping):
                outputs = result[2]
                actions = {
                    uid: (outputs[uid]["mean_actions"] if isinstance(outputs.get(uid), Mapping) and outputs[uid].get("mean_actions") is not None else a)
                    for uid, a in actions.items()
                }
            next_states, rewards, terminated, truncated, infos = env.step(actions)
            shared_next_states = self._env_state()
            if isinstance(infos, dict):
                infos["shared_states"] = state.shared_states if state.shared_states is not None else infos.get("shared_states")
                infos["shared_next_states"] = shared_next_states if shared_next_states is not None else infos.get("shared_next_states")
            if not self.headless:
                env.render()
            agent.record_transition(
                states=states,
                actions=actions,
                rewards=rewards,
                next_states=next_states,
                terminated=terminated,
                truncated=truncated,
                infos=infos,
                timestep=timestep,
                timesteps=timesteps,
            )
        if training:
            self._log_environment_info(infos)
        ended = _episode_ends(env, terminated, truncated)
        total_reward = sum(rewards.values())
        state.episodes.update(total_reward, ended, ended)
        for uid, tracker in state.agent_episodes.items():
            tracker.update(rewards[uid] if uid in rewards else total_reward * 0, ended, ended)
        acting = _autoreset_multi_agent(env, next_states, terminated, truncated)
        state.states = acting
        state.shared_states = shared_next_states if acting is next_states else self._env_state()
        return next_states, rewards, terminated, truncated, infos

    def _log_environment_info(self, infos: Any) -> None:
        if not self.environment_info or not isinstance(infos, Mapping):
            return
        info = infos.get(self.environment_info)
        if not isinstance(info, Mapping):
            return
        for name, value in info.items():
            if hasattr(value, "numel") and value.numel() == 1:
                for agent in self.agents:
                    agent.track_data(f"Info / {name}", value)
            elif isinstance(value, (int, float, np.floating, np.integer)):
                for agent in self.agents:
                    agent.track_data(f"Info / {name}", float(value))
