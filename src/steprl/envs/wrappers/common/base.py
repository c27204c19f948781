"""Backend-neutral base classes of the environment wrappers (single-agent :class:`Wrapper`, :class:`MultiAgentEnvWrapper`).

A backend subclasses them and supplies :meth:`EnvForwarding._find_device` (the device its arrays live on) and the
conversions of its concrete wrappers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium

Array = Any  # a backend array: torch.Tensor, jax.Array or np.ndarray


class EnvForwarding:
    """Keeps the env, its unwrapped env and device; forwards unknown attributes to them."""

    def __init__(self, env: Any) -> None:
        self._env = env
        try:
            self._unwrapped = env.unwrapped
        except AttributeError:
            self._unwrapped = env
        self._device = self._find_device(env, self._unwrapped)

    def _find_device(self, *sources: Any) -> Any:
        """The device of the returned arrays, from the ``device`` attribute of ``sources`` (backend-specific)."""
        return None

    def __getattr__(self, key: str) -> Any:
        """Forward an unknown attribute to the env, then to the unwrapped env."""
        if key.startswith("__") or key in ("_env", "_unwrapped"):
            raise AttributeError(key)
        env = self.__dict__.get("_env")
        if hasattr(env, key):
            return getattr(env, key)
        unwrapped = self.__dict__.get("_unwrapped")
        if hasattr(unwrapped, key):
            return getattr(unwrapped, key)
        raise AttributeError(
            f"Neither the wrapped environment ({type(env).__name__}) nor its unwrapped environment "
            f"({type(unwrapped).__name__}) have the attribute '{key}'"
        )

    @property
    def device(self) -> Any:
        """The device of the returned tensors (the env's ``device`` when it has one, else the default device)."""
        return self._device

    @property
    def num_envs(self) -> int:
        """Number of parallel environments (1 when the env has no ``num_envs``)."""
        return int(getattr(self._unwrapped, "num_envs", 1))

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the environment."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the environment."""
        raise NotImplementedError


class Wrapper(EnvForwarding):
    """Single-agent environment wrapper: batched arrays in, batched arrays out."""

    @property
    def num_agents(self) -> int:
        """Number of agents (1 unless the env says otherwise)."""
        return int(getattr(self._unwrapped, "num_agents", 1))

    @property
    def state_space(self) -> gymnasium.Space | None:
        """The global state space (``None`` when the env has none)."""
        return getattr(self._unwrapped, "state_space", None)

    @property
    def observation_space(self) -> gymnasium.Space:
        """Observation space of one environment."""
        return self._unwrapped.observation_space

    @property
    def action_space(self) -> gymnasium.Space:
        """Action space of one environment."""
        return self._unwrapped.action_space

    def reset(self, *, force: bool = False) -> tuple[Array, Any]:
        """Return ``(observations (N, obs_size), infos)``; ``force`` requests a real reset of every environment."""
        raise NotImplementedError

    def step(self, actions: Array) -> tuple[Array, Array, Array, Array, Any]:
        """Apply ``actions (N, act_size)``; return next observations, rewards, terminated, truncated, infos."""
        raise NotImplementedError

    def state(self) -> Array:
        """The global state ``(N, state_size)``."""
        raise NotImplementedError

    def autoreset_states(self, next_states: Array, terminated: Array, truncated: Array) -> Array:
        """The observations to act from after a step (what the trainer carries to the next step).

        Default for wrappers that don't know better: vectorized envs auto-reset themselves (carry ``next_states``);
        a single env is reset when its episode ended.
        """
        if self.num_envs > 1:
            return next_states
        if bool(terminated.any()) or bool(truncated.any()):
            return self.reset()[0]
        return next_states


class MultiAgentEnvWrapper(EnvForwarding):
    """Multi-agent environment wrapper: dicts of arrays keyed by agent id."""

    @property
    def num_agents(self) -> int:
        """Number of current agents."""
        value = getattr(self._unwrapped, "num_agents", None)
        return int(value) if value is not None else len(self.agents)

    @property
    def max_num_agents(self) -> int:
        """Maximum number of agents."""
        value = getattr(self._unwrapped, "max_num_agents", None)
        return int(value) if value is not None else len(self.possible_agents)

    @property
    def agents(self) -> Sequence[str]:
        """Ids of the current agents (may shrink as agents finish)."""
        return self._unwrapped.agents

    @property
    def possible_agents(self) -> Sequence[str]:
        """Ids of every agent that may appear."""
        return self._unwrapped.possible_agents

    @property
    def observation_spaces(self) -> Mapping[str, gymnasium.Space]:
        """Observation space per agent id."""
        return self._per_agent("observation_spaces", "observation_space")

    @property
    def action_spaces(self) -> Mapping[str, gymnasium.Space]:
        """Action space per agent id."""
        return self._per_agent("action_spaces", "action_space")

    @property
    def state_spaces(self) -> Mapping[str, gymnasium.Space | None]:
        """The one global state space, per agent id (skrl ≥ 1.3 meaning)."""
        space = getattr(self._unwrapped, "state_space", None)
        if callable(space) and not isinstance(space, gymnasium.Space):
            space = space()
        return {uid: space for uid in self.possible_agents}

    @property
    def shared_observation_spaces(self) -> Mapping[str, gymnasium.Space | None]:
        """Alias of :attr:`state_spaces` (skrl < 1.3 name of the global state space)."""
        return self.state_spaces

    @property
    def shared_state_spaces(self) -> Mapping[str, gymnasium.Space | None]:
        """Alias of :attr:`state_spaces` (skrl < 1.3 name of the global state space)."""
        return self.state_spaces

    def observation_space(self, agent: str) -> gymnasium.Space:
        """Observation space of ``agent``."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.Space:
        """Action space of ``agent``."""
        return self.action_spaces[agent]

    def state_space(self, agent: str) -> gymnasium.Space | None:
        """The global state space (the same for every ``agent``)."""
        return self.state_spaces[agent]

    def shared_observation_space(self, agent: str) -> gymnasium.Space | None:
        """Alias of :meth:`state_space`."""
        return self.state_space(agent)

    def shared_state_space(self, agent: str) -> gymnasium.Space | None:
        """Alias of :meth:`state_space`."""
        return self.state_space(agent)

    def _per_agent(self, mapping_name: str, method_name: str) -> Mapping[str, gymnasium.Space]:
        mapping = getattr(self._unwrapped, mapping_name, None)
        if isinstance(mapping, Mapping):
            return mapping
        method = getattr(self._unwrapped, method_name)
        return {uid: method(uid) for uid in self.possible_agents}

    def reset(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """Return ``(observations per agent, infos per agent)``."""
        raise NotImplementedError

    def step(self, actions: Mapping[str, Array]) -> tuple[dict[str, Any], ...]:
        """Apply per-agent actions; return per-agent observations, rewards, terminated, truncated, infos."""
        raise NotImplementedError

    def state(self) -> Array:
        """The global state ``(N, state_size)``."""
        raise NotImplementedError
