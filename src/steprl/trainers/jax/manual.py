"""``ManualTrainer``: the user owns the loop; each ``train()``/``eval()`` call executes exactly one step."""

from __future__ import annotations

from typing import Any

from steprl.core import trainer as core
from steprl.core.cfg import DefaultConfig
from steprl.trainers.jax.base import Trainer

MANUAL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(core.TRAINER_DEFAULT_CONFIG)


class ManualTrainer(core.ManualTrainer, Trainer):
    __doc__ = core.ManualTrainer.__doc__
    default_config = MANUAL_TRAINER_DEFAULT_CONFIG
