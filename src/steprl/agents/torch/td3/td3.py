"""Twin Delayed DDPG (Fujimoto et al., 2018): DDPG plus clipped double-Q learning, target policy smoothing and
delayed policy/target updates. Built on :class:`~steprl.agents.torch.ddpg.ddpg.DeterministicActorCritic`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl import logger
from steprl.agents.torch.ddpg.ddpg import DeterministicActorCritic, _check_noise_device
from steprl.agents.torch.td3.losses import clipped_double_q_target, smoothed_target_actions
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.off_policy import check_noise
from steprl.core.off_policy_defaults import TD3_DEFAULTS

__all__ = ["TD3", "TD3_DEFAULT_CONFIG"]

TD3_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(TD3_DEFAULTS)


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
        check_noise(self._smooth_noise, "['smooth_regularization_noise']", "TD3")
        _check_noise_device(self._smooth_noise, self.device, "['smooth_regularization_noise']", "TD3")
        if self._smooth_clip < 0:
            raise ValueError(f"TD3 cfg['smooth_regularization_clip'] must be >= 0, got {self._smooth_clip}")
        if self._smooth_noise is None and memory is not None:
            logger.warning("TD3: cfg['smooth_regularization_noise'] is None: no target policy smoothing")

    def _target_values(self, rewards: torch.Tensor, next_states: torch.Tensor, terminated: torch.Tensor) -> torch.Tensor:
        """Clipped double-Q target with target policy smoothing."""
        with torch.no_grad(), self._autocast():
            next_actions = self.target_policy.act(self._model_inputs(next_states, "next_states"), role="target_policy")[0]
            if self._smooth_noise is not None:
                noise = self._smooth_noise.sample(next_actions.shape)
                next_actions = smoothed_target_actions(next_actions, noise, self._smooth_clip, self._low, self._high)
            next_q = self._target_group({**self._model_inputs(next_states, "next_states"), "taken_actions": next_actions})
            return clipped_double_q_target(rewards, terminated, next_q, self._discount_factor)
