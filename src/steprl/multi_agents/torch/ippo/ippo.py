"""Independent PPO (de Witt et al., 2020): one PPO learner per agent, each value seeing its agent's observation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.multi_agents.torch.rollout import MultiAgentRollout

__all__ = ["IPPO", "IPPO_DEFAULT_CONFIG"]

# fmt: off
IPPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "rollouts": 16,                 # number of rollouts before updating
    "learning_epochs": 8,           # number of learning epochs during each update
    "mini_batches": 2,              # number of mini batches during each learning epoch

    "discount_factor": 0.99,        # discount factor (gamma)
    "lambda": 0.95,                 # TD(lambda) coefficient (lam) for computing returns and advantages

    "learning_rate": 1e-3,                  # learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler class (see torch.optim.lr_scheduler)
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

    "append_agent_id": False,       # steprl: append a one-hot agent id to the policy/value inputs (parameter sharing)

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
})
# fmt: on


class IPPO(MultiAgentRollout):
    """Independent PPO: every agent learns its own policy and value from its own observations.

    Hyperparameters may be given per agent as dicts keyed by uid (e.g. ``cfg["learning_rate"] = {"agent_0": 1e-3,
    "agent_1": 3e-4}``). Agents given the same policy and value objects share parameters: they are trained together
    on all their data (see ``cfg["append_agent_id"]``).
    """

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Any = None,
        action_spaces: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(IPPO_DEFAULT_CONFIG, cfg, where="IPPO cfg")
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg, "IPPO")
