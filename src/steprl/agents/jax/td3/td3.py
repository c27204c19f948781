"""Twin Delayed DDPG (JAX): DDPG plus clipped double-Q learning, target policy smoothing and delayed policy/target
updates, on :class:`~steprl.agents.jax.ddpg.ddpg.DeterministicActorCritic`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from steprl import logger
from steprl.agents.jax.ddpg.ddpg import DeterministicActorCritic
from steprl.agents.jax.td3.losses import smoothed_target_actions
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.off_policy import check_noise
from steprl.core.off_policy_defaults import TD3_DEFAULTS
from steprl.core.on_policy_defaults import without
from steprl.resources.noises.jax import GaussianNoise

__all__ = ["TD3", "TD3_DEFAULT_CONFIG"]

TD3_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(TD3_DEFAULTS, "mixed_precision"))


def _gaussian_parameters(noise: Any) -> tuple[float, float] | None:
    """``(mean, std)`` of a JAX ``GaussianNoise`` (``TypeError`` for any other noise: the smoothing noise is drawn
    inside the jitted update, from the agent's key, with these parameters)."""
    if noise is None:
        return None
    check_noise(noise, "['smooth_regularization_noise']", "TD3")
    if not isinstance(noise, GaussianNoise):
        raise TypeError(
            "TD3 (JAX) cfg['smooth_regularization_noise'] must be a GaussianNoise (its mean and std are sampled inside "
            f"the jitted update), got {type(noise).__name__}"
        )
    return noise.mean, noise.std


class TD3(DeterministicActorCritic):
    """Twin Delayed DDPG.

    Roles: ``policy``, ``target_policy``, ``critic_1``, ``critic_2``, ``target_critic_1``, ``target_critic_2``
    (targets hard-copied here). Every gradient step updates both critics (loss ``(MSE_1 + MSE_2) / 2``, gradients
    clipped jointly) towards ``r + γ·(1 - terminated)·min_i Q'_i(s', ã')`` with the smoothed target action
    ``ã' = clip(π'(s') + clip(ε, ±smooth_regularization_clip), low, high)``, ``ε ~ smooth_regularization_noise``
    (drawn in the jitted update from the agent's key); every ``policy_delay``-th critic update also takes a policy
    step on ``-Q_1(s, π(s))`` and soft-updates all targets. The critic-update counter is checkpointed, so a resumed
    run keeps its phase. Checkpoint modules: the six models, ``policy_optimizer``, ``critic_1_optimizer`` and
    ``critic_2_optimizer``.
    """

    _CRITICS = ("critic_1", "critic_2")

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(TD3_DEFAULT_CONFIG, cfg, where="TD3 cfg")
        self._smooth = _gaussian_parameters(cfg["smooth_regularization_noise"])
        self._smooth_clip = float(cfg["smooth_regularization_clip"])
        if self._smooth_clip < 0:
            raise ValueError(f"TD3 cfg['smooth_regularization_clip'] must be >= 0, got {self._smooth_clip}")
        super().__init__(
            models, memory, observation_space, action_space, device, cfg, name="TD3", policy_delay=cfg["policy_delay"]
        )
        if self._smooth is None and memory is not None:
            logger.warning("TD3: cfg['smooth_regularization_noise'] is None: no target policy smoothing")
        self.critic_1, self.critic_2 = self.models.get("critic_1"), self.models.get("critic_2")
        self.target_critic_1, self.target_critic_2 = self.models.get("target_critic_1"), self.models.get("target_critic_2")

    def _next_actions(self, params: Mapping[str, Any], next_states: jax.Array, key: jax.Array) -> jax.Array:
        """Target policy smoothing: Gaussian noise, clipped, added to the target actions, clipped to the bounds."""
        actions = super()._next_actions(params, next_states, key)
        if self._smooth is None:
            return actions
        mean, std = self._smooth
        noise = mean + std * jax.random.normal(key, actions.shape, actions.dtype)
        low, high = self._bounds if self._bounds is not None else (None, None)
        return smoothed_target_actions(actions, noise, self._smooth_clip, low, high)
