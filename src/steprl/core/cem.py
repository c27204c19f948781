"""Backend-neutral parts of the cross-entropy method (CEM on every backend): its default config, the checks of its
settings and its schedule (an update every ``rollouts`` training steps; abandoned episodes are dropped).

The backend supplies the update (``_update``) and holds the unfinished episodes carried between updates in
``carry`` (``None``: nothing carried).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS

__all__ = ["CEM_DEFAULTS", "STREAM_NAMES", "CEMSchedule", "CEMSettings", "cem_settings"]

# fmt: off
CEM_DEFAULTS: dict[str, Any] = {
    "rollouts": 16,                 # number of rollouts before updating
    "percentile": 0.70,             # percentile to compute the reward bound [0, 1]

    "discount_factor": 0.99,        # discount factor (gamma)

    "learning_rate": 1e-2,                  # learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler (torch: an LR scheduler class; JAX: a schedule factory)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})

    "random_timesteps": 0,          # random exploration steps
    "learning_starts": 0,           # learning starts after this many steps

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
}
# fmt: on

STREAM_NAMES = ("states", "actions", "rewards", "terminated", "truncated")  # what an update reads from the memory


class CEMSettings(NamedTuple):
    """The checked numbers of a merged CEM cfg."""

    rollouts: int
    percentile: float
    discount_factor: float
    learning_rate: float


def cem_settings(cfg: Mapping[str, Any]) -> CEMSettings:
    """The settings of a merged CEM cfg; ``ValueError`` naming the key when one is out of range."""
    rollouts, percentile, gamma = int(cfg["rollouts"]), float(cfg["percentile"]), float(cfg["discount_factor"])
    if rollouts < 1:
        raise ValueError(f"CEM cfg['rollouts'] must be >= 1, got {cfg['rollouts']}")
    if not 0.0 <= percentile <= 1.0:
        raise ValueError(f"CEM cfg['percentile'] must be in [0, 1], got {cfg['percentile']}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"CEM cfg['discount_factor'] must be in [0, 1], got {cfg['discount_factor']}")
    return CEMSettings(rollouts, percentile, gamma, float(cfg["learning_rate"]))


class CEMSchedule:
    """Mixin for a CEM agent (a :class:`steprl.core.agent.Agent` subclass with ``memory`` and ``_rollouts``).

    ``_rollout`` counts the training steps of the current rollout cycle; ``_cut_rows`` lists the memory rows after
    which the trainer abandoned the episodes (they never complete, so the update drops them); ``carry`` holds the
    unfinished episodes the last update carried over.
    """

    memory: Any
    _rollouts: int
    _rollout: int = 0
    carry: Any = None

    def _init_schedule(self) -> None:
        self._rollout = 0
        self._cut_rows: list[int] = []
        self.carry = None

    def _check_memory(self) -> None:
        """``memory_size`` must equal ``rollouts`` (each column of the memory is one environment's time line)."""
        if self.memory.memory_size != self._rollouts:
            raise ValueError(
                f"CEM: memory_size ({self.memory.memory_size}) must equal cfg['rollouts'] ({self._rollouts}); "
                f"use RandomMemory(memory_size={self._rollouts}, num_envs=...)"
            )

    def _take_cut_rows(self) -> list[int]:
        """The abandoned rows of the rollout being updated (the list starts again empty)."""
        rows, self._cut_rows = self._cut_rows, []
        return rows

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Update every ``rollouts`` training steps (the update itself checks whether learning has started)."""
        if self.memory is None:
            return
        self._rollout += 1
        if not self._rollout % self._rollouts:
            self.set_mode("train")  # type: ignore[attr-defined]
            self._update(timestep, timesteps)  # type: ignore[attr-defined]
            self.set_mode("eval")  # type: ignore[attr-defined]

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the training episodes: they never complete, so they are dropped."""
        if self.memory is None:
            return
        if self._rollout % self._rollouts:
            self._cut_rows.append((self.memory.memory_index - 1) % self.memory.memory_size)
        else:
            self.carry = None
