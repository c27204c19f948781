"""The PettingZoo wrapper of every backend: ``PettingZooCore`` (NumPy) behind the multi-agent wrapper interface.

A backend subclasses :class:`PettingZooWrapperBase` with its ``MultiAgentEnvWrapper`` and supplies ``_array`` and
``_tensors`` (NumPy to the backend's arrays) and ``_numpy`` (an agent's actions to NumPy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np

from steprl.envs.wrappers.common.base import Array, MultiAgentEnvWrapper
from steprl.envs.wrappers.common.pettingzoo_core import PettingZooCore


class PettingZooWrapperBase(MultiAgentEnvWrapper):
    """A PettingZoo parallel env, or several copies of one stepped as a batch (``env`` a list of copies).

    - ``step(actions)`` takes a dict agent id -> ``(N, act_size)`` tensor (Discrete: ``(N, 1)`` or ``(N,)`` of
      integers) for every agent in :attr:`agents`, and returns dicts keyed by the agents that acted: observations
      ``(N, obs_size)``, rewards ``(N, 1)`` float32, terminated/truncated ``(N, 1)`` bool, and the infos (the env's
      for one copy; agent id -> list of per-copy infos for several). Agents that finished in every copy vanish from
      the dicts; in a copy where an agent already finished it is padded with its final observation, reward 0 and
      its final flags.
    - ``step`` never resets: it returns the true final observations and :meth:`state` the true final state. The
      episode of a copy ends when none of its agents is left; :meth:`autoreset_states` (called by the trainers)
      resets exactly those copies. With one copy, ``reset()`` once :attr:`agents` is empty does the same.
    - ``reset()`` tolerates envs whose ``reset`` returns only the observations. AEC (turn-based) envs are refused.
    - :meth:`state` is the env's ``state()`` when it has a ``state_space``, else every agent's observation side by
      side.

    The copies are Python objects stepped one after another: for many copies of a fast task prefer a vectorized
    simulator such as VMAS (the torch ``VmasWrapper``).
    """

    def __init__(self, env: Any, *, check_finite: bool = True) -> None:
        envs = list(env) if isinstance(env, (list, tuple)) else [env]
        super().__init__(envs[0])
        self._envs = envs
        self._core = PettingZooCore(envs, check_finite=check_finite)
        self._closed = False

    # ------------------------------------------------------------------ properties
    @property
    def num_envs(self) -> int:
        """Number of copies stepped as one batch."""
        return self._core.num_envs

    @property
    def num_agents(self) -> int:
        """Number of agents alive in at least one copy."""
        return len(self._core.agents)

    @property
    def max_num_agents(self) -> int:
        """Number of agents that may appear."""
        return len(self._core.possible_agents)

    @property
    def agents(self) -> list[str]:
        """Ids of the agents alive in at least one copy (empty once every episode ended)."""
        return self._core.agents

    @property
    def possible_agents(self) -> list[str]:
        """Ids of every agent that may appear."""
        return list(self._core.possible_agents)

    @property
    def observation_spaces(self) -> Mapping[str, gymnasium.Space]:
        """Observation space per agent id."""
        return self._core.observation_spaces

    @property
    def action_spaces(self) -> Mapping[str, gymnasium.Space]:
        """Action space per agent id."""
        return self._core.action_spaces

    @property
    def state_spaces(self) -> Mapping[str, gymnasium.Space]:
        """The global state space, per agent id."""
        return {uid: self._core.state_space for uid in self._core.possible_agents}

    # ------------------------------------------------------------------ conversions (backend hooks)
    def _tensors(self, arrays: Mapping[str, np.ndarray]) -> dict[str, Array]:
        """NumPy arrays by agent id as the backend's arrays (on the wrapper's device)."""
        raise NotImplementedError

    def _array(self, array: np.ndarray) -> Array:
        """One NumPy array as the backend's array."""
        raise NotImplementedError

    def _numpy(self, actions: Any) -> Any:
        """One agent's actions (a backend array) as a NumPy array."""
        return actions

    # ------------------------------------------------------------------ contract
    def reset(self, *, seed: int | None = None) -> tuple[dict[str, Array], dict[str, Any]]:
        """Reset every copy (copy ``i`` with ``seed + i`` when a seed is given); observations and infos per agent."""
        observations, infos = self._core.reset(seed=seed)
        return self._tensors(observations), infos

    def step(self, actions: Mapping[str, Array]) -> tuple[dict[str, Any], ...]:
        """Apply per-agent actions; return per-agent observations, rewards, terminated, truncated and infos."""
        numpy_actions = {uid: self._numpy(a) for uid, a in actions.items()} if isinstance(actions, Mapping) else actions
        out = self._core.step(numpy_actions)
        return (
            self._tensors(out.observations),
            self._tensors(out.rewards),
            self._tensors(out.terminated),
            self._tensors(out.truncated),
            out.infos,
        )

    def state(self) -> Array:
        """The global state ``(N, state_size)`` (the true final state of copies whose episode just ended)."""
        return self._array(self._core.state())

    def autoreset_states(
        self,
        next_states: Mapping[str, Array],
        terminated: Mapping[str, Array],
        truncated: Mapping[str, Array],
    ) -> Mapping[str, Array]:
        """Reset the copies whose episode ended in the last step; the observations to act from next.

        When no episode ended: ``next_states`` itself, less the agents that finished in every copy. The flags are
        read from the env's own NumPy state, so no tensor is synchronised here.
        """
        if self._core.reset_finished():
            return self._tensors(self._core.observations())
        agents = self._core.agents
        if len(agents) == len(next_states):
            return next_states
        return {uid: next_states[uid] for uid in agents}

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the first copy."""
        return self._envs[0].render(*args, **kwargs)

    def close(self) -> None:
        """Close every copy (a second call does nothing)."""
        if not self._closed:
            self._closed = True
            self._core.close()

    @property
    def envs(self) -> Sequence[Any]:
        """The wrapped copies."""
        return tuple(self._envs)
