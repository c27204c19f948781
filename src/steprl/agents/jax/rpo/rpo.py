"""Robust Policy Optimization (JAX): PPO whose policy mean is perturbed by uniform noise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steprl.agents.jax.ppo.ppo import PPO
from steprl.core.cfg import DefaultConfig
from steprl.core.on_policy_defaults import RPO_DEFAULTS, without

__all__ = ["RPO", "RPO_DEFAULT_CONFIG"]

RPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(RPO_DEFAULTS, "mixed_precision"))


class RPO(PPO):
    """Robust Policy Optimization: PPO whose policy receives ``inputs["alpha"]`` (the cfg's ``alpha``).

    The policy model applies the perturbation itself, as in skrl: in ``__call__``, ``mean + U(-alpha, alpha)`` drawn
    with ``inputs["key"]`` when ``"alpha"`` is in the inputs. The agent passes ``alpha`` when acting in training mode
    and in every update-time pass; evaluation never passes it. The log-probability of each training action under
    the perturbed distribution it was sampled from is stored with the transition (a fresh perturbation at update
    time would not reproduce it).
    """

    _store_log_prob = True

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._alpha = float(self.cfg["alpha"])
        if self._alpha < 0:
            raise ValueError(f"RPO cfg['alpha'] must be >= 0, got {self._alpha}")
        self._act_log_prob: Any = None

    @classmethod
    def _default_config(cls) -> Mapping[str, Any]:
        return RPO_DEFAULT_CONFIG

    @classmethod
    def _cfg_name(cls) -> str:
        return "RPO"

    def _policy_extras(self, training: bool) -> dict[str, Any]:
        return {"alpha": self._alpha} if training else {}

    def _acted(self, log_prob: Any) -> None:
        if self.training and self.memory is not None:
            self._act_log_prob = log_prob

    def _transition_samples(self) -> Mapping[str, Any]:
        samples = dict(super()._transition_samples())
        if self._act_log_prob is not None:
            samples["log_prob"] = self._act_log_prob
            self._act_log_prob = None
        return samples
