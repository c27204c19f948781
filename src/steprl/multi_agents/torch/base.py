"""The PyTorch ``MultiAgent`` base: per-agent models, memories and spaces on the PyTorch agent machinery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from steprl.agents.torch.base import Agent
from steprl.core.multi_agent import MultiAgentMixin

__all__ = ["MultiAgent"]


class MultiAgent(MultiAgentMixin, Agent):
    """Base class of the PyTorch multi-agent algorithms.

    ``models`` is a dict uid → dict role → model, ``memories``, ``observation_spaces`` and ``action_spaces`` are
    dicts keyed by uid (a single space is used for every agent). States, actions, rewards and done flags passed to
    ``act``/``record_transition`` are dicts keyed by uid; ``act`` returns dicts. ``checkpoint_modules`` is a dict
    uid → name → module, saved as ``{uid: {name: state}}``.
    """

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Any = None,
        action_spaces: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        per_uid_models = self._per_agent_arguments(possible_agents, models, memories, observation_spaces, action_spaces)
        super().__init__(
            models=per_uid_models,
            memory=None,
            observation_space=self.observation_spaces,
            action_space=self.action_spaces,
            device=device,
            cfg=cfg,
        )
        self.observation_spaces = self.observation_space
        self.action_spaces = self.action_space
        moved: set[int] = set()
        for roles in self.models.values():
            for model in roles.values():
                if model is not None and hasattr(model, "device") and id(model) not in moved:
                    moved.add(id(model))
                    model.to(model.device)
        self.checkpoint_modules = {uid: {} for uid in self.possible_agents}

    def _inference_only(self, resume: bool) -> bool:
        return all(memory is None for memory in self.memories.values()) and not resume

    def migrate(self, *args: Any, **kwargs: Any) -> bool:
        """Not available for multi-agent algorithms (rl_games checkpoints are single-agent)."""
        raise NotImplementedError(f"{type(self).__name__}.migrate(): rl_games checkpoints are single-agent")
