"""``StepTrainer``: skrl ≥1.1 name of the step-by-step trainer (the same class as ``ManualTrainer``)."""

from __future__ import annotations

from typing import Any

from steprl.core.cfg import DefaultConfig
from steprl.core.trainer import TRAINER_DEFAULT_CONFIG
from steprl.trainers.jax.manual import ManualTrainer

STEP_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(TRAINER_DEFAULT_CONFIG)
StepTrainer = ManualTrainer

__all__ = ["StepTrainer", "STEP_TRAINER_DEFAULT_CONFIG"]
