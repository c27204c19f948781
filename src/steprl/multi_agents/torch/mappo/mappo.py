"""Multi-Agent PPO (Yu et al., 2022): decentralised policies, centralised values that see the global state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.multi_agent import per_agent
from steprl.multi_agents.torch.ippo.ippo import IPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.rollout import MultiAgentRollout, Team

__all__ = ["MAPPO", "MAPPO_DEFAULT_CONFIG"]


def _mappo_defaults() -> DefaultConfig:
    """IPPO's defaults plus the shared (global) state preprocessor, placed before the value preprocessor."""
    items: list[tuple[str, Any]] = []
    for key, value in IPPO_DEFAULT_CONFIG.copy().items():
        if key == "value_preprocessor":
            items.append(("shared_state_preprocessor", None))  # preprocessor class of the global state
            items.append(("shared_state_preprocessor_kwargs", {}))  # its kwargs (e.g. {"size": env.state_space})
        items.append((key, value))
    return DefaultConfig(items)


MAPPO_DEFAULT_CONFIG: dict[str, Any] = _mappo_defaults()


class MAPPO(MultiAgentRollout):
    """Multi-Agent PPO: each agent's policy acts on its own observation; its value model sees the global state.

    The trainer puts the environment's global state (``env.state()``) before and after each step in
    ``infos["shared_states"]`` / ``infos["shared_next_states"]``; they are stored with each agent's transition and
    preprocessed by ``shared_state_preprocessor``. ``shared_observation_spaces`` (dict uid → space, or one space)
    gives their size. Per-agent hyperparameters and parameter sharing work as in IPPO.
    """

    _PREPROCESSORS = ("state_preprocessor", "shared_state_preprocessor", "value_preprocessor")

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Any = None,
        action_spaces: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
        shared_observation_spaces: Any = None,
    ) -> None:
        cfg = merge_config(MAPPO_DEFAULT_CONFIG, cfg, where="MAPPO cfg")
        self.shared_observation_spaces: dict[str, Any] = per_agent(
            shared_observation_spaces, self._check_possible_agents(possible_agents), "MAPPO shared_observation_spaces"
        )
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg, "MAPPO")

    def _value_space(self, uid: str) -> Any:
        return self.shared_observation_spaces[uid]

    def _extra_tensors(self, uid: str) -> list[tuple[str, Any, torch.dtype]]:
        space = self.shared_observation_spaces[uid]
        if space is None:
            raise ValueError(
                "MAPPO needs shared_observation_spaces (the global state space, e.g. env.state_spaces) to learn"
            )
        return [("shared_states", space, torch.float32), ("shared_next_states", space, torch.float32)]

    def _recorded_infos(self, infos: Any) -> Mapping[str, Any]:
        """The global states before and after the step, from ``infos`` (put there by the trainer)."""
        shared = infos.get("shared_states") if isinstance(infos, Mapping) else None
        shared_next = infos.get("shared_next_states") if isinstance(infos, Mapping) else None
        if shared is None or shared_next is None:
            raise ValueError(
                "MAPPO needs the global state of every step: infos['shared_states'] and infos['shared_next_states'] "
                "(the trainers set them from env.state(); this environment's state() returned None?)"
            )
        return {"shared_states": shared, "shared_next_states": shared_next}

    def _value_observations(
        self, team: Team, gather: Callable[[str], torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return gather("shared_states"), gather("shared_next_states")

    def _value_preprocess(self, team: Team, observations: torch.Tensor, train: bool) -> torch.Tensor:
        return team.preprocessors["shared_state_preprocessor"](observations, train=train)
