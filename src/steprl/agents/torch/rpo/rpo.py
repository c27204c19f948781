"""Robust Policy Optimization (Rahman & Xue, 2022): PPO whose policy mean is perturbed by uniform noise."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from steprl.agents.torch.ppo.ppo import PPO
from steprl.core.cfg import DefaultConfig
from steprl.core.on_policy_defaults import RPO_DEFAULTS

__all__ = ["RPO", "RPO_DEFAULT_CONFIG"]

RPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(RPO_DEFAULTS)


class RPO(PPO):
    """Robust Policy Optimization: PPO whose policy receives ``inputs["alpha"]`` (the cfg's ``alpha``).

    The policy model applies the perturbation itself, as in skrl: in ``compute``, ``mean + U(-alpha, alpha)`` when
    ``"alpha"`` is in the inputs. The agent passes ``alpha`` when acting in training mode and in every update-time
    pass; evaluation (``agent.training`` False) never passes it, so deterministic evaluation uses the unperturbed mean.

    The log-probability of each training action under the (perturbed) distribution it was sampled from is kept from
    ``act`` and stored with the transition (a fresh perturbation at update time would not reproduce it); values and
    next values are computed in one batched pass at update time, as in PPO.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._alpha = float(self.cfg["alpha"])
        if self._alpha < 0:
            raise ValueError(f"RPO cfg['alpha'] must be >= 0, got {self._alpha}")
        self._act_log_prob: torch.Tensor | None = None  # log-prob of the last training actions (stored with them)

    @classmethod
    def _default_config(cls) -> Mapping[str, Any]:
        return RPO_DEFAULT_CONFIG

    @classmethod
    def _cfg_name(cls) -> str:
        return "RPO"

    # ------------------------------------------------------------------ interaction
    def _act_inputs(self, states: torch.Tensor) -> dict[str, Any]:
        inputs = super()._act_inputs(states)
        if self.training:
            inputs["alpha"] = self._alpha
        return inputs

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[torch.Tensor, Any, dict[str, Any]]:
        """PPO's ``act`` with ``alpha`` in training mode; the actions' log-probability is kept for storage (for random
        actions: their log-probability under the perturbed policy)."""
        actions, log_prob, outputs = super().act(states, timestep, timesteps)
        if self.training and self.memory is not None:
            if log_prob is None:
                inputs = {**self._act_inputs(states), "taken_actions": actions}
                with torch.no_grad(), self._autocast():
                    _, log_prob, _ = self.policy.act(inputs, role="policy")
            self._act_log_prob = log_prob.detach().float()
        return actions, log_prob, outputs

    def _transition_samples(self) -> Mapping[str, torch.Tensor]:
        samples = dict(super()._transition_samples())
        if self._act_log_prob is not None:
            samples["log_prob"] = self._act_log_prob
            self._act_log_prob = None
        return samples

    # ------------------------------------------------------------------ learning
    def _rollout_policy_inputs(self) -> dict[str, Any]:
        return {"alpha": self._alpha}

    @torch.no_grad()
    def _evaluate_rollout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """PPO's batched values and next values; the old log-probs are those stored at acting time."""
        values, next_values, _ = super()._evaluate_rollout()
        log_prob = self.memory.get_tensor_by_name("log_prob").float()
        return values, next_values, log_prob

    def _minibatches(self) -> Iterator[tuple[list[torch.Tensor], dict[str, Any], dict[str, Any]]]:
        for batch, policy_inputs, value_inputs in super()._minibatches():
            yield batch, {**policy_inputs, "alpha": self._alpha}, value_inputs
