"""Torch wrapper for VMAS: ``N`` vectorized copies of a multi-agent task simulated in one batch on a torch device."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from steprl.envs.wrappers.common.gymnasium_core import ActionConverter
from steprl.envs.wrappers.common.multi_agent import check_action_keys, check_agent_action
from steprl.envs.wrappers.torch.base import MultiAgentEnvWrapper
from steprl.utils.spaces.torch import convert_gym_space


def _check_vmas_env(env: Any) -> None:
    for name in ("scenario", "reset_at", "get_from_scenario", "num_envs", "agents"):
        if not hasattr(env, name):
            raise TypeError(
                f"Expected a VMAS environment (vmas.make_env(scenario, num_envs=N, device=...)), got "
                f"{type(env).__name__} (no '{name}' attribute)"
            )


def _per_agent_spaces(space: Any, names: list[str], role: str) -> dict[str, spaces.Space]:
    """Gymnasium spaces per agent id from VMAS's Tuple/Dict space (VMAS builds OpenAI Gym spaces)."""
    space = convert_gym_space(space)
    if isinstance(space, spaces.Dict):
        return {uid: space[uid] for uid in names}
    if isinstance(space, spaces.Tuple):
        return dict(zip(names, space.spaces))
    raise TypeError(f"Unexpected VMAS {role} space {space!r}: expected a Tuple or Dict of per-agent spaces")


