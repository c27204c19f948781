"""Minimal agents used by the trainer tests (the real algorithms have their own tests)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from steprl.agents.torch import Agent


class RecordingAgent(Agent):
    """Acts with a fixed action (``mean_actions`` = 1 - action, to see which one the trainer uses) and records.

    Actions come in the array type of the states (torch, NumPy or JAX), so the agent serves every backend's trainer.
    """

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

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple[Any, None, dict[str, Any]]:
        self.calls.append(("act", timestep, timesteps))
        if isinstance(states, torch.Tensor):
            actions = torch.full((states.shape[0], 1), self.action, dtype=torch.int64)
        else:
            actions = np.full((states.shape[0], 1), self.action, dtype=np.int64)
            if not isinstance(states, np.ndarray):
                import jax.numpy as jnp

                actions = jnp.asarray(actions)
        return actions, None, {"mean_actions": 1 - actions}

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        self.calls.append(("pre", timestep, timesteps))

    def record_transition(self, **kwargs: Any) -> None:
        super().record_transition(**kwargs)
        self.calls.append(("record", kwargs["timestep"], kwargs["timesteps"]))
        self.transitions.append({k: _copy(v) for k, v in kwargs.items() if k != "infos"} | {"training": self.training})

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        self.calls.append(("post", timestep, timesteps))
        super().post_interaction(timestep, timesteps)


def _copy(value: Any) -> Any:
    """A snapshot of a recorded value: tensors cloned, other arrays as NumPy copies."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if hasattr(value, "shape"):
        return np.array(value)
    return value
