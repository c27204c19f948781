"""Backend-neutral parts of DQN and double DQN (every backend): the default config, the checked settings, the
exploration rate and the schedule of updates and target updates, all counted in the agent's training steps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS

__all__ = ["DQN_DEFAULTS", "DQN_ROLES", "DQNSettings", "dqn_settings"]

# fmt: off
DQN_DEFAULTS: dict[str, Any] = {
    "gradient_steps": 1,            # gradient steps per update
    "batch_size": 64,               # training batch size

    "discount_factor": 0.99,        # discount factor (gamma)
    "polyak": 0.005,                # soft update hyperparameter (tau); 1 = hard copy

    "learning_rate": 1e-3,                  # learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler (torch: an LR scheduler class; JAX: a schedule factory)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})

    "random_timesteps": 0,          # random exploration steps (training steps)
    "learning_starts": 0,           # learning starts after this many training steps

    "update_interval": 1,           # training steps between updates (each of gradient_steps steps)
    "target_update_interval": 10,   # training steps between (polyak) target network updates

    "exploration": {
        "initial_epsilon": 1.0,     # initial epsilon for epsilon-greedy exploration
        "final_epsilon": 0.05,      # final epsilon for epsilon-greedy exploration
        "timesteps": 1000,          # epsilon decay time constant: eps = final + (initial - final) * exp(-t / timesteps)
    },

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "checkpoint_memory": False,     # steprl: also store the replay memory in checkpoints (to resume training exactly)

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
}
# fmt: on

DQN_ROLES = ("q_network", "target_q_network")


@dataclass(frozen=True)
class DQNSettings:
    """The checked DQN-specific numbers of a merged cfg."""

    learning_rate: float
    update_interval: int
    target_update_interval: int
    initial_epsilon: float
    final_epsilon: float
    exploration_timesteps: float  # 0: always greedy

    def epsilon(self, training_steps: int) -> float:
        """The exploration rate at ``training_steps``: ``final + (initial - final)·exp(-t / timesteps)`` (0 when
        ``exploration.timesteps`` is falsy)."""
        if not self.exploration_timesteps:
            return 0.0
        decay = math.exp(-training_steps / self.exploration_timesteps)
        return self.final_epsilon + (self.initial_epsilon - self.final_epsilon) * decay

    def updates_at(self, training_steps: int) -> bool:
        """Whether this training step has gradient steps (every ``update_interval`` training steps)."""
        return not training_steps % self.update_interval

    def target_update_at(self, training_steps: int) -> bool:
        """Whether this training step updates the target network (every ``target_update_interval`` steps)."""
        return not training_steps % self.target_update_interval


def dqn_settings(cfg: Mapping[str, Any], name: str) -> DQNSettings:
    """The settings of a merged DQN/DDQN cfg; ``ValueError`` naming the key when one is out of range."""
    for key in ("update_interval", "target_update_interval"):
        if int(cfg[key]) < 1:
            raise ValueError(f"{name} cfg['{key}'] must be >= 1, got {cfg[key]}")
    exploration = cfg["exploration"]
    for key in ("initial_epsilon", "final_epsilon"):
        if not 0.0 <= float(exploration[key]) <= 1.0:
            raise ValueError(f"{name} cfg['exploration']['{key}'] must be in [0, 1], got {exploration[key]}")
    timesteps = float(exploration["timesteps"] or 0)
    if timesteps < 0:
        raise ValueError(f"{name} cfg['exploration']['timesteps'] must be >= 0 or None, got {exploration['timesteps']}")
    return DQNSettings(
        float(cfg["learning_rate"]), int(cfg["update_interval"]), int(cfg["target_update_interval"]),
        float(exploration["initial_epsilon"]), float(exploration["final_epsilon"]), timesteps,
    )  # fmt: skip
