"""PyTorch trainers: thin bindings of the backend-neutral trainers in ``steprl.core.trainer``."""

from steprl.trainers.torch.base import Trainer, generate_equally_spaced_scopes
from steprl.trainers.torch.manual import MANUAL_TRAINER_DEFAULT_CONFIG, ManualTrainer
from steprl.trainers.torch.parallel import PARALLEL_TRAINER_DEFAULT_CONFIG, ParallelTrainer
from steprl.trainers.torch.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG, SequentialTrainer
from steprl.trainers.torch.step import STEP_TRAINER_DEFAULT_CONFIG, StepTrainer

__all__ = [
    "Trainer",
    "generate_equally_spaced_scopes",
    "ManualTrainer",
    "MANUAL_TRAINER_DEFAULT_CONFIG",
    "StepTrainer",
    "STEP_TRAINER_DEFAULT_CONFIG",
    "SequentialTrainer",
    "SEQUENTIAL_TRAINER_DEFAULT_CONFIG",
    "ParallelTrainer",
    "PARALLEL_TRAINER_DEFAULT_CONFIG",
]
