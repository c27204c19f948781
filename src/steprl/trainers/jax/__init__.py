"""JAX trainers: thin bindings of the backend-neutral trainers in ``steprl.core.trainer``."""

from steprl.trainers.jax.base import Trainer, generate_equally_spaced_scopes
from steprl.trainers.jax.manual import MANUAL_TRAINER_DEFAULT_CONFIG, ManualTrainer
from steprl.trainers.jax.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG, SequentialTrainer
from steprl.trainers.jax.step import STEP_TRAINER_DEFAULT_CONFIG, StepTrainer

__all__ = [
    "Trainer",
    "generate_equally_spaced_scopes",
    "ManualTrainer",
    "MANUAL_TRAINER_DEFAULT_CONFIG",
    "StepTrainer",
    "STEP_TRAINER_DEFAULT_CONFIG",
    "SequentialTrainer",
    "SEQUENTIAL_TRAINER_DEFAULT_CONFIG",
]
