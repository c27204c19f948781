"""The JAX ``MultiAgent`` base: per-agent models, memories and spaces on the JAX agent machinery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import flax.serialization
import jax

from steprl.agents.jax.base import Agent
from steprl.core.multi_agent import MultiAgentMixin
from steprl.resources.optimizers.jax.adam import AdamOptimizer

__all__ = ["MultiAgent"]


class MultiAgent(MultiAgentMixin, Agent):
    """Base class of the JAX multi-agent algorithms.

    ``models`` is a dict uid → dict role → model (each initialised with ``init_state_dict(role)``), ``memories``,
    ``observation_spaces`` and ``action_spaces`` are dicts keyed by uid (a single space is used for every agent).
    States, actions, rewards and done flags passed to ``act``/``record_transition`` are dicts keyed by uid; ``act``
    returns dicts. ``checkpoint_modules`` is a dict uid → name → module, saved as ``{uid: {name: state}}``.
    """

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Any = None,
        action_spaces: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        per_uid_models = self._per_agent_arguments(possible_agents, models, memories, observation_spaces, action_spaces)
        for uid, roles in per_uid_models.items():
            for role, model in roles.items():
                if model is not None and getattr(model, "state_dict", None) is None:
                    raise ValueError(
                        f"Model '{role}' of agent '{uid}' has no parameters: call its init_state_dict('{role}') "
                        "before building the agent"
                    )
        super().__init__(
            models={}, memory=None, observation_space=self.observation_spaces, action_space=self.action_spaces,
            device=device, cfg=cfg,
        )  # fmt: skip
        self.models = per_uid_models
        self.observation_spaces = self.observation_space
        self.action_spaces = self.action_space
        self.checkpoint_modules = {uid: {} for uid in self.possible_agents}

    def _inference_only(self, resume: bool) -> bool:
        return all(memory is None for memory in self.memories.values()) and not resume

    def _load_module(self, name: str, module: Any, state: Any) -> None:
        """Optimizers are immutable: the loaded one replaces ``module`` wherever it is used (agents of a team)."""
        if isinstance(module, AdamOptimizer):
            restored = flax.serialization.from_state_dict(module.state, state)
            self._swap_module(module, module.replace(state=jax.device_put(restored, self.device)))
        else:
            super()._load_module(name, module, state)

    def _swap_module(self, old: Any, new: Any) -> None:
        """Replace the immutable module ``old`` by ``new`` in every agent's ``checkpoint_modules``."""
        for modules in self.checkpoint_modules.values():
            for name, module in modules.items():
                if module is old:
                    modules[name] = new

    def migrate(self, *args: Any, **kwargs: Any) -> bool:
        """Not available for multi-agent algorithms (rl_games checkpoints are single-agent)."""
        raise NotImplementedError(f"{type(self).__name__}.migrate(): rl_games checkpoints are single-agent")
