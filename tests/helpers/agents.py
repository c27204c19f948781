"""Minimal agents used by the trainer tests (the real algorithms have their own tests)."""

from __future__ import annotations

from typing import Any

import torch

from steprl.agents.torch import Agent


class RecordingAgent(Agent):
    """Acts with a fixed action (``mean_actions`` = 1 - action, to see which one the trainer uses) and records."""

    def __init__(self, action: int = 1, **kwargs: Any) -> None:
        cfg = {"experiment": {"write_interval": 0, "checkpoint_interval": 0}}
        super().__init__(models={}, cfg=cfg, **kwargs)
        self.action = action
        self.transitions: list[dict[str, Any]] = []
        self.calls: list[tuple[str, int, int]] = []
        self.init_calls = 0

    def init(self, trainer_cfg: Any = None) -> None:
        self.init_calls += 1
        super().init(trainer_cfg)

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, None, dict[str, Any]]:
        self.calls.append(("act", timestep, timesteps))
        actions = torch.full((states.shape[0], 1), self.action, dtype=torch.int64)
        return actions, None, {"mean_actions": 1 - actions}

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        self.calls.append(("pre", timestep, timesteps))

    def record_transition(self, **kwargs: Any) -> None:
        super().record_transition(**kwargs)
        self.calls.append(("record", kwargs["timestep"], kwargs["timesteps"]))
        self.transitions.append(
            {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items() if k != "infos"} | {"training": self.training}
        )

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        self.calls.append(("post", timestep, timesteps))
        super().post_interaction(timestep, timesteps)
