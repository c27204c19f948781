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
from typing import Any, NamedTuple

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from steprl import config
from steprl.agents.jax.base import Agent
from steprl.agents.jax.gae import compute_gae
from steprl.core.cfg import closest_key
from steprl.core.rollout import RolloutSchedule, rollout_settings
from steprl.models.jax.gaussian import GaussianMixin
from steprl.resources.optimizers.jax.adam import Adam, AdamOptimizer, learning_rate_of, with_learning_rate
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, scaler_apply, scaler_update
from steprl.resources.schedulers.jax.kl_adaptive import KLAdaptiveSchedule

__all__ = ["OnPolicyAgent", "Rollout", "TrainState"]

ROLES = ("policy", "value")
_LOSSES = ("policy_loss", "value_loss", "entropy_loss")


class TrainState(flax.struct.PyTreeNode):
    """Everything the jitted update reads and returns."""

    policy_params: Any
    value_params: Any
    policy_opt: Any
    value_opt: Any
    state_pre: ScalerState | None
    value_pre: ScalerState | None
    key: jax.Array


class Rollout(NamedTuple):
    """The stored rollout, each ``(T, N, size)``; ``log_prob`` only when stored at acting time (RPO)."""

    states: jax.Array
    next_states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    log_prob: jax.Array | None


class Batch(NamedTuple):
    """The flat ``(T·N, size)`` arrays minibatches are drawn from."""

    states: jax.Array
    actions: jax.Array
    log_prob: jax.Array
    values: jax.Array
    returns: jax.Array
    advantages: jax.Array


def _check_roles(models: Mapping[str, Any], name: str) -> None:
    for role in models:
        if role not in ROLES:
            hint = closest_key(role, list(ROLES))
            raise KeyError(
                f"{name} got an unknown model role '{role}'." + (f" Did you mean '{hint}'?" if hint else "")
                + f" Valid roles: {', '.join(ROLES)}"
            )  # fmt: skip


def _build_preprocessor(cls: Any, kwargs: Mapping[str, Any] | None, device: Any, what: str) -> Any:
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


def _select(flag: jax.Array, new: Any, old: Any) -> Any:
    """``new`` where ``flag`` else ``old``, leaf by leaf."""
    return jax.tree_util.tree_map(lambda n, o: jnp.where(flag, n, o), new, old)


