"""Backend-neutral parts of the replay-based agents (SAC, TD3, DDPG, DQN, DDQN on every backend).

- the replay schema: what a transition stores and what a batch reads (truncation needs no special case in a target:
  only termination stops the bootstrap, and the TRUE next observation is stored);
- the validated replay settings of a merged config (``gradient_steps``, ``batch_size``, ``discount_factor``,
  ``polyak``);
- the learning schedule (updates once ``learning_starts`` training steps are counted, see :class:`ReplaySchedule`);
- the exploration-noise settings and their linear scale schedule in training steps (DDPG, TD3);
- SAC's default target entropy and the flat bounds of a Box action space.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

__all__ = [
    "BATCH_NAMES",
    "REPLAY_NAMES",
    "ExplorationSettings",
    "ReplaySchedule",
    "ReplaySettings",
    "box_bounds",
    "default_target_entropy",
    "discrete_actions",
    "exploration_settings",
    "replay_settings",
]

REPLAY_NAMES = ("states", "actions", "rewards", "next_states", "terminated", "truncated")
BATCH_NAMES = REPLAY_NAMES[:5]  # truncated transitions bootstrap like any other: a batch needs no truncation flag


@dataclass(frozen=True)
class ReplaySettings:
    """The update-size settings every replay agent reads from its merged config."""

    gradient_steps: int
    batch_size: int
    discount_factor: float
    polyak: float


def replay_settings(cfg: Mapping[str, Any], owner: str) -> ReplaySettings:
    """Validated :class:`ReplaySettings` of a merged cfg (``gradient_steps``/``batch_size`` >= 1, ``polyak`` in
    [0, 1]; missing keys: 1, 1, required, 1.0)."""
    for key in ("gradient_steps", "batch_size"):
        if key in cfg and int(cfg[key]) < 1:
            raise ValueError(f"{owner} cfg['{key}'] must be >= 1, got {cfg[key]}")
    polyak = float(cfg.get("polyak", 1.0))
    if not 0.0 <= polyak <= 1.0:
        raise ValueError(f"{owner} cfg['polyak'] must be in [0, 1], got {polyak}")
    return ReplaySettings(
        int(cfg.get("gradient_steps", 1)), int(cfg.get("batch_size", 1)), float(cfg["discount_factor"]), polyak
    )


class ReplaySchedule:
    """Mixin for a :class:`steprl.core.agent.Agent` subclass: an update (``_update``) at every training step once
    learning has started (``training_steps > learning_starts``) and :meth:`_can_learn` allows it."""

    memory: Any
    _learning_started: Any  # core.agent.Agent's: training_steps > learning_starts

    def _can_learn(self) -> bool:
        """Whether an update runs at this training step (DQN adds its ``update_interval``)."""
        return True

    def _should_update(self) -> bool:
        """A memory to learn from, learning started, and :meth:`_can_learn`."""
        return self.memory is not None and self._learning_started() and self._can_learn()


@dataclass
class ExplorationSettings:
    """``cfg["exploration"]`` of DDPG/TD3: the noise and its scale, linear from ``initial_scale`` to ``final_scale``
    over ``window`` training steps, then ``final_scale``."""

    noise: Any
    initial_scale: float
    final_scale: float
    window: int | None  # None: resolved from the trainer's timesteps (resolve_window)

    def resolve_window(self, trainer_cfg: Mapping[str, Any] | None) -> None:
        """An unset window becomes the trainer's ``timesteps`` (if it has any)."""
        if self.window is None:
            timesteps = int(dict(trainer_cfg or {}).get("timesteps", 0) or 0)
            self.window = timesteps if timesteps > 0 else None

    def scale(self, training_steps: int, timesteps: int | None = None) -> float:
        """Noise scale at ``training_steps`` (random steps included). Without a window, the ``timesteps`` given to
        ``act``; none (or 0): ``final_scale`` throughout."""
        window = self.window
        if window is None:
            window = int(timesteps) if timesteps else 0
        if window <= 0:
            return self.final_scale
        fraction = max(0.0, 1.0 - training_steps / window)
        return self.final_scale + (self.initial_scale - self.final_scale) * fraction


def exploration_settings(exploration: Mapping[str, Any], owner: str) -> ExplorationSettings:
    """Validated :class:`ExplorationSettings` of a merged ``cfg["exploration"]`` (the noise must have
    ``sample(shape)`` or be ``None``)."""
    noise = exploration["noise"]
    check_noise(noise, "['exploration']['noise']", owner)
    window = exploration["timesteps"]
    if window is not None and int(window) < 0:
        raise ValueError(f"{owner} cfg['exploration']['timesteps'] must be >= 0 or None, got {window}")
    return ExplorationSettings(
        noise, float(exploration["initial_scale"]), float(exploration["final_scale"]), None if window is None else int(window)
    )


def check_noise(noise: Any, key: str, owner: str) -> None:
    """A noise is ``None`` or has a ``sample(shape)`` method (``TypeError`` naming the key otherwise)."""
    if noise is not None and not callable(getattr(noise, "sample", None)):
        raise TypeError(
            f"{owner} cfg{key} must be a noise with a sample(shape) method (e.g. GaussianNoise) or None, "
            f"got {type(noise).__name__}"
        )


def default_target_entropy(action_space: Any) -> float:
    """SAC's target entropy: ``-prod(shape)`` for a Box action space, ``-n`` for Discrete, else 0."""
    if isinstance(action_space, gymnasium.spaces.Box):
        return -float(np.prod(action_space.shape))
    if isinstance(action_space, gymnasium.spaces.Discrete):
        return -float(action_space.n)
    return 0.0


def box_bounds(action_space: Any) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Flat float32 ``(low, high)`` of a Box action space (``(None, None)`` for anything else)."""
    if not isinstance(action_space, gymnasium.spaces.Box):
        return None, None
    low = np.asarray(action_space.low, dtype=np.float32).reshape(-1)
    high = np.asarray(action_space.high, dtype=np.float32).reshape(-1)
    return low, high


def discrete_actions(action_space: Any) -> bool:
    """Whether actions are stored as integers (a space with ``n`` and no ``low``: Discrete)."""
    return getattr(action_space, "n", None) is not None and not hasattr(action_space, "low")
