"""Backend-neutral schedule of the rollout agents (PPO, RPO, A2C, TRPO on every backend).

An update runs at the end of every rollout (``rollouts`` training steps) once learning has started; checkpoints
keep the position in the rollout; when the trainer abandons the episodes in progress, the last stored step is
marked truncated. The backend supplies the update (``_update``) and the one array write
(:meth:`RolloutSchedule._truncate_row`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RolloutSchedule", "rollout_settings"]


def rollout_settings(cfg: Mapping[str, Any], name: str) -> tuple[int, int, int]:
    """``(rollouts, learning_epochs, mini_batches)`` of a merged cfg (``learning_epochs`` 1 when absent, as A2C),
    each checked to be >= 1."""
    for key in ("rollouts", "learning_epochs", "mini_batches"):
        if key in cfg and int(cfg[key]) < 1:
            raise ValueError(f"{name} cfg['{key}'] must be >= 1, got {cfg[key]}")
    return int(cfg["rollouts"]), int(cfg.get("learning_epochs", 1)), int(cfg["mini_batches"])


class RolloutSchedule:
    """Mixin for a :class:`steprl.core.agent.Agent` subclass with ``memory``, ``_rollouts``, ``_mini_batches`` and
    ``_name``; it counts ``_rollout`` (training steps stored since the agent was created)."""

    memory: Any
    _rollouts: int
    _mini_batches: int
    _name: str
    _rollout: int = 0

    def _check_rollout_memory(self) -> None:
        """``memory_size`` must equal ``rollouts`` and the rollout must hold at least ``mini_batches`` samples."""
        name = self._name
        if self.memory.memory_size != self._rollouts:
            raise ValueError(
                f"{name}: memory_size ({self.memory.memory_size}) must equal cfg['rollouts'] ({self._rollouts}); "
                f"use RandomMemory(memory_size={self._rollouts}, num_envs=...)"
            )
        samples = self.memory.memory_size * self.memory.num_envs
        if self._mini_batches > samples:
            raise ValueError(
                f"{name}: cfg['mini_batches'] ({self._mini_batches}) exceeds the rollout size ({samples} samples)"
            )

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Update at the end of every rollout (``rollouts`` training steps) once learning has started."""
        if self.memory is None:
            return
        self._rollout += 1
        if not self._rollout % self._rollouts and self._learning_started():  # type: ignore[attr-defined]
            self.set_mode("train")  # type: ignore[attr-defined]
            self._update(timestep, timesteps)  # type: ignore[attr-defined]
            self.set_mode("eval")  # type: ignore[attr-defined]

    def _checkpoint_meta(self) -> dict[str, Any]:
        return {**super()._checkpoint_meta(), "rollout": self._rollout}  # type: ignore[misc]

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        """Continue the stored rollout; the episodes it was collecting cannot continue, so its last step counts as
        truncated (it bootstraps from its stored next observation)."""
        super()._restore_meta(meta)  # type: ignore[misc]
        if "rollout" in meta and self.memory is not None:
            self._rollout = int(meta["rollout"])
            self.interrupt_episodes()

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the episodes in progress (mode switch): mark the last stored step as truncated.

        The rollout then bootstraps from that step's next observation and GAE does not chain it to the fresh
        episode that follows.
        """
        if self.memory is None or not self._rollout % self._rollouts:
            return
        self._truncate_row((self.memory.memory_index - 1) % self.memory.memory_size)

    def _truncate_row(self, row: int) -> None:
        """Set ``truncated`` of every sub-environment at memory row ``row``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _truncate_row()")
