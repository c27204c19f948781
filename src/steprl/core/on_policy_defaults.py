"""Default configurations of the rollout agents (PPO, RPO, A2C), shared by every backend.

skrl 1.4.3's keys and defaults; the JAX agents take them without ``mixed_precision``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS

__all__ = [
    "A2C_DEFAULTS", "IPPO_DEFAULTS", "PPO_DEFAULTS", "RPO_DEFAULTS", "inserted_after", "with_shared_state_preprocessor",
    "without",
]  # fmt: skip

# fmt: off
PPO_DEFAULTS: dict[str, Any] = {
    "rollouts": 16,                 # number of rollouts before updating
    "learning_epochs": 8,           # number of learning epochs during each update
    "mini_batches": 2,              # number of mini batches during each learning epoch

    "discount_factor": 0.99,        # discount factor (gamma)
    "lambda": 0.95,                 # TD(lambda) coefficient (lam) for computing returns and advantages

    "learning_rate": 1e-3,                  # learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler class (torch: an LR scheduler class; JAX: a schedule factory)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})
    "value_preprocessor": None,             # value preprocessor class (see steprl.resources.preprocessors)
    "value_preprocessor_kwargs": {},        # value preprocessor's kwargs (e.g. {"size": 1})

    "random_timesteps": 0,          # random exploration steps
    "learning_starts": 0,           # learning starts after this many steps

    "grad_norm_clip": 0.5,              # clipping coefficient for the norm of the gradients
    "ratio_clip": 0.2,                  # clipping coefficient for computing the clipped surrogate objective
    "value_clip": 0.2,                  # clipping coefficient for computing the value loss (if clip_predicted_values is True)
    "clip_predicted_values": False,     # clip predicted values during value loss computation

    "entropy_loss_scale": 0.0,      # entropy loss scaling factor
    "value_loss_scale": 1.0,        # value loss scaling factor

    "kl_threshold": 0,              # KL divergence threshold for early stopping

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward
    "time_limit_bootstrap": False,  # accepted for skrl compatibility: steprl always bootstraps truncated episodes

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
}
# fmt: on



def without(defaults: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """A deep copy of ``defaults`` without ``keys`` (e.g. the JAX agents drop ``mixed_precision``)."""
    return copy.deepcopy({key: value for key, value in defaults.items() if key not in keys})


def inserted_after(defaults: Mapping[str, Any], anchor: str, **items: Any) -> dict[str, Any]:
    """A deep copy of ``defaults`` with ``items`` added right after the key ``anchor``."""
    result: dict[str, Any] = {}
    for key, value in defaults.items():
        result[key] = copy.deepcopy(value)
        if key == anchor:
            result.update(items)
    return result


# A2C: one pass over the rollout (no epochs, no clipping, no value-loss scale, no KL stop), one mini-batch
A2C_DEFAULTS: dict[str, Any] = {
    **without(PPO_DEFAULTS, "learning_epochs", "ratio_clip", "value_clip", "clip_predicted_values", "value_loss_scale", "kl_threshold"),
    "mini_batches": 1,  # number of mini batches to use for updating
}

# RPO: PPO plus the uniform perturbation U(-alpha, alpha) of the policy's mean actions
RPO_DEFAULTS: dict[str, Any] = inserted_after(PPO_DEFAULTS, "mini_batches", alpha=0.5)

# IPPO: PPO plus the steprl key "append_agent_id": append a one-hot agent id to the policy/value inputs (for
# parameter sharing)
IPPO_DEFAULTS: dict[str, Any] = inserted_after(PPO_DEFAULTS, "mixed_precision", append_agent_id=False)


def with_shared_state_preprocessor(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """MAPPO's keys: a deep copy of ``defaults`` (IPPO's) plus the global state's preprocessor and its kwargs, placed
    before the value preprocessor."""
    result: dict[str, Any] = {}
    for key, value in defaults.items():
        if key == "value_preprocessor":
            result["shared_state_preprocessor"] = None  # preprocessor class of the global state
            result["shared_state_preprocessor_kwargs"] = {}  # its kwargs (e.g. {"size": env.state_space})
        result[key] = copy.deepcopy(value)
    return result
