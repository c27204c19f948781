"""``SequentialTrainer``: runs the whole loop for ``cfg['timesteps']`` steps in one call."""

from __future__ import annotations

from typing import Any

from steprl.core import trainer as core
from steprl.core.cfg import DefaultConfig
from steprl.trainers.jax.base import Trainer

SEQUENTIAL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(core.TRAINER_DEFAULT_CONFIG)


class SequentialTrainer(core.SequentialTrainer, Trainer):
    __doc__ = core.SequentialTrainer.__doc__
    default_config = SEQUENTIAL_TRAINER_DEFAULT_CONFIG
