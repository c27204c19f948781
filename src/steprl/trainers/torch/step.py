"""``StepTrainer``: skrl ≥1.1 name of the step-by-step trainer (same class as :class:`ManualTrainer`)."""

from __future__ import annotations

from typing import Any

from steprl.core.cfg import DefaultConfig
from steprl.trainers.torch.manual import MANUAL_TRAINER_DEFAULT_CONFIG, ManualTrainer

STEP_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(MANUAL_TRAINER_DEFAULT_CONFIG)
StepTrainer = ManualTrainer

__all__ = ["StepTrainer", "STEP_TRAINER_DEFAULT_CONFIG"]
