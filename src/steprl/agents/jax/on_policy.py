"""The rollout-based JAX agents' machinery (PPO, RPO, A2C): one jitted per-step policy call, one jitted update.

Per environment step only the policy runs: preprocessing, forward pass, sampling and log-probability are one jitted
function whose PRNG key is split explicitly and stored in the agent. At the end of a rollout one jitted function
does the whole update without a host sync: the values, next values and old log-probabilities of the rollout in
one batched pass, GAE by a reverse ``lax.scan`` (truncation bootstraps from the true final observation), normalised
advantages, then ``learning_epochs`` × ``mini_batches`` gradient steps as nested ``lax.scan`` (a fresh permutation
per epoch, the state preprocessor trained in the first epoch, KL early stop and KL-adaptive learning rate inside).
Losses and metrics come back as arrays, read only when tracking data is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl import config
from steprl.agents.jax.base import Agent
from steprl.agents.jax.on_policy_update import Batch, OnPolicyUpdate, Rollout, TrainState
from steprl.agents.jax.parallel import compile_update
from steprl.core.cfg import closest_key
from steprl.core.rollout import RolloutSchedule, rollout_settings
from steprl.models.jax.gaussian import GaussianMixin
from steprl.resources.optimizers.jax.adam import Adam, AdamOptimizer
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState
from steprl.resources.schedulers.jax.kl_adaptive import KLAdaptiveSchedule

__all__ = ["Batch", "OnPolicyAgent", "Rollout", "TrainState", "build_preprocessor", "build_schedule", "check_roles"]

ROLES = ("policy", "value")


def check_roles(models: Mapping[str, Any], name: str) -> None:
    for role in models:
        if role not in ROLES:
            hint = closest_key(role, list(ROLES))
            raise KeyError(
                f"{name} got an unknown model role '{role}'." + (f" Did you mean '{hint}'?" if hint else "")
                + f" Valid roles: {', '.join(ROLES)}"
            )  # fmt: skip


def build_schedule(factory: Any, kwargs: Mapping[str, Any] | None, name: str) -> Any:
    """``None``, a :class:`KLAdaptiveSchedule` or an optax-style schedule ``count -> lr`` (``factory(**kwargs)``)."""
    if factory is None:
        return None
    schedule = factory(**dict(kwargs or {}))
    if not callable(schedule):
        raise TypeError(
            f"{name} cfg['learning_rate_scheduler'] must be a schedule factory (e.g. KLAdaptiveLR or "
            f"optax.linear_schedule) returning a callable, got {type(schedule).__name__}"
        )
    return schedule


def build_preprocessor(cls: Any, kwargs: Mapping[str, Any] | None, device: Any, what: str) -> Any:
    if cls is None:
        return None
    kwargs = dict(kwargs or {})
    kwargs.setdefault("device", device)
    preprocessor = cls(**kwargs)
    if not isinstance(getattr(preprocessor, "state", None), ScalerState):
        raise TypeError(
            f"cfg['{what}'] must build a steprl.resources.preprocessors.jax.RunningStandardScaler (its statistics run "
            f"inside the jitted update), got {type(preprocessor).__name__}"
        )
    return preprocessor


_build_preprocessor = build_preprocessor  # the name the off-policy agents import


class OnPolicyAgent(OnPolicyUpdate, RolloutSchedule, Agent):
    """Base of the JAX rollout agents (``cfg`` already merged with the algorithm's defaults).

    Subclasses give the minibatch loss (:meth:`_loss`) and may add policy inputs (:meth:`_policy_extras`) or keep
    the acting log-probabilities (``_store_log_prob``). ``policy`` and ``value`` must be separate models; each has
    its optimizer (``policy_optimizer``, ``value_optimizer``).
    """

    _store_log_prob = False  # RPO: old log-probabilities are those of acting time, stored with the transition

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: Any,
        cfg: Mapping[str, Any],
        name: str,
    ) -> None:
        check_roles(models, name)
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._name = name
        self.policy = self.models.get("policy")
        if self.policy is None:
            raise ValueError(f"{name} requires a 'policy' model: pass models={{'policy': ...}}")
        self.value = self.models.get("value")
        if self.value is not None and self.value is self.policy:
            raise ValueError(f"{name} (JAX) needs separate policy and value models; one shared model is not supported")
        self.checkpoint_modules["policy"] = self.policy
        self.checkpoint_modules["value"] = self.value
        for model in (self.policy, self.value):
            if model is not None:
                model.broadcast_parameters()  # distributed: every process starts from rank 0's parameters

        c = self.cfg
        self._rollouts, self._learning_epochs, self._mini_batches = rollout_settings(c, name)
        self._discount_factor = float(c["discount_factor"])
        self._lambda = float(c["lambda"])
        self._learning_rate = float(c["learning_rate"])
        self._grad_norm_clip = float(c.get("grad_norm_clip", 0.0) or 0.0)
        self._entropy_loss_scale = float(c.get("entropy_loss_scale", 0.0) or 0.0)
        self._kl_threshold = float(c.get("kl_threshold", 0) or 0)

        self._state_preprocessor = build_preprocessor(
            c["state_preprocessor"], c["state_preprocessor_kwargs"], self.device, "state_preprocessor"
        )
        if self._state_preprocessor is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        self._value_preprocessor = build_preprocessor(
            c["value_preprocessor"], c["value_preprocessor_kwargs"], self.device, "value_preprocessor"
        )
        if self._value_preprocessor is not None:
            self.checkpoint_modules["value_preprocessor"] = self._value_preprocessor

        self.scheduler = self._build_scheduler(c["learning_rate_scheduler"], c["learning_rate_scheduler_kwargs"])
        self.policy_optimizer: AdamOptimizer | None = None
        self.value_optimizer: AdamOptimizer | None = None
        if self.value is not None:
            lr: Any = self._learning_rate
            if self.scheduler is not None and not isinstance(self.scheduler, KLAdaptiveSchedule):
                lr = self.scheduler  # an optax schedule: evaluated at the optimizer's step count
            # gradients are clipped jointly in the update (one global norm over both models, as the torch agents do)
            self.policy_optimizer = Adam(self.policy, lr)
            self.value_optimizer = Adam(self.value, lr)
            self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
            self.checkpoint_modules["value_optimizer"] = self.value_optimizer

        self._commit()
        self._rollout = 0
        if self.memory is not None and hasattr(self.memory, "state_dict"):
            self.checkpoint_modules["memory"] = self.memory
        self._numpy = config.jax.backend == "numpy"  # act returns NumPy arrays (one packed transfer per step)
        self._act_count = 0  # per-step subkeys are fold_in(key, count): no key comes back from the device per step
        self._act_jit = {
            mode: jax.jit(
                lambda p, pre, key, count, states, mode=mode: self._act_pure(p, pre, key, count, states, mode)
            )
            for mode in (True, False)
        }
        self._act_layout: tuple[int, int, Any, Any] | None = None  # widths and dtypes of actions and mean actions
        self._update_jit = compile_update(self._update_pure)

    # ------------------------------------------------------------------ construction helpers
    def _build_scheduler(self, factory: Any, kwargs: Mapping[str, Any] | None) -> Any:
        return build_schedule(factory, kwargs, self._name)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the memory tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        if self.value is None:
            raise ValueError(
                f"{self._name} requires a 'value' model to learn (a memory was given): pass models={{'value': ...}}"
            )
        self._check_rollout_memory()
        for memory in [self.memory, *self.secondary_memories]:
            memory.create_tensor(name="states", size=self.observation_space, dtype=np.float32)
            memory.create_tensor(name="next_states", size=self.observation_space, dtype=np.float32)
            memory.create_tensor(name="actions", size=self.action_space, dtype=np.float32)
            memory.create_tensor(name="rewards", size=1, dtype=np.float32)
            memory.create_tensor(name="terminated", size=1, dtype=np.int8)
            memory.create_tensor(name="truncated", size=1, dtype=np.int8)
            if self._store_log_prob:
                memory.create_tensor(name="log_prob", size=1, dtype=np.float32)

    def _commit(self) -> None:
        """Place parameters, optimizer and preprocessor states and the key on the agent's device (committed arrays,
        like the jitted functions' outputs, so that the first update is not compiled twice)."""
        put = lambda tree: jax.device_put(tree, self.device)  # noqa: E731
        for model in (self.policy, self.value):
            if model is not None:
                model.state_dict = model.state_dict.replace(params=put(model.state_dict.params))
        for name in ("policy_optimizer", "value_optimizer"):
            optimizer = getattr(self, name)
            if optimizer is not None:
                self._replace_module(name, optimizer.replace(state=put(optimizer.state)))
        for preprocessor in (self._state_preprocessor, self._value_preprocessor):
            if preprocessor is not None:
                preprocessor.state = put(preprocessor.state)
        self._key = put(self._key)

    # ------------------------------------------------------------------ pure pieces
    def _act_pure(
        self,
        params: Any,
        state_pre: ScalerState | None,
        key: jax.Array,
        count: jax.Array,
        states: jax.Array,
        training: bool,
    ) -> Any:
        """Preprocess, forward, sample and log-prob in one function: ``(actions, log_prob, mean_actions)``, packed
        into one float32 array for the NumPy backend (one transfer per step)."""
        inputs = {"states": self._preprocess(state_pre, states), **self._policy_extras(training)}
        actions, log_prob, outputs = self.policy.act_pure(params, inputs, "policy", jax.random.fold_in(key, count))
        mean = outputs.get("mean_actions", actions)
        if not self._numpy:
            return actions, log_prob, mean
        return jnp.concatenate([actions.astype(jnp.float32), log_prob, mean.astype(jnp.float32)], axis=-1)

    # ------------------------------------------------------------------ interaction
    def act(self, states: Any, timestep: int, timesteps: int) -> tuple[Any, Any, dict[str, Any]]:
        """Sample actions with one jitted call (uniformly at random during the first ``random_timesteps`` steps).

        Returns ``(actions, log_prob, {"mean_actions": ...})``: NumPy arrays with ``config.jax.backend == "numpy"``
        (the policy's output comes to the host in one transfer, which the environment step needs anyway), else
        ``jax.Array``.
        """
        state_pre = None if self._state_preprocessor is None else self._state_preprocessor.state
        if self._exploring():
            actions, _, outputs = self.policy.random_act({"states": states, "key": self._next_key()}, role="policy")
            log_prob = self._log_prob_of(state_pre, states, actions) if self._store_log_prob else None
            if self._numpy:
                actions = np.asarray(actions)
                log_prob = None if log_prob is None else np.asarray(log_prob)
            self._acted(log_prob)
            return actions, log_prob, outputs
        params = self.policy.state_dict.params
        self._act_count += 1
        out = self._act_jit[self.training](params, state_pre, self._key, self._act_count, states)
        if self._numpy:
            actions, log_prob, mean = self._unpack(np.asarray(out), params, state_pre, states)
        else:
            actions, log_prob, mean = out
        self._acted(log_prob)
        return actions, log_prob, {"mean_actions": mean}

    def _unpack(self, out: np.ndarray, params: Any, state_pre: Any, states: Any) -> tuple[Any, Any, Any]:
        """Views of the packed per-step output (actions and mean actions in the policy's dtypes)."""
        if self._act_layout is None:
            shapes = jax.eval_shape(
                lambda p, pre, s: self.policy.act_pure(p, {"states": self._preprocess(pre, s)}, "policy", self._key),
                params, state_pre, jnp.asarray(states),
            )  # fmt: skip
            actions, mean = shapes[0], shapes[2].get("mean_actions", shapes[0])
            self._act_layout = (actions.shape[-1], mean.shape[-1], np.dtype(actions.dtype), np.dtype(mean.dtype))
        width, mean_width, dtype, mean_dtype = self._act_layout
        actions, log_prob, mean = out[:, :width], out[:, width : width + 1], out[:, width + 1 : width + 1 + mean_width]
        return actions.astype(dtype, copy=False), log_prob, mean.astype(mean_dtype, copy=False)

    def _log_prob_of(self, state_pre: ScalerState | None, states: Any, actions: Any) -> jax.Array:
        """Log-probability of (random) ``actions`` under the acting policy."""
        inputs = {
            "states": self._preprocess(state_pre, jnp.asarray(states)),
            "taken_actions": actions,
            "key": self._next_key(),
            **self._policy_extras(True),
        }
        return self.policy.evaluate(self.policy.state_dict.params, inputs, "policy")[0]

    def _acted(self, log_prob: Any) -> None:
        """Called with each ``act``'s log-probabilities (RPO keeps them for storage)."""

    def _truncate_row(self, row: int) -> None:
        for memory in [self.memory, *self.secondary_memories]:
            truncated = memory.get_tensor_by_name("truncated")
            if isinstance(truncated, np.ndarray):
                truncated[row] = 1
            else:
                memory.set_tensor_by_name("truncated", truncated.at[row].set(1))

    # ------------------------------------------------------------------ learning
    def _read_rollout(self) -> Rollout:
        memory = self.memory
        get = lambda name: jnp.asarray(memory.get_tensor_by_name(name))  # noqa: E731
        return Rollout(
            get("states"), get("next_states"), get("actions"), get("rewards"), get("terminated"), get("truncated"),
            get("log_prob") if self._store_log_prob else None,
        )  # fmt: skip

    def _train_state(self) -> TrainState:
        return TrainState(
            policy_params=self.policy.state_dict.params,
            value_params=self.value.state_dict.params,
            policy_opt=self.policy_optimizer.state,
            value_opt=self.value_optimizer.state,
            state_pre=None if self._state_preprocessor is None else self._state_preprocessor.state,
            value_pre=None if self._value_preprocessor is None else self._value_preprocessor.state,
            key=self._next_key(),
        )

    def _store_train_state(self, ts: TrainState) -> None:
        """Write the update's results back into the models, optimizers and preprocessors (no host sync)."""
        self.policy.state_dict = self.policy.state_dict.replace(params=ts.policy_params)
        self.value.state_dict = self.value.state_dict.replace(params=ts.value_params)
        self._replace_module("policy_optimizer", self.policy_optimizer.replace(state=ts.policy_opt))
        self._replace_module("value_optimizer", self.value_optimizer.replace(state=ts.value_opt))
        if self._state_preprocessor is not None:
            self._state_preprocessor.state = ts.state_pre
        if self._value_preprocessor is not None:
            self._value_preprocessor.state = ts.value_pre

    def _update(self, timestep: int, timesteps: int) -> None:
        """One jitted update over the stored rollout."""
        ts, metrics = self._update_jit(self._train_state(), self._read_rollout())
        self._store_train_state(ts)
        self._track(metrics)

    def _track(self, metrics: Mapping[str, jax.Array]) -> None:
        """Tracking data of an update (arrays; synced only when written)."""
        if self.write_interval <= 0:
            return
        self.track_data("Loss / Policy loss", metrics["policy_loss"])
        self.track_data("Loss / Value loss", metrics["value_loss"])
        if self._entropy_loss_scale:
            self.track_data("Loss / Entropy loss", metrics["entropy_loss"])
        self.track_data("Policy / KL divergence", metrics["kl"])
        if isinstance(self.policy, GaussianMixin):
            self.track_data("Policy / Standard deviation", metrics["stddev"])
        self.track_data("Learning / Learning rate", metrics["learning_rate"])
