"""Twin Delayed DDPG (Fujimoto et al., 2018): DDPG plus clipped double-Q learning, target policy smoothing and
delayed policy/target updates. Built on :class:`~steprl.agents.torch.ddpg.ddpg.DeterministicActorCritic`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl import logger
from steprl.agents.torch.ddpg.ddpg import DeterministicActorCritic, _check_noise, _check_noise_device
from steprl.agents.torch.td3.losses import clipped_double_q_target, smoothed_target_actions
from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS
from steprl.core.cfg import DefaultConfig, merge_config

__all__ = ["TD3", "TD3_DEFAULT_CONFIG"]

# fmt: off
TD3_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "gradient_steps": 1,            # gradient steps
    "batch_size": 64,               # training batch size

    "discount_factor": 0.99,        # discount factor (gamma)
    "polyak": 0.005,                # soft update hyperparameter (tau)

    "actor_learning_rate": 1e-3,    # actor learning rate
    "critic_learning_rate": 1e-3,   # critic learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler class (see torch.optim.lr_scheduler)
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

    "policy_delay": 2,                      # policy delay update with respect to critic update
    "smooth_regularization_noise": None,    # smooth noise for regularization (e.g. GaussianNoise); None: no smoothing
    "smooth_regularization_clip": 0.5,      # clip for smooth regularization

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward

    "mixed_precision": False,       # enable automatic mixed precision for higher performance

    "checkpoint_memory": False,     # steprl: also store the replay memory in checkpoints

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
})
# fmt: on


class TD3(DeterministicActorCritic):
    """Twin Delayed DDPG.

    Roles: ``policy``, ``target_policy``, ``critic_1``, ``critic_2``, ``target_critic_1``, ``target_critic_2``
    (targets frozen and hard-copied here). Every gradient step updates both critics (one optimizer, loss
    ``(MSE_1 + MSE_2) / 2``) towards ``r + γ·(1 - terminated)·min_i Q'_i(s', ã')`` with the smoothed target action
    ``ã' = clamp(π'(s') + clamp(ε, ±smooth_regularization_clip), low, high)``, ``ε ~ smooth_regularization_noise``;
    every ``policy_delay``-th critic update also takes a policy step on ``-Q_1(s, π(s))`` and soft-updates all
    targets. The critic-update counter is checkpointed, so a resumed run keeps its phase.
    """

    _CRITICS = ("critic_1", "critic_2")

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(TD3_DEFAULT_CONFIG, cfg, where="TD3 cfg")
        super().__init__(
            models, memory, observation_space, action_space, device, cfg, name="TD3", policy_delay=cfg["policy_delay"]
        )
        self.critic_1, self.critic_2 = self.critics
        self.target_critic_1, self.target_critic_2 = self.target_critics
        self._smooth_noise = self.cfg["smooth_regularization_noise"]
        self._smooth_clip = float(self.cfg["smooth_regularization_clip"])
        _check_noise(self._smooth_noise, "['smooth_regularization_noise']", "TD3")
        _check_noise_device(self._smooth_noise, self.device, "['smooth_regularization_noise']", "TD3")
        if self._smooth_clip < 0:
            raise ValueError(f"TD3 cfg['smooth_regularization_clip'] must be >= 0, got {self._smooth_clip}")
        if self._smooth_noise is None and memory is not None:
            logger.warning("TD3: cfg['smooth_regularization_noise'] is None: no target policy smoothing")

    def _target_values(self, rewards: torch.Tensor, next_states: torch.Tensor, terminated: torch.Tensor) -> torch.Tensor:
        """Clipped double-Q target with target policy smoothing."""
        with torch.no_grad(), self._autocast():
            next_actions = self.target_policy.act({"states": next_states}, role="target_policy")[0]
            if self._smooth_noise is not None:
                noise = self._smooth_noise.sample(next_actions.shape)
                next_actions = smoothed_target_actions(next_actions, noise, self._smooth_clip, self._low, self._high)
            next_q = [
                critic.act({"states": next_states, "taken_actions": next_actions}, role=role)[0]
                for critic, role in zip(self.target_critics, ("target_critic_1", "target_critic_2"))
            ]
            return clipped_double_q_target(rewards, terminated, next_q, self._discount_factor)
