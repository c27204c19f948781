"""``ManualTrainer``: the user owns the loop; each ``train()``/``eval()`` call executes exactly one step."""

from __future__ import annotations

from typing import Any

from steprl.core.cfg import DefaultConfig
from steprl.trainers.torch.base import TRAINER_DEFAULT_CONFIG, Trainer

# fmt: off
MANUAL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "timesteps": 100000,                # number of timesteps to train for (progress bar total, schedules)
    "headless": False,                  # whether to use headless mode (no rendering)
    "disable_progressbar": False,       # whether to disable the progressbar (None: disabled when stdout is not a TTY)
    "close_environment_at_exit": True,  # whether to close the environment on normal program termination
    "environment_info": "episode",      # key used to get and log environment info
    "stochastic_evaluation": False,     # whether to use actions rather than (deterministic) mean actions during evaluation
})
# fmt: on
assert set(MANUAL_TRAINER_DEFAULT_CONFIG) == set(TRAINER_DEFAULT_CONFIG)


class ManualTrainer(Trainer):
    """Step-by-step trainer::

        trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 50000, "headless": True})
        for timestep in range(50000):
            trainer.train(timestep=timestep)

    ``train``/``eval`` return the step's ``(next_states, rewards, terminated, truncated, infos)``. With
    ``timestep=None`` an internal 0-based counter (one per mode) is used; an explicit timestep moves it.
    Train and eval keep separate episodes: switching mode starts fresh episodes.
    """

    default_config = MANUAL_TRAINER_DEFAULT_CONFIG

    def train(self, timestep: int | None = None, timesteps: int | None = None) -> tuple[Any, Any, Any, Any, Any]:  # type: ignore[override]
        """Execute one training step (act, env step, render, record, learn, reset finished sub-environments)."""
        return self._run_step("train", timestep, timesteps)

    def eval(self, timestep: int | None = None, timesteps: int | None = None) -> tuple[Any, Any, Any, Any, Any]:  # type: ignore[override]
        """Execute one evaluation step (deterministic actions unless ``stochastic_evaluation``; no learning, no memory)."""
        return self._run_step("eval", timestep, timesteps)
