"""``SequentialTrainer``: runs the whole loop for ``cfg['timesteps']`` steps in one call."""

from __future__ import annotations

from typing import Any

from steprl.core.cfg import DefaultConfig
from steprl.trainers.torch.base import TRAINER_DEFAULT_CONFIG, Trainer

SEQUENTIAL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(TRAINER_DEFAULT_CONFIG)


class SequentialTrainer(Trainer):
    """``trainer.train()`` / ``trainer.eval()`` run ``cfg['timesteps']`` steps (from ``initial_timestep``).

    After ``agent.load(checkpoint)`` the loop continues from the checkpoint's timestep.
    """

    default_config = SEQUENTIAL_TRAINER_DEFAULT_CONFIG

    def train(self) -> None:
        self.initial_timestep = max([getattr(a, "checkpoint_timestep", 0) for a in self._agent_list] + [self.initial_timestep])
        super().train()
