"""Cross-entropy method (Rubinstein, 1999) for a categorical policy (JAX): imitate the elite episodes.

The per-step policy call is one jitted function; the update (episode segmentation, elite selection, the
cross-entropy step and the carry-over of unfinished episodes) is another, over a stream of static length: the
carried steps live in a buffer of fixed capacity (one rollout; doubled when an episode outgrows it), so the update
compiles once. One scalar comes back to the host per update: how many steps are carried over.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from steprl import config
from steprl.agents.jax.base import Agent
from steprl.agents.jax.cem.losses import cem_loss, select_elite
from steprl.agents.jax.on_policy import _build_preprocessor
from steprl.agents.jax.on_policy_update import select
from steprl.core.cem import CEM_DEFAULTS, STREAM_NAMES, CEMSchedule, cem_settings
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.roles import check_model_roles, require_model
from steprl.resources.optimizers.jax.adam import Adam, learning_rate_of
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, scaler_apply, scaler_update

__all__ = ["CEM", "CEM_DEFAULT_CONFIG"]

CEM_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(
    {key: copy.deepcopy(value) for key, value in CEM_DEFAULTS.items() if key != "mixed_precision"}
)


class _TrainState(flax.struct.PyTreeNode):
    """What the jitted update reads and returns."""

    params: Any
    opt: Any
    state_pre: ScalerState | None


class _Carry(NamedTuple):
    """Steps of episodes still running when a rollout ended, ordered by environment then time (``C`` rows)."""

    env_ids: jax.Array  # (C,) int32
    states: jax.Array  # (C, obs)
    actions: jax.Array  # (C, 1)
    rewards: jax.Array  # (C, 1)


class _Rollout(NamedTuple):
    """The stored rollout, each ``(T, N, size)``."""

    states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array


class CEM(CEMSchedule, Agent):
    """Cross-entropy method: every ``rollouts`` training steps, one cross-entropy step on the elite (state, action) pairs.

    As the PyTorch agent: episodes are tracked per environment (each memory column is one environment's time
    line); only complete episodes (terminated or truncated) are ranked, by their discounted return from the
    episode's first step; the elite are those at or above the ``percentile`` quantile. Episodes still running at
    the end of a rollout are carried over (:attr:`carry`) and ranked whole in the update after they end; episodes
    abandoned by the trainer are dropped.

    Models: ``policy`` (categorical). Memory: ``rollouts`` rows of ``states``, ``next_states``, ``actions`` (int32),
    ``rewards``, ``terminated``, ``truncated`` (int8). Checkpoint: ``policy``, ``optimizer`` (+
    ``state_preprocessor``).
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
        cfg = merge_config(CEM_DEFAULT_CONFIG, cfg, where="CEM cfg")
        check_model_roles(models, ("policy",), "CEM")
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.policy = require_model(self.models, "policy", "CEM")
        self.checkpoint_modules["policy"] = self.policy

        c = self.cfg
        self._rollouts, self._percentile, self._discount_factor, self._learning_rate = cem_settings(c)
        lr: Any = self._learning_rate
        if c["learning_rate_scheduler"] is not None:
            lr = c["learning_rate_scheduler"](**dict(c["learning_rate_scheduler_kwargs"] or {}))
            if not callable(lr):
                raise TypeError(
                    "CEM cfg['learning_rate_scheduler'] must be a schedule factory (e.g. optax.linear_schedule) "
                    f"returning a callable, got {type(lr).__name__}"
                )
        self._scheduled = c["learning_rate_scheduler"] is not None
        self.optimizer = Adam(self.policy, lr)
        self.checkpoint_modules["optimizer"] = self.optimizer
        self._state_preprocessor = _build_preprocessor(
            c["state_preprocessor"], c["state_preprocessor_kwargs"], self.device, "state_preprocessor"
        )
        if self._state_preprocessor is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor

        put = lambda tree: jax.device_put(tree, self.device)  # noqa: E731
        self.policy.state_dict = self.policy.state_dict.replace(params=put(self.policy.state_dict.params))
        self._replace_module("optimizer", self.optimizer.replace(state=put(self.optimizer.state)))
        self._key = put(self._key)
        self._numpy = config.jax.backend == "numpy"
        self._act_count = 0  # per-step subkeys are fold_in(key, count): no key comes back from the device per step
        self._act_jit = jax.jit(self._act_pure)
        self._update_jit = jax.jit(self._update_pure)
        self._carry_buffer: _Carry | None = None  # carried steps first, then padding (``_carry_rows`` real rows)
        self._carry_rows = 0
        self._carry_capacity = 1  # rows of the carry buffer the update takes (one rollout once the memory is known)
        self._init_schedule()

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the memory tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        self._check_memory()
        self._carry_capacity = self.memory.memory_size * self.memory.num_envs
        for memory in [self.memory, *self.secondary_memories]:
            memory.create_tensor(name="states", size=self.observation_space, dtype=np.float32)
            memory.create_tensor(name="next_states", size=self.observation_space, dtype=np.float32)
            memory.create_tensor(name="actions", size=self.action_space, dtype=np.int32)
            memory.create_tensor(name="rewards", size=1, dtype=np.float32)
            memory.create_tensor(name="terminated", size=1, dtype=np.int8)
            memory.create_tensor(name="truncated", size=1, dtype=np.int8)

    # ------------------------------------------------------------------ interaction
    def _preprocess(self, state: ScalerState | None, states: jax.Array) -> jax.Array:
        states = states.astype(jnp.float32)
        if state is None:
            return states
        pre = self._state_preprocessor
        return scaler_apply(state, states, pre.clip_threshold, pre.epsilon)

    def _act_pure(
        self, params: Any, state_pre: ScalerState | None, key: jax.Array, count: jax.Array, states: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Preprocess, forward and sample: ``(actions, log_prob, mean_actions)``."""
        inputs = {"states": self._preprocess(state_pre, states)}
        actions, log_prob, outputs = self.policy.act_pure(params, inputs, "policy", jax.random.fold_in(key, count))
        return actions, log_prob, outputs["mean_actions"]

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple[Any, Any, dict[str, Any]]:
        """Sample actions with one jitted call (uniformly at random during the first ``random_timesteps`` training
        steps); NumPy arrays with ``config.jax.backend == "numpy"``, else ``jax.Array``."""
        if self._exploring():
            actions, _, outputs = self.policy.random_act({"states": states, "key": self._next_key()}, role="policy")
            return (np.asarray(actions) if self._numpy else actions), None, outputs
        self._act_count += 1
        state_pre = None if self._state_preprocessor is None else self._state_preprocessor.state
        out = self._act_jit(self.policy.state_dict.params, state_pre, self._key, self._act_count, states)
        actions, log_prob, mean = jax.device_get(out) if self._numpy else out
        return actions, log_prob, {"mean_actions": mean}

    # ------------------------------------------------------------------ learning
    def _update_pure(
        self, ts: _TrainState, rollout: _Rollout, cuts: jax.Array, carry: _Carry, carry_valid: jax.Array, learn: jax.Array
    ) -> tuple[_TrainState, _Carry, dict[str, jax.Array]]:
        """The whole update (jitted): the stream (carried steps then the rollout, per environment), the elite, one
        cross-entropy step when learning has started and an elite exists, the steps to carry over (compacted to the
        front; ``metrics["carried"]`` counts them)."""
        t, n = rollout.rewards.shape[:2]
        column = lambda x: jnp.swapaxes(x, 0, 1).reshape(t * n, -1)  # noqa: E731
        rows = carry.env_ids.shape[0]
        env_ids = jnp.concatenate([jnp.where(carry_valid, carry.env_ids, n), jnp.repeat(jnp.arange(n), t)])
        order = jnp.argsort(env_ids, stable=True)
        gather = lambda first, second: jnp.concatenate([first, second])[order]  # noqa: E731
        env_ids = env_ids[order]
        states = gather(carry.states.astype(jnp.float32), column(rollout.states).astype(jnp.float32))
        actions = gather(carry.actions.astype(jnp.int32), column(rollout.actions).astype(jnp.int32))
        rewards = gather(carry.rewards.astype(jnp.float32), column(rollout.rewards).astype(jnp.float32))
        none = jnp.zeros(rows, bool)
        dones = gather(none, ((column(rollout.terminated) + column(rollout.truncated)) > 0).reshape(-1))
        cut = gather(none, jnp.tile(cuts, n))
        valid = gather(carry_valid, jnp.ones(t * n, bool))

        selection = select_elite(env_ids, rewards, dones, cut, self._discount_factor, self._percentile, valid)
        elite = selection.elite_steps
        state_pre = ts.state_pre if ts.state_pre is None else scaler_update(ts.state_pre, states, elite)

        def loss_fn(params: Any) -> jax.Array:
            inputs = {"states": self._preprocess(state_pre, states), "taken_actions": actions}
            return cem_loss(self.policy.evaluate(params, inputs, "policy")[0], elite)

        loss, grads = jax.value_and_grad(loss_fn)(ts.params)
        updates, opt = self.optimizer.transformation.update(grads, ts.opt, ts.params)
        stepped = _TrainState(optax.apply_updates(ts.params, updates), opt, state_pre)
        step = learn & elite.any()
        ts = select(step, stepped, ts)

        tail = selection.tail_steps
        front = jnp.argsort(~tail, stable=True)
        carried = _Carry(env_ids[front], states[front], actions[front], rewards[front])
        complete = selection.complete
        metrics = {
            "stepped": step,
            "carried": tail.sum(),
            "loss": loss,
            "threshold": selection.threshold,
            "mean_return": jnp.sum(jnp.where(complete, selection.returns, 0.0)) / jnp.maximum(complete.sum(), 1),
        }
        if self._scheduled:
            metrics["learning_rate"] = jnp.asarray(learning_rate_of(ts.opt), jnp.float32)
        return ts, carried, metrics

    @property
    def carry(self) -> _Carry | None:
        """The steps carried over to the next update (``None`` when nothing is carried)."""
        if self._carry_buffer is None:
            return None
        return _Carry(*(x[: self._carry_rows] for x in self._carry_buffer))

    @carry.setter
    def carry(self, value: None) -> None:
        if value is not None:
            raise ValueError("CEM.carry can only be cleared (set to None)")
        self._carry_buffer, self._carry_rows = None, 0

    def _carry_input(self, capacity: int) -> tuple[_Carry, jax.Array]:
        """The carry buffer with ``capacity`` rows (an empty one when nothing is carried) and which rows are real."""
        buffer, rows = self._carry_buffer, self._carry_rows
        if buffer is None:
            states = self.memory.get_tensor_by_name("states")
            buffer = _Carry(
                jnp.zeros(capacity, jnp.int32), jnp.zeros((capacity, *states.shape[2:]), jnp.float32),
                jnp.zeros((capacity, 1), jnp.int32), jnp.zeros((capacity, 1), jnp.float32),
            )  # fmt: skip
        fit = lambda x: jnp.pad(x[:capacity], [(0, max(0, capacity - x.shape[0]))] + [(0, 0)] * (x.ndim - 1))  # noqa: E731
        buffer = _Carry(*(fit(x) for x in buffer))
        return buffer, jnp.arange(capacity) < rows

    def _update(self, timestep: int, timesteps: int) -> None:
        """Rank the complete episodes, take one cross-entropy step on the elite steps, carry the unfinished ones."""
        memory = self.memory
        rollout = _Rollout(*(jnp.asarray(memory.get_tensor_by_name(name)) for name in STREAM_NAMES))
        cuts = np.zeros(memory.memory_size, bool)
        cuts[self._take_cut_rows()] = True
        while self._carry_rows > self._carry_capacity:
            self._carry_capacity *= 2  # an episode longer than the buffer: one more compilation
        carry, carry_valid = self._carry_input(self._carry_capacity)
        state_pre = None if self._state_preprocessor is None else self._state_preprocessor.state
        ts = _TrainState(self.policy.state_dict.params, self.optimizer.state, state_pre)
        learn = jnp.asarray(self._learning_started())
        ts, carried, metrics = self._update_jit(ts, rollout, jnp.asarray(cuts), carry, carry_valid, learn)
        rows, stepped = (int(v) for v in jax.device_get((metrics["carried"], metrics["stepped"])))
        self._carry_buffer, self._carry_rows = (carried if rows else None), rows
        self.policy.state_dict = self.policy.state_dict.replace(params=ts.params)
        self._replace_module("optimizer", self.optimizer.replace(state=ts.opt))
        if self._state_preprocessor is not None:
            self._state_preprocessor.state = ts.state_pre
        if stepped and self.write_interval > 0:
            self.track_data("Loss / Policy loss", metrics["loss"])
            self.track_data("Coefficient / Return threshold", metrics["threshold"])
            self.track_data("Coefficient / Mean discounted returns", metrics["mean_return"])
            if self._scheduled:
                self.track_data("Learning / Learning rate", metrics["learning_rate"])