class OnPolicyAgent(RolloutSchedule, Agent):
    """Base of the JAX rollout agents (``cfg`` already merged with the algorithm's defaults).

    Subclasses give the minibatch loss (:meth:`_loss`) and may add policy inputs (:meth:`_policy_extras`) or keep
    the acting log-probabilities (``_store_log_prob``). ``policy`` and ``value`` must be separate models; each has
    its optimizer (``policy_optimizer``, ``value_optimizer``).
    """

    _store_log_prob = False  # RPO: old log-probabilities are those of acting time, stored with the transition
    _kl_early_stop = True  # PPO: stop an epoch's minibatches once the approximate KL exceeds kl_threshold

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
        _check_roles(models, name)
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

        c = self.cfg
        self._rollouts, self._learning_epochs, self._mini_batches = rollout_settings(c, name)
        self._discount_factor = float(c["discount_factor"])
        self._lambda = float(c["lambda"])
        self._learning_rate = float(c["learning_rate"])
        self._grad_norm_clip = float(c.get("grad_norm_clip", 0.0) or 0.0)
        self._entropy_loss_scale = float(c.get("entropy_loss_scale", 0.0) or 0.0)
        self._kl_threshold = float(c.get("kl_threshold", 0) or 0)

        self._state_preprocessor = _build_preprocessor(
            c["state_preprocessor"], c["state_preprocessor_kwargs"], self.device, "state_preprocessor"
        )
        if self._state_preprocessor is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        self._value_preprocessor = _build_preprocessor(
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
        self._update_jit = jax.jit(self._update_pure)

    # ------------------------------------------------------------------ construction helpers
    def _build_scheduler(self, factory: Any, kwargs: Mapping[str, Any] | None) -> Any:
        """``None``, a :class:`KLAdaptiveSchedule` or an optax-style schedule ``count -> lr`` (``factory(**kwargs)``)."""
        if factory is None:
            return None
        schedule = factory(**dict(kwargs or {}))
        if not callable(schedule):
            raise TypeError(
                f"{self._name} cfg['learning_rate_scheduler'] must be a schedule factory (e.g. KLAdaptiveLR or "
                f"optax.linear_schedule) returning a callable, got {type(schedule).__name__}"
            )
        return schedule

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
    def _preprocess(self, state: ScalerState | None, states: jax.Array) -> jax.Array:
        states = states.astype(jnp.float32)
        if state is None:
            return states
        return scaler_apply(state, states, self._state_preprocessor.clip_threshold, self._state_preprocessor.epsilon)

    def _value_scale(self, state: ScalerState | None, values: jax.Array, inverse: bool) -> jax.Array:
        if state is None:
            return values
        pre = self._value_preprocessor
        return scaler_apply(state, values, pre.clip_threshold, pre.epsilon, inverse=inverse)

    def _policy_extras(self, training: bool) -> dict[str, Any]:
        """Extra policy inputs when acting (``training``) and in every update-time pass (RPO: ``alpha``)."""
        return {}

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
    def _loss(
        self, policy_params: Any, value_params: Any, states: jax.Array, batch: Batch, key: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The minibatch loss and its parts (``policy_loss``, ``value_loss``, ``entropy_loss``; PPO adds ``kl`` and
        ``stddev``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _loss()")

    def _policy_inputs(self, states: jax.Array, actions: jax.Array, key: jax.Array) -> dict[str, Any]:
        return {"states": states, "taken_actions": actions, "key": key, **self._policy_extras(True)}

    def _evaluate_batch(
        self, policy_params: Any, value_params: Any, states: jax.Array, batch: Batch, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """For a loss: the batch actions' log-probabilities, the entropy, the predicted values and the policy's
        mean standard deviation (NaN for discrete policies, not differentiated)."""
        policy_key, value_key = jax.random.split(key)
        inputs = self._policy_inputs(states, batch.actions, policy_key)
        log_prob, entropy, outputs = self.policy.evaluate(policy_params, inputs, "policy")
        predicted = self.value.evaluate(value_params, {"states": states, "key": value_key}, "value")[0]
        stddev = jax.lax.stop_gradient(jnp.mean(outputs.get("stddev", jnp.nan)))
        return log_prob, entropy, predicted, stddev

    def _prepare(self, ts: TrainState, rollout: Rollout, key: jax.Array) -> tuple[Batch, ScalerState | None]:
        """Values, next values and old log-probs in one batched pass; GAE; normalised advantages; the value
        preprocessor trained on the values (returns and values then in its scale)."""
        t, n = rollout.rewards.shape[:2]
        flat = lambda x: x.reshape(t * n, -1)  # noqa: E731
        states, next_states, actions = flat(rollout.states), flat(rollout.next_states), flat(rollout.actions)
        processed = self._preprocess(ts.state_pre, jnp.concatenate([states, next_states]))
        key_value, key_policy = jax.random.split(key)
        both = self.value.evaluate(ts.value_params, {"states": processed, "key": key_value}, "value")[0]
        both = self._value_scale(ts.value_pre, both.astype(jnp.float32), inverse=True)
        values, next_values = both[: t * n].reshape(t, n, 1), both[t * n :].reshape(t, n, 1)
        if rollout.log_prob is not None:
            old_log_prob = flat(rollout.log_prob)
        else:
            inputs = self._policy_inputs(processed[: t * n], actions, key_policy)
            old_log_prob = self.policy.evaluate(ts.policy_params, inputs, "policy")[0]
        returns, advantages = compute_gae(
            rollout.rewards, values, next_values, rollout.terminated, rollout.truncated,
            self._discount_factor, self._lambda,
        )  # fmt: skip
        advantages = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
        value_pre = ts.value_pre
        if value_pre is not None:
            value_pre = scaler_update(value_pre, values)
        values = self._value_scale(value_pre, values, inverse=False)
        returns = self._value_scale(value_pre, returns, inverse=False)
        batch = Batch(states, actions, old_log_prob, flat(values), flat(returns), flat(advantages))
        return batch, value_pre

    def _update_pure(self, ts: TrainState, rollout: Rollout) -> tuple[TrainState, dict[str, jax.Array]]:
        """The whole update (jitted): prepare the rollout, then epochs × minibatches of gradient steps."""
        key, prepare_key = jax.random.split(ts.key)
        batch, value_pre = self._prepare(ts, rollout, prepare_key)
        ts = ts.replace(value_pre=value_pre)
        samples = batch.states.shape[0]
        size = samples // self._mini_batches
        kl_adaptive = isinstance(self.scheduler, KLAdaptiveSchedule)
        grad_fn = jax.value_and_grad(self._loss, argnums=(0, 1), has_aux=True)

        def minibatch(carry: tuple, xs: tuple) -> tuple[tuple, dict]:
            ts, stopped = carry
            index, first_epoch, key = xs
            mb = jax.tree_util.tree_map(lambda x: x[index], batch)
            active = ~stopped
            state_pre = ts.state_pre
            if state_pre is not None:
                state_pre = _select(
                    active & first_epoch, scaler_update(state_pre, mb.states.astype(jnp.float32)), state_pre
                )
            states = self._preprocess(state_pre, mb.states)
            (_, parts), (policy_grads, value_grads) = grad_fn(ts.policy_params, ts.value_params, states, mb, key)
            if self._grad_norm_clip > 0:  # one global norm over policy and value gradients (torch's clip_grad_norm_)
                norm = optax.tree.norm((policy_grads, value_grads))
                factor = jnp.minimum(1.0, self._grad_norm_clip / (norm + 1e-6))
                policy_grads, value_grads = jax.tree_util.tree_map(lambda g: g * factor, (policy_grads, value_grads))
            exceeded = active & (self._kl_threshold > 0) & (parts.get("kl", 0.0) > self._kl_threshold)
            step = active & ~exceeded
            policy_updates, policy_opt = self.policy_optimizer.transformation.update(
                policy_grads, ts.policy_opt, ts.policy_params
            )
            value_updates, value_opt = self.value_optimizer.transformation.update(
                value_grads, ts.value_opt, ts.value_params
            )
            stepped = ts.replace(
                policy_params=optax.apply_updates(ts.policy_params, policy_updates),
                value_params=optax.apply_updates(ts.value_params, value_updates),
                policy_opt=policy_opt,
                value_opt=value_opt,
            )
            ts = _select(step, stepped, ts).replace(state_pre=state_pre)
            metrics = {k: jnp.where(step, parts[k], 0.0) for k in _LOSSES}
            metrics["steps"] = step.astype(jnp.float32)
            metrics["kl"] = jnp.where(active, parts.get("kl", 0.0), 0.0)
            metrics["kl_count"] = active.astype(jnp.float32)
            metrics["stddev"] = jnp.where(step, parts["stddev"], 0.0)
            stopped = stopped | (exceeded if self._kl_early_stop else False)
            return (ts, stopped), metrics

        def epoch(ts: TrainState, epoch_index: jax.Array) -> tuple[TrainState, dict]:
            key, permutation_key, minibatch_key = jax.random.split(ts.key, 3)
            order = jax.random.permutation(permutation_key, samples)[: size * self._mini_batches]
            indexes = order.reshape(self._mini_batches, size)
            first = jnp.broadcast_to(epoch_index == 0, (self._mini_batches,))
            keys = jax.random.split(minibatch_key, self._mini_batches)
            (ts, _), metrics = jax.lax.scan(
                minibatch, (ts.replace(key=key), jnp.asarray(False)), (indexes, first, keys)
            )
            metrics = jax.tree_util.tree_map(jnp.sum, metrics)
            epoch_kl = metrics["kl"] / jnp.maximum(metrics["kl_count"], 1.0)
            if kl_adaptive and self._kl_early_stop:
                ts = self._adapt_learning_rate(ts, epoch_kl)
            metrics["epoch_kl"] = epoch_kl
            return ts, metrics

        ts, metrics = jax.lax.scan(epoch, ts.replace(key=key), jnp.arange(self._learning_epochs))
        steps = jnp.maximum(metrics["steps"].sum(), 1.0)
        out = {k: metrics[k].sum() / steps for k in (*_LOSSES, "stddev")}
        out["steps"] = metrics["steps"].sum()  # gradient steps taken (fewer than epochs x minibatches after a KL stop)
        out["kl"] = self._update_kl(ts, batch, metrics["epoch_kl"])
        if kl_adaptive and not self._kl_early_stop:
            ts = self._adapt_learning_rate(ts, out["kl"])
        out["learning_rate"] = jnp.asarray(learning_rate_of(ts.policy_opt), dtype=jnp.float32)
        return ts, out

    def _update_kl(self, ts: TrainState, batch: Batch, epoch_kls: jax.Array) -> jax.Array:
        """The update's KL (PPO: mean of the epochs' minibatch KLs)."""
        return epoch_kls.mean()

    def _adapt_learning_rate(self, ts: TrainState, kl: jax.Array) -> TrainState:
        lr = self.scheduler(0, learning_rate_of(ts.policy_opt), kl)
        return ts.replace(
            policy_opt=with_learning_rate(ts.policy_opt, lr), value_opt=with_learning_rate(ts.value_opt, lr)
        )

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
