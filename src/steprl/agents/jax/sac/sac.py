"""Soft Actor-Critic (JAX): every gradient step of an update runs inside one jitted ``lax.scan``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

from steprl.agents.jax.off_policy import OffPolicyAgent, ReplayBatch, ReplayState, polyak_update
from steprl.agents.jax.sac.losses import sac_critic_loss, sac_critic_target, sac_entropy_loss, sac_policy_loss
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.off_policy import default_target_entropy
from steprl.core.off_policy_defaults import SAC_DEFAULTS
from steprl.core.on_policy_defaults import without
from steprl.core.roles import check_model_roles, require_model
from steprl.models.jax.base import Model, StateDict

__all__ = ["SAC", "SAC_DEFAULT_CONFIG", "LogEntropyCoefficient"]

SAC_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(SAC_DEFAULTS, "mixed_precision"))

_ROLES = ("policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2")
_LEARNING_ROLES = _ROLES[1:]
_OPTIMIZERS = {"critic_1": "critic_1_optimizer", "critic_2": "critic_2_optimizer"}


class LogEntropyCoefficient(Model):
    """The learned ``log α`` as a parameter holder (``state_dict.params == {"log_alpha": ()}``), so that checkpoints
    store it (skrl loses it when a run is resumed) and Adam steps it like a model."""

    def __init__(self, initial_value: float, device: Any = None) -> None:
        Model.__init__(self, None, None, device)
        params = {"log_alpha": jax.device_put(jnp.asarray(math.log(initial_value), dtype=jnp.float32), self.device)}
        self.state_dict = StateDict.create(apply_fn=None, params=params)

    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> Any:
        raise TypeError("LogEntropyCoefficient holds a parameter; it has no forward pass")


class SAC(OffPolicyAgent):
    """Soft Actor-Critic.

    Each gradient step (``gradient_steps`` per training step once ``learning_starts`` training steps are counted):
    critic step on the soft Bellman target of the target critics (termination only stops the bootstrap), policy step
    on ``α·log π − min(Q1, Q2)`` with the updated critics, temperature step towards ``target_entropy``
    (``learn_entropy``), then polyak averaging of the targets. Checkpoint modules: the five models,
    ``policy_optimizer``, ``critic_1_optimizer``, ``critic_2_optimizer``, ``entropy_optimizer`` and the learned
    ``log_entropy_coefficient``. The policy's ``act_pure(params, inputs, role, key)`` must return the
    log-probability of its reparameterised sample (a :class:`~steprl.models.jax.GaussianMixin` policy does).
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(SAC_DEFAULT_CONFIG, cfg, where="SAC cfg")
        check_model_roles(models, _ROLES, "SAC")
        for key in ("actor_learning_rate", "critic_learning_rate", "entropy_learning_rate"):
            if float(cfg[key]) <= 0:
                raise ValueError(f"SAC cfg['{key}'] must be > 0, got {cfg[key]}")
        if float(cfg["initial_entropy_value"]) <= 0:
            raise ValueError(
                f"SAC cfg['initial_entropy_value'] must be > 0 (it is α, log α is learned), got {cfg['initial_entropy_value']}"
            )
        if not 0.0 <= float(cfg["discount_factor"]) <= 1.0:
            raise ValueError(f"SAC cfg['discount_factor'] must be in [0, 1], got {cfg['discount_factor']}")
        super().__init__(models, memory, observation_space, action_space, device, cfg, "SAC")
        c = self.cfg
        self.policy = require_model(self.models, "policy", "SAC")
        self.critic_1 = self.models.get("critic_1")
        self.critic_2 = self.models.get("critic_2")
        self.target_critic_1 = self.models.get("target_critic_1")
        self.target_critic_2 = self.models.get("target_critic_2")
        self._learn_model("policy", self.policy)
        self._learn_entropy = bool(c["learn_entropy"])
        self._target_entropy = (
            default_target_entropy(self.action_space) if c["target_entropy"] is None else float(c["target_entropy"])
        )
        self.log_entropy_coefficient = LogEntropyCoefficient(float(c["initial_entropy_value"]), self.device)
        self._learned["log_entropy_coefficient"] = self.log_entropy_coefficient
        if self._learn_entropy:
            self.checkpoint_modules["log_entropy_coefficient"] = self.log_entropy_coefficient

        self._missing = [role for role in _LEARNING_ROLES if self.models.get(role) is None]
        self.policy_optimizer = self.critic_1_optimizer = self.critic_2_optimizer = self.entropy_optimizer = None
        if not self._missing:
            for role in _LEARNING_ROLES:
                self._learn_model(role, self.models[role])
            for target, source in (("target_critic_1", "critic_1"), ("target_critic_2", "critic_2")):
                self.models[target].update_parameters(self.models[source], polyak=1)
            self._learn_optimizer("policy_optimizer", self.policy, float(c["actor_learning_rate"]))
            self._learn_optimizer("critic_1_optimizer", self.critic_1, float(c["critic_learning_rate"]))
            self._learn_optimizer("critic_2_optimizer", self.critic_2, float(c["critic_learning_rate"]))
            if self._learn_entropy:
                self._learn_optimizer(
                    "entropy_optimizer", self.log_entropy_coefficient, float(c["entropy_learning_rate"])
                )
        self._commit()

    @property
    def entropy_coefficient(self) -> jax.Array:
        """The current temperature ``α = exp(log α)`` (a 0-d array)."""
        return jnp.exp(self.log_entropy_coefficient.state_dict.params["log_alpha"])

    @property
    def target_entropy(self) -> float:
        """The entropy the temperature steers the policy towards."""
        return self._target_entropy

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the replay tensors; a memory without the critics and targets cannot be learned from."""
        if self.memory is not None and self._missing:
            raise ValueError(
                f"SAC requires the {', '.join(repr(r) for r in self._missing)} model(s) to learn (a memory was given)"
            )
        super().init(trainer_cfg)

    # ------------------------------------------------------------------ pure pieces
    def _act_pure(
        self, params: Mapping[str, Any], states: jax.Array, key: jax.Array, extra: Any, training: bool
    ) -> tuple[jax.Array, jax.Array]:
        actions, _, outputs = self.policy.act_pure(params["policy"], {"states": states}, "policy", key)
        return actions, outputs.get("mean_actions", actions)

    def _q(self, role: str, params: Any, states: jax.Array, actions: jax.Array) -> jax.Array:
        return self.models[role].evaluate(params, {"states": states, "taken_actions": actions}, role)[0]

    def _gradient_step(
        self, state: ReplayState, batch: ReplayBatch, key: jax.Array, step: jax.Array
    ) -> tuple[ReplayState, dict[str, jax.Array]]:
        p = state.params
        next_key, policy_key = jax.random.split(key)
        log_alpha = p["log_entropy_coefficient"]["log_alpha"]
        alpha = jnp.exp(log_alpha)

        # critics: soft Bellman target from the target critics
        next_actions, next_log_prob, _ = self.policy.act_pure(p["policy"], {"states": batch.next_states}, "policy", next_key)
        next_q1 = self._q("target_critic_1", p["target_critic_1"], batch.next_states, next_actions)
        next_q2 = self._q("target_critic_2", p["target_critic_2"], batch.next_states, next_actions)
        target = sac_critic_target(
            batch.rewards, batch.terminated, next_q1, next_q2, next_log_prob, alpha, self._discount_factor
        )

        def critic_loss(critics: dict[str, Any]) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
            q1 = self._q("critic_1", critics["critic_1"], batch.states, batch.actions)
            q2 = self._q("critic_2", critics["critic_2"], batch.states, batch.actions)
            return sac_critic_loss(q1, q2, target), (q1, q2)

        critics = {"critic_1": p["critic_1"], "critic_2": p["critic_2"]}
        (critic_value, (q1, q2)), critic_grads = jax.value_and_grad(critic_loss, has_aux=True)(critics)
        state = self._apply_gradients(state, critic_grads, _OPTIMIZERS)
        p = state.params

        # policy, against the updated critics
        def policy_loss(policy: Any) -> tuple[jax.Array, jax.Array]:
            actions, log_prob, _ = self.policy.act_pure(policy, {"states": batch.states}, "policy", policy_key)
            new_q1 = self._q("critic_1", p["critic_1"], batch.states, actions)
            new_q2 = self._q("critic_2", p["critic_2"], batch.states, actions)
            return sac_policy_loss(log_prob, new_q1, new_q2, alpha), log_prob

        (policy_value, log_prob), policy_grads = jax.value_and_grad(policy_loss, has_aux=True)(p["policy"])
        state = self._apply_gradients(state, {"policy": policy_grads}, {"policy": "policy_optimizer"})

        metrics = {"Loss / Policy loss": policy_value, "Loss / Critic loss": critic_value}
        if self._learn_entropy:
            entropy_value, entropy_grads = jax.value_and_grad(
                lambda holder: sac_entropy_loss(holder["log_alpha"], log_prob, self._target_entropy)
            )(state.params["log_entropy_coefficient"])
            state = self._apply_gradients(
                state, {"log_entropy_coefficient": entropy_grads}, {"log_entropy_coefficient": "entropy_optimizer"}
            )
            metrics["Loss / Entropy loss"] = entropy_value

        params = dict(state.params)
        for target_role, role in (("target_critic_1", "critic_1"), ("target_critic_2", "critic_2")):
            params[target_role] = polyak_update(params[target_role], params[role], self._polyak)
        state = state.replace(params=params)

        for name, values in (("Q-network / Q1", q1), ("Q-network / Q2", q2), ("Target / Target", target)):
            metrics[f"{name} (max)"] = values.max()
            metrics[f"{name} (min)"] = values.min()
            metrics[f"{name} (mean)"] = values.mean()
        metrics["Coefficient / Entropy coefficient"] = alpha
        return state, metrics
