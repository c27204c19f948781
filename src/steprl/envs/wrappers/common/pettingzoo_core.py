"""Backend-neutral (NumPy only) stepping of one or several copies of a PettingZoo parallel environment.

Contract, for ``N`` copies stepped as one batch (``N = 1``: a plain PettingZoo env):

- Observations, rewards and flags are dicts keyed by agent id holding ``(N, size)`` observations (flattened as
  the Gymnasium wrapper does), ``(N, 1)`` float32 rewards and ``(N, 1)`` bool terminated/truncated flags.
- The keys of a step's dicts are the agents that acted in it (alive in at least one copy): an agent that finished
  in every copy vanishes from the dicts. In a copy where it already finished it is padded: its final observation,
  reward 0 and the flags it finished with.
- ``step`` never resets. The episode of a copy ends when none of its agents is left; :meth:`PettingZooCore.
  reset_finished` then resets exactly those copies (the true final observations were returned by ``step``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from steprl.envs.wrappers.common.gymnasium_core import (
    _OBSERVATION_SPACES,
    ActionConverter,
    ObservationFlattener,
    check_finite,
    check_space,
)
from steprl.envs.wrappers.common.multi_agent import check_action_keys, check_agent_action


class MultiStepArrays(NamedTuple):
    """One multi-agent step as NumPy arrays keyed by agent id (see the module docstring)."""

    observations: dict[str, np.ndarray]
    rewards: dict[str, np.ndarray]
    terminated: dict[str, np.ndarray]
    truncated: dict[str, np.ndarray]
    infos: dict[str, Any]


def check_parallel_env(env: Any) -> None:
    """``TypeError`` for anything that is not a PettingZoo parallel env, pointing AEC envs to the parallel API."""
    if hasattr(env, "agent_selection") or callable(getattr(env, "last", None)):
        raise TypeError(
            f"{type(env).__name__} is a PettingZoo AEC (turn-based) environment; steprl steps every agent at once "
            "and needs the parallel API: create it with e.g. simple_spread_v3.parallel_env(...), or convert it with "
            "pettingzoo.utils.conversions.aec_to_parallel(env)"
        )
    for name in ("reset", "step", "possible_agents"):
        if not hasattr(env, name):
            raise TypeError(
                f"Expected a PettingZoo parallel environment, got {type(env).__name__} (no '{name}' attribute)"
            )


def _space(env: Any, method: str, mapping: str, uid: str) -> spaces.Space:
    getter = getattr(env, method, None)
    if callable(getter):
        return getter(uid)
    return getattr(env, mapping)[uid]


def _split_reset(result: Any, possible: Sequence[str]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``(observations, infos)`` of a reset, also for envs whose ``reset`` returns only the observations."""
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Mapping):
        return result[0], result[1] or {}
    if isinstance(result, Mapping):
        return result, {uid: {} for uid in possible}
    raise TypeError(
        f"A PettingZoo parallel env's reset() must return observations (a dict) or (observations, infos), "
        f"got {type(result).__name__}"
    )


