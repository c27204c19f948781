"""Backend-neutral bookkeeping of multi-agent algorithms: per-agent values, nested checkpoints, episode signals.

A multi-agent algorithm is one :class:`~steprl.core.agent.Agent` whose models, memories and checkpoint modules are
dicts keyed by agent id (uid). This mixin supplies what differs from a single agent: per-agent hyperparameters
(:func:`per_agent`), the checkpoint layout ``{uid: {name: state}}`` (separate files ``<uid>_<name>_<tag>``), the
episode statistics (rewards summed over agents; an episode ends when every agent is done) and the mode switch of
every agent's models. Checkpoints keep the single-agent guarantees: atomic writes, all-or-nothing validated loads.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from steprl.core.agent import META_KEY
from steprl.core.checkpoint import CheckpointError

__all__ = ["MultiAgentMixin", "per_agent"]


def per_agent(value: Any, possible_agents: Sequence[str], what: str = "value", keyed: bool = False) -> dict[str, Any]:
    """``value`` for each agent id: a mapping keyed by exactly ``possible_agents`` is used as given; a mapping
    sharing no key with them (e.g. preprocessor kwargs) and any other value is deep-copied to every agent.

    A mapping that names some agent ids but not exactly ``possible_agents`` (a missing agent, a misspelt one), or
    any other mapping when ``keyed`` (models, memories), is a ``ValueError`` naming what is missing and unknown.
    """
    agents = list(possible_agents)
    if isinstance(value, Mapping):
        keys = set(value)
        if keyed or keys & set(agents):
            missing = [uid for uid in agents if uid not in keys]
            unknown = sorted(str(k) for k in keys - set(agents))
            if missing or unknown:
                raise ValueError(
                    f"{what}: a per-agent dict must have one entry per agent {agents}; "
                    f"missing {missing}, unknown {unknown}"
                )
            return {uid: value[uid] for uid in agents}
    return {uid: _copy(value) for uid in agents}


def _copy(value: Any) -> Any:
    """A deep copy of ``value``; a shallow one when something inside cannot be deep-copied (e.g. a JAX device)."""
    try:
        return copy.deepcopy(value)
    except (TypeError, copy.Error):
        return copy.copy(value)


class MultiAgentMixin:
    """Multi-agent overrides of the core agent's hooks (placed before the backend's ``Agent`` in the bases).

    The class using it sets ``possible_agents`` (list of uids), ``models`` (uid → role → model) and
    ``checkpoint_modules`` (uid → name → module).
    """

    possible_agents: list[str]
    models: dict[str, Any]
    checkpoint_modules: dict[str, Any]

    @staticmethod
    def _check_possible_agents(possible_agents: Any) -> list[str]:
        if (
            isinstance(possible_agents, (str, bytes))
            or not isinstance(possible_agents, Sequence)
            or not possible_agents
        ):
            raise ValueError(f"possible_agents must be a non-empty list of agent ids, got {possible_agents!r}")
        agents = list(possible_agents)
        if len(set(agents)) != len(agents):
            raise ValueError(f"possible_agents has repeated ids: {agents}")
        return agents

    def _per_agent_arguments(
        self, possible_agents: Any, models: Any, memories: Any, observation_spaces: Any, action_spaces: Any
    ) -> dict[str, dict[str, Any]]:
        """Check the constructor's per-agent arguments; set ``possible_agents``, ``memories``,
        ``observation_spaces`` and ``action_spaces`` (dicts by uid) and return the models as uid -> role -> model."""
        agents = self._check_possible_agents(possible_agents)
        self.possible_agents = agents
        name = type(self).__name__
        if not isinstance(models, Mapping):
            raise TypeError(f"{name}: models must be a dict uid -> dict role -> Model, got {type(models).__name__}")
        per_uid_models = per_agent(models, agents, f"{name} models", keyed=True)
        for uid, roles in per_uid_models.items():
            if not isinstance(roles, Mapping):
                raise TypeError(f"{name}: models['{uid}'] must be a dict role -> Model, got {type(roles).__name__}")
        if memories is not None and not isinstance(memories, Mapping):
            raise TypeError(
                f"{name}: memories must be a dict uid -> memory (one memory per agent), got {type(memories).__name__}"
            )
        given = per_agent(memories, agents, f"{name} memories", keyed=True) if memories else {}
        self.memories: dict[str, Any] = {uid: given.get(uid) for uid in agents}
        self.observation_spaces: dict[str, Any] = per_agent(observation_spaces, agents, f"{name} observation_spaces")
        self.action_spaces: dict[str, Any] = per_agent(action_spaces, agents, f"{name} action_spaces")
        return {uid: dict(roles) for uid, roles in per_uid_models.items()}

    def _as_dict(self, value: Any) -> dict[str, Any]:
        """``value`` per agent id (see :func:`per_agent`)."""
        return per_agent(value, self.possible_agents)

    @property
    def num_agents(self) -> int:
        return len(self.possible_agents)

    def set_mode(self, mode: str) -> None:
        """Set every agent's models to ``"train"`` or ``"eval"`` mode (a model shared by agents is set once)."""
        seen: set[int] = set()
        for roles in self.models.values():
            for model in roles.values():
                if model is not None and id(model) not in seen:
                    seen.add(id(model))
                    model.set_mode(mode)

    # ------------------------------------------------------------------ episode statistics
    def _episode_signals(self, rewards: Any, terminated: Any, truncated: Any) -> tuple[Any, Any, Any]:
        """Rewards summed over agents; a sub-environment's episode ends (terminated or truncated) when every agent is
        done, and counts as terminated only when every agent terminated."""
        uids = [uid for uid in self.possible_agents if uid in rewards]
        total = rewards[uids[0]]
        all_terminated = terminated[uids[0]]
        all_done = terminated[uids[0]] | truncated[uids[0]]
        for uid in uids[1:]:
            total = total + rewards[uid]
            all_terminated = all_terminated & terminated[uid]
            all_done = all_done & (terminated[uid] | truncated[uid])
        return total, all_terminated, all_done & ~all_terminated

    def _shape_rewards(self, shaper: Any, rewards: Any, timestep: int, timesteps: int) -> Any:
        return {uid: shaper(reward, timestep, timesteps) for uid, reward in rewards.items()}

    # ------------------------------------------------------------------ checkpoint layout
    def _checkpoint_entries(self) -> dict[Any, Any]:
        return {
            (uid, name): module for uid, modules in self.checkpoint_modules.items() for name, module in modules.items()
        }

    def _nest(self, states: Mapping[Any, Any]) -> dict[str, Any]:
        nested: dict[str, Any] = {}
        for (uid, name), state in states.items():
            nested.setdefault(uid, {})[name] = state
        return nested

    def _flatten(self, path: str, data: Mapping[str, Any]) -> dict[Any, Any]:
        names = [key for key in data if key != META_KEY]
        if names and not set(names) & set(self.possible_agents):
            raise CheckpointError(
                f"'{path}' is not a multi-agent checkpoint of agents {self.possible_agents}: "
                f"it holds {sorted(map(str, names))} (a single-agent checkpoint?)"
            )
        flat: dict[Any, Any] = {}
        for uid, states in data.items():
            if uid == META_KEY:
                continue
            if not isinstance(states, Mapping):
                raise CheckpointError(
                    f"'{path}' is not a multi-agent checkpoint: entry '{uid}' holds a {type(states).__name__}, "
                    "not a dict of module states (a single-agent checkpoint?)"
                )
            for name, state in states.items():
                flat[(uid, name)] = state
        return flat

    @staticmethod
    def _module_name(key: Any) -> str:
        return str(key[1])

    @staticmethod
    def _file_stem(key: Any) -> str:
        return f"{key[0]}_{key[1]}"
