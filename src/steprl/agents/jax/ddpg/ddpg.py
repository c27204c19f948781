"""Deep Deterministic Policy Gradient (JAX) and the deterministic actor-critic base it shares with TD3.

:class:`DeterministicActorCritic` holds what DDPG and TD3 have in common: the exploration noise and its linearly
decaying scale (counted in training steps, :class:`steprl.core.off_policy.ExplorationSettings`; evaluation never adds
noise), clipping to the action bounds, target networks with soft (polyak) updates, the critic step (mean of the
critics' MSE to a clipped-min target) and the deterministic policy-gradient step, all inside the jitted update. DDPG
is the one-critic case updating its policy every critic update without target smoothing; TD3 adds a second critic,
target policy smoothing and delayed policy/target updates. Stateful noises (Ornstein-Uhlenbeck) are reset for the
sub-environments whose training episode ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl import logger
from steprl.agents.jax.ddpg.losses import clipped_double_q_target, critic_loss, deterministic_policy_loss
from steprl.agents.jax.off_policy import OffPolicyAgent, ReplayBatch, ReplayState, polyak_update
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.off_policy import box_bounds, exploration_settings
from steprl.core.off_policy_defaults import DDPG_DEFAULTS
from steprl.core.on_policy_defaults import without
from steprl.core.roles import check_model_roles, require_model
from steprl.resources.noises.jax import Noise

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG", "DeterministicActorCritic"]

DDPG_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(without(DDPG_DEFAULTS, "mixed_precision"))

_POLICY_STEPS = "_policy_steps"  # internal metric: fraction of the update's gradient steps that stepped the policy


class DeterministicActorCritic(OffPolicyAgent):
    """Base of DDPG and TD3 (see the module docstring); subclasses give their critics' roles and the policy delay.

    Learning needs every role (optimizers are created only then); a policy alone is enough to act.
    """

    _CRITICS: tuple[str, ...] = ("critic",)

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: Any,
        cfg: Mapping[str, Any],
        name: str,
        policy_delay: int = 1,
    ) -> None:
        targets = tuple(f"target_{role}" for role in self._CRITICS)
        check_model_roles(models, ("policy", "target_policy", *self._CRITICS, *targets), name)
        super().__init__(models, memory, observation_space, action_space, device, cfg, name)
        if int(policy_delay) < 1:
            raise ValueError(f"{name} cfg['policy_delay'] must be >= 1, got {policy_delay}")
        self._policy_delay = int(policy_delay)
        self.policy = require_model(self.models, "policy", name)
        self.target_policy = self.models.get("target_policy")
        self._learn_model("policy", self.policy)

        self._exploration = exploration_settings(self.cfg["exploration"], name)
        noise = self._exploration.noise
        if noise is None and memory is not None:
            logger.warning(f"{name}: cfg['exploration']['noise'] is None: training actions carry no exploration noise")
        reset = getattr(type(noise), "reset", None)
        self._reset_noise = callable(reset) and reset is not Noise.reset  # only stateful noises (Ornstein-Uhlenbeck)
        low, high = box_bounds(action_space)
        self._bounds = None if low is None else (jnp.asarray(low), jnp.asarray(high))

        self._missing = [role for role in ("target_policy", *self._CRITICS, *targets) if self.models.get(role) is None]
        self.policy_optimizer = None
        self._critic_optimizers = {role: f"{role}_optimizer" for role in self._CRITICS}
        for optimizer in self._critic_optimizers.values():
            setattr(self, optimizer, None)
        if not self._missing:
            for role in ("target_policy", *self._CRITICS, *targets):
                self._learn_model(role, self.models[role])
            for target, source in (("target_policy", "policy"), *zip(targets, self._CRITICS)):
                self.models[target].update_parameters(self.models[source], polyak=1)
            self._learn_optimizer("policy_optimizer", self.policy, float(self.cfg["actor_learning_rate"]))
            for role, optimizer in self._critic_optimizers.items():
                self._learn_optimizer(optimizer, self.models[role], float(self.cfg["critic_learning_rate"]))
        self.critic_updates = 0  # critic updates so far (checkpointed: the policy delay keeps its phase on resume)
        self._commit()

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the replay tensors and resolve the exploration window (``None`` → the trainer's timesteps)."""
        super().init(trainer_cfg)
        if self.memory is not None and self._missing:
            raise ValueError(
                f"{self._name} needs the models {', '.join(repr(r) for r in self._missing)} to learn (a memory was "
                f"given): pass them in models={{...}}"
            )
        self._exploration.resolve_window(trainer_cfg)

    def exploration_scale(self, timesteps: int | None = None) -> float:
        """Noise scale at the current training step (see :class:`steprl.core.off_policy.ExplorationSettings`)."""
        return self._exploration.scale(self.training_steps, timesteps)

    # ------------------------------------------------------------------ interaction
    def _clip(self, actions: jax.Array) -> jax.Array:
        return actions if self._bounds is None else jnp.clip(actions, *self._bounds)

    def _act_extra(self, states: Any, timesteps: int) -> Any:
        """The exploration noise of this training step, scaled (``None``: no noise)."""
        noise = self._exploration.noise
        if noise is None:
            return None
        sample = noise.sample((states.shape[0], self.policy.num_actions)) * self.exploration_scale(timesteps)
        if self.write_interval > 0:
            self.track_data("Exploration / Exploration noise (max)", sample.max())
            self.track_data("Exploration / Exploration noise (min)", sample.min())
            self.track_data("Exploration / Exploration noise (mean)", sample.mean())
        return sample

    def _act_pure(
        self, params: Mapping[str, Any], states: jax.Array, key: jax.Array, extra: Any, training: bool
    ) -> tuple[jax.Array, jax.Array]:
        """The deterministic action (``mean_actions``), plus the scaled exploration noise in training."""
        actions = self.policy.evaluate(params["policy"], {"states": states}, "policy")[0]
        deterministic = self._clip(actions)
        if not training or extra is None:
            return deterministic, deterministic
        return self._clip(actions + extra), deterministic

    def _transition_recorded(self, terminated: Any, truncated: Any) -> None:
        """Reset a stateful exploration noise for the sub-environments whose training episode ended."""
        if not (self.training and self._reset_noise):
            return
        if isinstance(terminated, np.ndarray):
            done = np.logical_or(terminated, truncated).reshape(-1)
            if done.any():  # a host array: no device work on the steps where nothing ended
                self._exploration.noise.reset(done)
        else:
            self._exploration.noise.reset(jnp.logical_or(terminated, truncated).reshape(-1))

    # ------------------------------------------------------------------ learning
    def _q(self, role: str, params: Any, states: jax.Array, actions: jax.Array) -> jax.Array:
        return self.models[role].evaluate(params, {"states": states, "taken_actions": actions}, role)[0]

    def _next_actions(self, params: Mapping[str, Any], next_states: jax.Array, key: jax.Array) -> jax.Array:
        """The target policy's actions on the next states (TD3 smooths them)."""
        return self.target_policy.evaluate(params["target_policy"], {"states": next_states}, "target_policy")[0]

    def _gradient_step(
        self, state: ReplayState, batch: ReplayBatch, key: jax.Array, step: jax.Array
    ) -> tuple[ReplayState, dict[str, jax.Array]]:
        """Critic step; every ``policy_delay``-th critic step also a policy step and the soft target updates."""
        p = state.params
        next_actions = self._next_actions(p, batch.next_states, key)
        next_q = [self._q(f"target_{r}", p[f"target_{r}"], batch.next_states, next_actions) for r in self._CRITICS]
        target = clipped_double_q_target(batch.rewards, batch.terminated, next_q, self._discount_factor)

        def loss(critics: dict[str, Any]) -> tuple[jax.Array, list[jax.Array]]:
            q_values = [self._q(role, critics[role], batch.states, batch.actions) for role in self._CRITICS]
            return critic_loss(q_values, target), q_values

        (critic_value, q_values), grads = jax.value_and_grad(loss, has_aux=True)(
            {role: p[role] for role in self._CRITICS}
        )
        state = self._apply_gradients(state, grads, self._critic_optimizers)

        def policy_step(state: ReplayState) -> tuple[ReplayState, jax.Array]:
            first = self._CRITICS[0]

            def policy_loss(policy: Any) -> jax.Array:
                actions = self.policy.evaluate(policy, {"states": batch.states}, "policy")[0]
                return deterministic_policy_loss(self._q(first, state.params[first], batch.states, actions))

            value, grad = jax.value_and_grad(policy_loss)(state.params["policy"])
            state = self._apply_gradients(state, {"policy": grad}, {"policy": "policy_optimizer"})
            params = dict(state.params)
            for role in ("policy", *self._CRITICS):
                params[f"target_{role}"] = polyak_update(params[f"target_{role}"], params[role], self._polyak)
            return state.replace(params=params), value

        def no_policy_step(state: ReplayState) -> tuple[ReplayState, jax.Array]:
            return state, jnp.zeros((), jnp.float32)

        stepped = step % self._policy_delay == 0
        state, policy_value = jax.lax.cond(stepped, policy_step, no_policy_step, state)
        metrics = {"Loss / Critic loss": critic_value, "Loss / Policy loss": policy_value, _POLICY_STEPS: stepped.astype(jnp.float32)}
        for i, q in enumerate(q_values, start=1):
            metrics[f"Q-network / Q{i} (max)"] = q.max()
            metrics[f"Q-network / Q{i} (min)"] = q.min()
            metrics[f"Q-network / Q{i} (mean)"] = q.mean()
        metrics["Target / Target (max)"] = target.max()
        metrics["Target / Target (min)"] = target.min()
        metrics["Target / Target (mean)"] = target.mean()
        return state, metrics

    def _gradient_steps_done(self) -> int:
        return self.critic_updates

    def _updated(self, metrics: Mapping[str, jax.Array]) -> None:
        """Count the critic updates; the policy loss is the mean over the steps that stepped the policy (tracked
        only when there were some: the host knows from the counter, no sync)."""
        first = self.critic_updates + 1
        self.critic_updates += self._gradient_steps
        metrics = dict(metrics)
        fraction = metrics.pop(_POLICY_STEPS)
        policy_loss = metrics.pop("Loss / Policy loss")
        if any(not step % self._policy_delay for step in range(first, self.critic_updates + 1)):
            metrics["Loss / Policy loss"] = policy_loss / fraction
        super()._updated(metrics)

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_meta(self) -> dict[str, Any]:
        return {**super()._checkpoint_meta(), "critic_updates": self.critic_updates}

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        super()._restore_meta(meta)
        self.critic_updates = int(meta.get("critic_updates", self.critic_updates))

    def _rng_state(self) -> dict[str, Any]:
        """The agent's generators plus the exploration noise's key and state (a resumed run draws the same noise)."""
        state = super()._rng_state()
        noise = self._exploration.noise
        if isinstance(noise, Noise):
            state["noise_key"] = np.asarray(jax.random.key_data(noise._key) if jnp.issubdtype(noise._key.dtype, jax.dtypes.prng_key) else noise._key)
            if hasattr(noise, "state"):
                state["noise_state"] = np.asarray(noise.state)
        return state

    def _set_rng_state(self, state: Any) -> None:
        super()._set_rng_state(state)
        noise = self._exploration.noise
        if isinstance(noise, Noise) and "noise_key" in state:
            noise._key = jnp.asarray(np.asarray(state["noise_key"], dtype=np.uint32))
            if "noise_state" in state:
                noise.state = jnp.asarray(np.asarray(state["noise_state"], dtype=np.float32))


class DDPG(DeterministicActorCritic):
    """Deep Deterministic Policy Gradient.

    Roles: ``policy``, ``target_policy``, ``critic``, ``target_critic`` (targets hard-copied here, then soft-updated
    with ``polyak`` after every policy step). Every gradient step: critic regression on
    ``r + γ·(1 - terminated)·Q'(s', π'(s'))`` (truncation bootstraps), then a policy step on ``-Q(s, π(s))``.
    Checkpoint modules: the four models, ``policy_optimizer`` and ``critic_optimizer``.
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
        cfg = merge_config(DDPG_DEFAULT_CONFIG, cfg, where="DDPG cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg, name="DDPG")
        self.critic = self.models.get("critic")
        self.target_critic = self.models.get("target_critic")
