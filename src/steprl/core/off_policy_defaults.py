"""Default configurations of the replay agents (SAC, TD3, DDPG), shared by every backend.

skrl 1.4.3's keys and defaults plus steprl's ``checkpoint_memory``; the JAX agents take them without
``mixed_precision``.
"""

from __future__ import annotations

from typing import Any

from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS
from steprl.core.on_policy_defaults import inserted_after

__all__ = ["DDPG_DEFAULTS", "SAC_DEFAULTS", "TD3_DEFAULTS"]

# fmt: off
SAC_DEFAULTS: dict[str, Any] = {
    "gradient_steps": 1,            # gradient steps
    "batch_size": 64,               # training batch size

    "discount_factor": 0.99,        # discount factor (gamma)
    "polyak": 0.005,                # soft update hyperparameter (tau)

    "actor_learning_rate": 1e-3,    # actor learning rate
    "critic_learning_rate": 1e-3,   # critic learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler (torch: an LR scheduler class; JAX: a schedule factory)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})

    "random_timesteps": 0,          # random exploration steps (training steps only)
    "learning_starts": 0,           # learning starts after this many training steps

    "grad_norm_clip": 0,            # clipping coefficient for the norm of the gradients

    "learn_entropy": True,          # learn entropy
    "entropy_learning_rate": 1e-3,  # entropy learning rate
    "initial_entropy_value": 0.2,   # initial entropy value
    "target_entropy": None,         # target entropy (None: -prod(action shape) for Box, -n for Discrete, else 0)

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "checkpoint_memory": False,     # steprl: also store the replay memory in checkpoints (exact resumption)

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
}

DDPG_DEFAULTS: dict[str, Any] = {
    "gradient_steps": 1,            # gradient steps
    "batch_size": 64,               # training batch size

    "discount_factor": 0.99,        # discount factor (gamma)
    "polyak": 0.005,                # soft update hyperparameter (tau)

    "actor_learning_rate": 1e-3,    # actor learning rate
    "critic_learning_rate": 1e-3,   # critic learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler (torch: an LR scheduler class; JAX: a schedule factory)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})

    "random_timesteps": 0,          # random exploration steps (training steps)
    "learning_starts": 0,           # learning starts after this many training steps

    "grad_norm_clip": 0,            # clipping coefficient for the norm of the gradients

    "exploration": {
        "noise": None,              # exploration noise (e.g. GaussianNoise); None: no noise
        "initial_scale": 1.0,       # initial scale for the noise
        "final_scale": 1e-3,        # final scale for the noise (kept after the exploration window)
        "timesteps": None,          # training steps over which the scale decays (None: the trainer's timesteps)
    },

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "checkpoint_memory": False,     # steprl: also store the replay memory in checkpoints

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
}
# fmt: on

# TD3: DDPG's keys plus the delayed policy update and the target policy smoothing, right after "exploration"
TD3_DEFAULTS: dict[str, Any] = inserted_after(
    DDPG_DEFAULTS,
    "exploration",
    policy_delay=2,  # policy delay update with respect to critic update
    smooth_regularization_noise=None,  # smooth noise for regularization (e.g. GaussianNoise); None: no smoothing
    smooth_regularization_clip=0.5,  # clip for smooth regularization
)
