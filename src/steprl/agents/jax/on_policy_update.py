"""The update of the JAX rollout agents (PPO, RPO, A2C) and of IPPO/MAPPO's teams, as pure jittable methods.

:class:`OnPolicyUpdate` holds what runs inside the jitted update: the values, next values and old log-probabilities
of a rollout in one batched pass, GAE by a reverse ``lax.scan`` (truncation bootstraps from the true final
observation), normalised advantages, then ``learning_epochs`` × ``mini_batches`` gradient steps as nested
``lax.scan`` (a fresh permutation per epoch, the state preprocessor trained in the first epoch, KL early stop and
KL-adaptive learning rate inside). What the models see is chosen by two hooks, :meth:`OnPolicyUpdate._rollout_inputs`
and :meth:`OnPolicyUpdate._minibatch_inputs` (the multi-agent teams add agent ids and the global state).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.struct
import jax
import jax.numpy as jnp
import optax

from steprl.agents.jax.gae import compute_gae
from steprl.agents.jax.parallel import mean_over_processes, scaler_update_over_processes
from steprl.resources.optimizers.jax.adam import learning_rate_of, with_learning_rate
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, scaler_apply
from steprl.resources.schedulers.jax.kl_adaptive import KLAdaptiveSchedule

__all__ = ["Batch", "Inputs", "OnPolicyUpdate", "Rollout", "TrainState", "select"]

LOSSES = ("policy_loss", "value_loss", "entropy_loss")


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
    extras: Any = None  # further arrays the input hooks read (the multi-agent teams: global states, agent ids)


class Batch(NamedTuple):
    """The flat ``(T·N, size)`` arrays minibatches are drawn from."""

    states: jax.Array
    actions: jax.Array
    log_prob: jax.Array
    values: jax.Array
    returns: jax.Array
    advantages: jax.Array
    extras: Any = None  # further per-sample arrays the input hooks read, ``(T·N, size)`` each


class Inputs(NamedTuple):
    """What the policy and the value model see (preprocessed), row for row."""

    policy: jax.Array
    value: jax.Array


def select(flag: jax.Array, new: Any, old: Any) -> Any:
    """``new`` where ``flag`` else ``old``, leaf by leaf."""
    return jax.tree_util.tree_map(lambda n, o: jnp.where(flag, n, o), new, old)


class OnPolicyUpdate:
    """The pure pieces of a rollout update, for a class that sets: ``policy``, ``value`` (JAX models),
    ``policy_optimizer``, ``value_optimizer`` (:func:`~steprl.resources.optimizers.jax.Adam` results),
    ``_state_preprocessor``, ``_value_preprocessor`` (``RunningStandardScaler`` or ``None``), ``scheduler``,
    ``_discount_factor``, ``_lambda``, ``_learning_epochs``, ``_mini_batches``, ``_grad_norm_clip``,
    ``_kl_threshold``, and gives the minibatch loss (:meth:`_loss`).
    """

    _kl_early_stop = True  # PPO: stop an epoch's minibatches once the approximate KL exceeds kl_threshold

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

    def _loss(
        self, policy_params: Any, value_params: Any, states: Inputs, batch: Batch, key: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The minibatch loss and its parts (``policy_loss``, ``value_loss``, ``entropy_loss``; PPO adds ``kl`` and
        ``stddev``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _loss()")

    def _policy_inputs(self, states: jax.Array, actions: jax.Array, key: jax.Array) -> dict[str, Any]:
        return {"states": states, "taken_actions": actions, "key": key, **self._policy_extras(True)}

    def _evaluate_batch(
        self, policy_params: Any, value_params: Any, states: Inputs, batch: Batch, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """For a loss: the batch actions' log-probabilities, the entropy, the predicted values and the policy's
        mean standard deviation (NaN for discrete policies, not differentiated)."""
        policy_key, value_key = jax.random.split(key)
        inputs = self._policy_inputs(states.policy, batch.actions, policy_key)
        log_prob, entropy, outputs = self.policy.evaluate(policy_params, inputs, "policy")
        predicted = self.value.evaluate(value_params, {"states": states.value, "key": value_key}, "value")[0]
        stddev = jax.lax.stop_gradient(jnp.mean(outputs.get("stddev", jnp.nan)))
        return log_prob, entropy, predicted, stddev

    def _rollout_inputs(self, ts: TrainState, rollout: Rollout) -> Inputs:
        """The update-time pass's inputs: the policy's for the ``T·N`` steps, the value's for the ``T·N`` steps then
        the ``T·N`` next observations (the state preprocessor is applied, not trained)."""
        t, n = rollout.rewards.shape[:2]
        both = jnp.concatenate([rollout.states.reshape(t * n, -1), rollout.next_states.reshape(t * n, -1)])
        processed = self._preprocess(ts.state_pre, both)
        return Inputs(processed[: t * n], processed)

    def _batch_extras(self, rollout: Rollout) -> Any:
        """Further per-sample arrays of the minibatches (``Batch.extras``), flat ``(T·N, size)``."""
        return None

    def _minibatch_inputs(self, ts: TrainState, mb: Batch, train: jax.Array) -> tuple[TrainState, Inputs]:
        """A minibatch's inputs; where ``train`` (the first epoch), the state preprocessor first learns from it."""
        state_pre = ts.state_pre
        if state_pre is not None:
            updated = scaler_update_over_processes(state_pre, mb.states.astype(jnp.float32))
            state_pre = select(train, updated, state_pre)
        states = self._preprocess(state_pre, mb.states)
        return ts.replace(state_pre=state_pre), Inputs(states, states)

    def _prepare(self, ts: TrainState, rollout: Rollout, key: jax.Array) -> tuple[Batch, ScalerState | None]:
        """Values, next values and old log-probs in one batched pass; GAE; normalised advantages; the value
        preprocessor trained on the values (returns and values then in its scale)."""
        t, n = rollout.rewards.shape[:2]
        flat = lambda x: x.reshape(t * n, -1)  # noqa: E731
        states, actions = flat(rollout.states), flat(rollout.actions)
        inputs = self._rollout_inputs(ts, rollout)
        key_value, key_policy = jax.random.split(key)
        both = self.value.evaluate(ts.value_params, {"states": inputs.value, "key": key_value}, "value")[0]
        both = self._value_scale(ts.value_pre, both.astype(jnp.float32), inverse=True)
        values, next_values = both[: t * n].reshape(t, n, 1), both[t * n :].reshape(t, n, 1)
        if rollout.log_prob is not None:
            old_log_prob = flat(rollout.log_prob)
        else:
            policy_inputs = self._policy_inputs(inputs.policy, actions, key_policy)
            old_log_prob = self.policy.evaluate(ts.policy_params, policy_inputs, "policy")[0]
        returns, advantages = compute_gae(
            rollout.rewards, values, next_values, rollout.terminated, rollout.truncated,
            self._discount_factor, self._lambda,
        )  # fmt: skip
        advantages = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
        value_pre = ts.value_pre
        if value_pre is not None:
            value_pre = scaler_update_over_processes(value_pre, values)
        values = self._value_scale(value_pre, values, inverse=False)
        returns = self._value_scale(value_pre, returns, inverse=False)
        batch = Batch(
            states, actions, old_log_prob, flat(values), flat(returns), flat(advantages), self._batch_extras(rollout)
        )
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
            ts, states = self._minibatch_inputs(ts, mb, active & first_epoch)
            (_, parts), grads = grad_fn(ts.policy_params, ts.value_params, states, mb, key)
            # distributed: every process steps with the mean gradients and decides KL stops on the mean KL
            (policy_grads, value_grads), parts = mean_over_processes((grads, parts))
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
            ts = select(step, stepped, ts)
            metrics = {k: jnp.where(step, parts[k], 0.0) for k in LOSSES}
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
        out = {k: metrics[k].sum() / steps for k in (*LOSSES, "stddev")}
        out["steps"] = metrics["steps"].sum()  # gradient steps taken (fewer than epochs x minibatches after a KL stop)
        out["kl"] = mean_over_processes(self._update_kl(ts, batch, metrics["epoch_kl"]))
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