class PettingZooCore:
    """Steps ``envs`` (copies of one PettingZoo parallel env) under the contract of the module docstring."""

    def __init__(self, envs: Sequence[Any], *, check_finite: bool = True) -> None:
        if not envs:
            raise ValueError("Expected at least one PettingZoo parallel environment, got an empty sequence")
        for env in envs:
            check_parallel_env(env)
        if len({id(env) for env in envs}) != len(envs):
            raise ValueError("The copies must be distinct environment objects (the same env appears twice in the list)")
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.check_finite = check_finite
        first = self.envs[0]
        self.possible_agents: list[str] = list(first.possible_agents)
        for i, env in enumerate(self.envs[1:], start=1):
            if list(env.possible_agents) != self.possible_agents:
                raise ValueError(
                    f"Every copy must have the same agents: copy 0 has {self.possible_agents}, copy {i} has "
                    f"{list(env.possible_agents)}"
                )
        self.observation_spaces = {
            uid: _space(first, "observation_space", "observation_spaces", uid) for uid in self.possible_agents
        }
        self.action_spaces = {uid: _space(first, "action_space", "action_spaces", uid) for uid in self.possible_agents}
        for uid, space in self.observation_spaces.items():
            check_space(space, _OBSERVATION_SPACES, f"observation (agent {uid!r})")
        self._flatten = {
            uid: ObservationFlattener(s, 1, vectorized=False) for uid, s in self.observation_spaces.items()
        }
        self._actions = {
            uid: ActionConverter(s, self.num_envs, vectorized=True) for uid, s in self.action_spaces.items()
        }
        self._sizes = {uid: sum(leaf.size for leaf in f.leaves) for uid, f in self._flatten.items()}
        self.state_space, self._state_flatten = self._global_state_space(first)
        n = self.num_envs
        self._obs = {uid: np.zeros((n, self._sizes[uid]), self._flatten[uid].dtype) for uid in self.possible_agents}
        self._alive = {uid: np.zeros(n, np.bool_) for uid in self.possible_agents}
        self._terminated = {uid: np.zeros((n, 1), np.bool_) for uid in self.possible_agents}
        self._truncated = {uid: np.zeros((n, 1), np.bool_) for uid in self.possible_agents}
        self.finished = np.zeros(n, np.bool_)  # copies whose episode ended in the last step (not reset yet)
        self.steps = 0
        self.started = False

    def _global_state_space(self, env: Any) -> tuple[spaces.Space, ObservationFlattener | None]:
        """The env's ``state_space`` when it has ``state()``; else the agents' observations side by side."""
        space = getattr(env, "state_space", None)
        if isinstance(space, spaces.Space) and callable(getattr(env, "state", None)):
            check_space(space, _OBSERVATION_SPACES, "state")
            return space, ObservationFlattener(space, 1, vectorized=False)
        size = sum(self._sizes.values())
        return spaces.Box(-np.inf, np.inf, (size,), np.float32), None

    # ------------------------------------------------------------------ queries
    @property
    def agents(self) -> list[str]:
        """The agents alive in at least one copy (in ``possible_agents`` order)."""
        return [uid for uid in self.possible_agents if self._alive[uid].any()]

    def state(self) -> np.ndarray:
        """The ``(N, state_size)`` global state of every copy."""
        if self._state_flatten is None:
            return np.concatenate([self._obs[uid] for uid in self.possible_agents], axis=1, dtype=np.float32)
        rows = [self._state_flatten(env.state(), "state", self.steps) for env in self.envs]
        return np.concatenate(rows, axis=0)

    # ------------------------------------------------------------------ reset
    def _observe(self, uid: str, obs: Any, quantity: str, copy: int) -> np.ndarray:
        row = self._flatten[uid](obs, f"{quantity} of agent {uid!r} (copy {copy})", self.steps)
        if self.check_finite and row.dtype.kind == "f":
            check_finite(f"{quantity} of agent {uid!r}", row, self.steps)
        return row[0]

    def _reset_copy(self, i: int, seed: int | None) -> Mapping[str, Any]:
        env = self.envs[i]
        result = env.reset() if seed is None else env.reset(seed=seed + i)
        obs, infos = _split_reset(result, self.possible_agents)
        for uid in self.possible_agents:
            present = uid in obs
            self._alive[uid][i] = present
            self._terminated[uid][i] = False
            self._truncated[uid][i] = False
            self._obs[uid][i] = self._observe(uid, obs[uid], "reset observation", i) if present else 0
        return infos

    def reset(self, seed: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every copy (copy ``i`` with ``seed + i``); return observations and infos per agent."""
        infos = [self._reset_copy(i, seed) for i in range(self.num_envs)]
        self.finished[:] = False
        self.started = True
        agents = self.agents
        return {uid: self._obs[uid].copy() for uid in agents}, self._merge_infos(infos, agents)

    def reset_finished(self) -> bool:
        """Reset the copies whose episode ended in the last step; ``True`` when there were any."""
        if not self.finished.any():
            return False
        for i in np.flatnonzero(self.finished):
            self._reset_copy(int(i), None)
        self.finished[:] = False
        return True

    def observations(self) -> dict[str, np.ndarray]:
        """The observations to act from, for the agents alive in at least one copy."""
        return {uid: self._obs[uid].copy() for uid in self.agents}

    # ------------------------------------------------------------------ step
    def _merge_infos(self, infos: list[Mapping[str, Any]], agents: Sequence[str]) -> dict[str, Any]:
        if self.num_envs == 1:
            return dict(infos[0])
        return {uid: [info.get(uid, {}) for info in infos] for uid in agents}

    def step(self, actions: Mapping[str, Any]) -> MultiStepArrays:
        """Apply ``actions`` (agent id -> ``(N, ...)`` array) in every copy; never resets (see the module docstring)."""
        if not self.started:
            raise RuntimeError("PettingZooWrapper.step() called before reset(): call reset() first")
        if self.finished.any():
            raise RuntimeError(
                f"The episodes of copies {np.flatnonzero(self.finished).tolist()} ended in the last step: start new "
                "ones with autoreset_states(...) (only those copies) or reset() before stepping again"
            )
        acting = self.agents
        if not acting:
            raise RuntimeError("No agent is left in any copy of the environment: call reset() first")
        check_action_keys(actions, acting, self.possible_agents)
        converted = {}
        for uid in acting:
            array = np.asarray(actions[uid])
            check_agent_action(uid, self._actions[uid], array.shape, array.dtype, array.dtype.kind in "biu")
            converted[uid] = self._actions[uid].convert(array)
        n = self.num_envs
        self.steps += 1
        rewards = {uid: np.zeros((n, 1), np.float32) for uid in acting}
        infos = []
        for i, env in enumerate(self.envs):
            alive = [uid for uid in acting if self._alive[uid][i]]
            if not alive:
                infos.append({})
                continue
            obs, rew, term, trunc, info = env.step({uid: converted[uid][i] for uid in alive})
            infos.append(info or {})
            for uid in alive:
                if uid in obs:
                    self._obs[uid][i] = self._observe(uid, obs[uid], "observation", i)
                rewards[uid][i] = rew.get(uid, 0.0)
                ended = bool(term.get(uid, False)), bool(trunc.get(uid, False))
                self._terminated[uid][i], self._truncated[uid][i] = ended
                # an agent that vanished without a flag was removed by the env: its episode was cut short
                if uid not in obs and not any(ended):
                    self._truncated[uid][i] = True
                self._alive[uid][i] = uid in obs and not any(ended)
            self.finished[i] = not any(self._alive[uid][i] for uid in self.possible_agents)
        if self.check_finite:
            for uid in acting:
                check_finite(f"reward of agent {uid!r}", rewards[uid], self.steps)
        return MultiStepArrays(
            {uid: self._obs[uid].copy() for uid in acting},
            rewards,
            {uid: self._terminated[uid].copy() for uid in acting},
            {uid: self._truncated[uid].copy() for uid in acting},
            self._merge_infos(infos, acting),
        )

    def close(self) -> None:
        """Close every copy."""
        for env in self.envs:
            env.close()