class VmasWrapper(MultiAgentEnvWrapper):
    """``vmas.make_env(scenario, num_envs=N, device=...)`` behind steprl's multi-agent step contract.

    - Tensors stay on the VMAS device: observations ``(N, obs_size)`` float32, rewards ``(N, 1)`` float32,
      terminated/truncated ``(N, 1)`` bool (the same tensors for every agent: VMAS ends the episode of a
      sub-environment for all its agents at once). Truncation is the ``max_steps`` horizon; termination the
      scenario's ``done()``, kept apart also when VMAS was made without ``terminated_truncated=True``.
    - ``step`` never resets: it returns the true final observations, and :meth:`state` (every agent's observation
      side by side) the true final state. :meth:`autoreset_states` (called by the trainers) resets exactly the
      sub-environments whose episode ended; it reads the done mask once (one device-to-host transfer of ``N``
      flags), the only synchronisation besides those inside VMAS's own step.
    - Actions: a dict agent id -> ``(N, act_size)`` tensor for every agent (Discrete: ``(N, 1)`` or ``(N,)`` of
      integers). Continuous actions are clipped to the action space bounds (``clip_actions=False``: VMAS's own range
      check applies).
    - ``render()`` (what the trainers call every step unless ``headless``) draws nothing unless ``render_mode``
      (``"human"`` or ``"rgb_array"``) was given, since VMAS's own default opens a window.
    """

    def __init__(self, env: Any, *, clip_actions: bool = True, render_mode: str | None = None) -> None:
        _check_vmas_env(env)
        super().__init__(env)
        self._names: list[str] = [agent.name for agent in env.agents]
        self._observation_spaces = _per_agent_spaces(env.observation_space, self._names, "observation")
        self._action_spaces = _per_agent_spaces(env.action_space, self._names, "action")
        for uid, space in self._observation_spaces.items():
            if not isinstance(space, spaces.Box):
                raise TypeError(
                    f"VMAS agent {uid!r} has a {type(space).__name__} observation space: only Box is supported"
                )
        size = sum(int(np.prod(s.shape)) for s in self._observation_spaces.values())
        self._state_space = spaces.Box(-np.inf, np.inf, (size,), np.float32)
        n = int(env.num_envs)
        self._converters = {uid: ActionConverter(s, n, vectorized=True) for uid, s in self._action_spaces.items()}
        self._bounds: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for uid, space in self._action_spaces.items():
            if clip_actions and isinstance(space, spaces.Box):
                low = torch.as_tensor(space.low, dtype=torch.float32, device=self._device)
                high = torch.as_tensor(space.high, dtype=torch.float32, device=self._device)
                self._bounds[uid] = (low, high)
        self._observations: list[torch.Tensor] | None = None
        self._done: torch.Tensor | None = None
        self._render_mode = render_mode

    # ------------------------------------------------------------------ properties
    @property
    def num_envs(self) -> int:
        """Number of vectorized sub-environments."""
        return int(self._env.num_envs)

    @property
    def num_agents(self) -> int:
        """Number of agents (VMAS agents never leave an episode early)."""
        return len(self._names)

    @property
    def max_num_agents(self) -> int:
        """Number of agents."""
        return len(self._names)

    @property
    def agents(self) -> list[str]:
        """Agent ids (the names of VMAS's policy agents)."""
        return list(self._names)

    @property
    def possible_agents(self) -> list[str]:
        """Agent ids (the names of VMAS's policy agents)."""
        return list(self._names)

    @property
    def observation_spaces(self) -> Mapping[str, gymnasium.Space]:
        """Observation space per agent id."""
        return self._observation_spaces

    @property
    def action_spaces(self) -> Mapping[str, gymnasium.Space]:
        """Action space per agent id."""
        return self._action_spaces

    @property
    def state_spaces(self) -> Mapping[str, gymnasium.Space]:
        """The global state space (every agent's observation side by side), per agent id."""
        return {uid: self._state_space for uid in self._names}

    # ------------------------------------------------------------------ contract
    def _as_dict(self, values: Any) -> dict[str, Any]:
        if isinstance(values, Mapping):
            return {uid: values[uid] for uid in self._names}
        return dict(zip(self._names, values))

    def reset(self, *, seed: int | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Reset every sub-environment (``seed`` seeds VMAS, which seeds torch, NumPy and ``random`` globally)."""
        observations = self._env.reset(seed=seed)
        self._observations = list(self._as_dict(observations).values())
        self._done = None
        return self._as_dict(self._observations), {uid: {} for uid in self._names}

    def _vmas_actions(self, actions: Any) -> list[torch.Tensor]:
        check_action_keys(actions, self._names, self._names)
        converted = []
        for uid in self._names:
            action = actions[uid]
            if not isinstance(action, torch.Tensor):
                action = torch.as_tensor(np.asarray(action), device=self._device)
            integral = not (action.is_floating_point() or action.is_complex())
            check_agent_action(uid, self._converters[uid], tuple(action.shape), action.dtype, integral)
            action = action.detach().reshape(self.num_envs, -1).to(self._device)
            bounds = self._bounds.get(uid)
            if bounds is not None:
                action = torch.clamp(action.float(), bounds[0], bounds[1])
            converted.append(action)
        return converted

    def step(self, actions: Mapping[str, torch.Tensor]) -> tuple[dict[str, Any], ...]:
        """Apply per-agent actions in every sub-environment; return per-agent observations, rewards, flags, infos."""
        if self._observations is None:
            raise RuntimeError("VmasWrapper.step() called before reset(): call reset() first")
        env = self._env
        result = env.step(self._vmas_actions(actions))
        if env.terminated_truncated:
            observations, rewards, terminated, truncated, infos = result
        else:
            observations, rewards, dones, infos = result
            if env.max_steps is None:
                terminated, truncated = dones, torch.zeros_like(dones)
            else:
                truncated = env.steps >= env.max_steps
                terminated = env.scenario.done()  # VMAS merged the two; the scenario's own flag, without a sync
        n = self.num_envs
        terminated = terminated.reshape(n, 1).bool()
        truncated = truncated.reshape(n, 1).bool()
        self._observations = list(self._as_dict(observations).values())
        self._done = terminated | truncated
        next_states = dict(zip(self._names, self._observations))
        rewards = {uid: r.reshape(n, 1).float() for uid, r in self._as_dict(rewards).items()}
        return (
            next_states,
            rewards,
            {uid: terminated for uid in self._names},
            {uid: truncated for uid in self._names},
            self._as_dict(infos),
        )

    def state(self) -> torch.Tensor:
        """Every agent's observation side by side ``(N, state_size)`` (the true final state after a last step)."""
        if self._observations is None:
            raise RuntimeError("VmasWrapper.state() called before reset(): call reset() first")
        return torch.cat(self._observations, dim=1)

    def autoreset_states(
        self,
        next_states: Mapping[str, torch.Tensor],
        terminated: Mapping[str, torch.Tensor],
        truncated: Mapping[str, torch.Tensor],
    ) -> Mapping[str, torch.Tensor]:
        """Reset the sub-environments whose episode ended in the last step; the observations to act from next."""
        if self._done is None:
            return next_states
        finished = torch.nonzero(self._done.reshape(-1)).reshape(-1).tolist()  # the one host transfer
        self._done = None
        if not finished:
            return next_states
        env = self._env
        if len(finished) == self.num_envs:
            env.reset(return_observations=False)
        else:
            for index in finished:
                env.reset_at(index, return_observations=False)
        observations = env.get_from_scenario(
            get_observations=True, get_rewards=False, get_infos=False, get_dones=False, dict_agent_names=False
        )[0]
        self._observations = list(observations)
        return dict(zip(self._names, self._observations))

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render VMAS's first sub-environment in ``render_mode`` (arguments go to VMAS's ``render``); ``None``
        without a render mode or arguments."""
        if not args and not kwargs:
            if self._render_mode is None:
                return None
            kwargs = {"mode": self._render_mode}
        return self._env.render(*args, **kwargs)

    def close(self) -> None:
        """Close VMAS's viewer, if it opened one."""
        viewer = getattr(self._env, "viewer", None)
        if viewer is not None:
            viewer.close()
            self._env.viewer = None
