"""The replay-based JAX agents' machinery (SAC, TD3, DDPG; DQN and DDQN build on it too).

Per environment step one jitted call acts (preprocessing, forward pass, sampling or noise) and, in training only,
the core writes ``states``, ``actions``, ``rewards``, ``next_states`` (the TRUE next observation, also for finished
episodes), ``terminated`` and ``truncated`` to the memory (evaluation never writes it). Targets bootstrap through
truncation and stop at termination. ``random_timesteps`` and ``learning_starts`` count the agent's own training
steps (:mod:`steprl.core.agent`).

At each training step once learning has started, ONE jitted call runs all ``gradient_steps``: a ``lax.scan`` whose
body draws a batch from the memory's arrays with the agent's PRNG key (:func:`steprl.memories.jax.sampling.sample_rows`,
no host round trip), updates the state preprocessor, and runs the subclass's pure gradient step (losses, optimizer
steps, target updates). The key comes back with the new parameters, so ``gradient_steps=k`` equals ``k`` updates of
one step. Losses come back as arrays, read only when tracking data is written.

A subclass registers its models (:meth:`OffPolicyAgent._learn_model`) and optimizers (:meth:`_learn_optimizer`),
implements :meth:`_gradient_step` (pure: ``(state, batch, key, step) -> (state, metrics)``) and
:meth:`_act_pure`; :meth:`_apply_gradients` and :func:`polyak_update` are the pieces it composes.
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
from steprl.agents.jax.on_policy import _build_preprocessor
from steprl.agents.jax.parallel import compile_update, mean_over_processes, scaler_update_over_processes
from steprl.core.off_policy import BATCH_NAMES, ReplaySchedule, discrete_actions, replay_settings
from steprl.memories.jax.sampling import sample_rows
from steprl.models.jax.base import Model
from steprl.resources.optimizers.jax.adam import Adam, AdamOptimizer
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, scaler_apply
from steprl.resources.schedulers.jax.kl_adaptive import KLAdaptiveSchedule

__all__ = ["OffPolicyAgent", "ReplayBatch", "ReplayState", "polyak_update"]


class ReplayState(flax.struct.PyTreeNode):
    """What the jitted update reads and returns: parameters by role, optimizer states by checkpoint name, the state
    preprocessor's statistics."""

    params: dict[str, Any]
    opt: dict[str, Any]
    state_pre: ScalerState | None


class ReplayBatch(NamedTuple):
    """One sampled batch, each ``(batch_size, size)``; states already preprocessed."""

    states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    next_states: jax.Array
    terminated: jax.Array  # bool


def polyak_update(target: Any, source: Any, polyak: float) -> Any:
    """``θ_target + polyak·(θ_source − θ_target)`` leaf by leaf (``polyak=1``: a copy)."""
    return jax.tree_util.tree_map(lambda t, s: t + polyak * (s - t), target, source)


def _reduce(tag: str, values: jax.Array) -> jax.Array:
    """One value per update from the per-gradient-step values: max/min/mean per the tag's suffix."""
    if tag.endswith("(max)"):
        return values.max()
    if tag.endswith("(min)"):
        return values.min()
    return values.mean()


class OffPolicyAgent(ReplaySchedule, Agent):
    """Base of the JAX replay agents (``cfg`` already merged with the algorithm's defaults)."""

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
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._name = name
        c = self.cfg
        settings = replay_settings(c, name)
        self._gradient_steps = settings.gradient_steps
        self._batch_size = settings.batch_size
        self._discount_factor = settings.discount_factor
        self._polyak = settings.polyak
        self._grad_norm_clip = float(c.get("grad_norm_clip", 0.0) or 0.0)
        self._schedule = self._build_schedule(c.get("learning_rate_scheduler"), c.get("learning_rate_scheduler_kwargs"))
        self._state_preprocessor = _build_preprocessor(
            c.get("state_preprocessor"), c.get("state_preprocessor_kwargs"), self.device, "state_preprocessor"
        )
        if self._state_preprocessor is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        if c.get("checkpoint_memory") and self.memory is not None:
            self.checkpoint_modules["memory"] = self.memory

        self._learned: dict[str, Model] = {}  # role -> model whose parameters the update reads (and may change)
        self._optimizer_names: list[str] = []  # attribute names of the optimizers the update steps
        self._numpy = config.jax.backend == "numpy"  # act returns NumPy arrays (one packed transfer per step)
        self._act_count = 0  # per-step subkeys are fold_in(key, count): no key comes back from the device per step
        self._act_layout: tuple[int, Any, Any] | None = None
        self._act_jit = {
            mode: jax.jit(lambda p, pre, key, count, states, extra, mode=mode: self._act_packed(p, pre, key, count, states, extra, mode))
            for mode in (True, False)
        }
        self._update_jit = compile_update(self._update_pure)  # distributed: gradients averaged over processes

    # ------------------------------------------------------------------ construction helpers
    def _build_schedule(self, factory: Any, kwargs: Mapping[str, Any] | None) -> Any:
        """``None`` or an optax-style schedule ``count -> lr`` (``factory(**kwargs)``), applied by every optimizer."""
        if factory is None:
            return None
        schedule = factory(**dict(kwargs or {}))
        if isinstance(schedule, KLAdaptiveSchedule) or not callable(schedule):
            raise TypeError(
                f"{self._name} cfg['learning_rate_scheduler'] must be a schedule factory returning a callable "
                f"count -> learning rate (e.g. optax.linear_schedule), got {type(schedule).__name__}"
            )
        return schedule

    def _learn_model(self, role: str, model: Model) -> None:
        """Register ``model`` as ``role`` in the update state and in checkpoints."""
        self._learned[role] = model
        self.checkpoint_modules[role] = model

    def _learn_optimizer(self, name: str, model: Model, learning_rate: float) -> AdamOptimizer:
        """Create Adam for ``model`` as attribute and checkpoint module ``name`` (gradients are clipped in
        :meth:`_apply_gradients`, jointly over the models one step updates)."""
        if not learning_rate > 0:
            raise ValueError(f"{self._name}: the learning rate of '{name}' must be > 0, got {learning_rate}")
        optimizer = Adam(model, self._schedule if self._schedule is not None else learning_rate)
        setattr(self, name, optimizer)
        self.checkpoint_modules[name] = optimizer
        self._optimizer_names.append(name)
        return optimizer

    def _commit(self) -> None:
        """Place every learned parameter, optimizer and preprocessor state and the key on the agent's device
        (committed arrays like the jitted functions' outputs, so that the update is compiled once)."""
        put = lambda tree: jax.device_put(tree, self.device)  # noqa: E731
        for model in {id(m): m for m in self.models.values() if m is not None}.values():
            model.broadcast_parameters()  # distributed: every process starts from rank 0's parameters
            model.state_dict = model.state_dict.replace(params=put(model.state_dict.params))
        for model in self._learned.values():
            model.state_dict = model.state_dict.replace(params=put(model.state_dict.params))
        for name in self._optimizer_names:
            self._replace_module(name, getattr(self, name).replace(state=put(getattr(self, name).state)))
        if self._state_preprocessor is not None:
            self._state_preprocessor.state = put(self._state_preprocessor.state)
        self._key = put(self._key)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve intervals and create the replay tensors."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        for memory in [self.memory, *self.secondary_memories]:
            self._create_memory_tensors(memory)

    def _create_memory_tensors(self, memory: Any) -> None:
        """``states``/``next_states`` (observation), ``actions``, ``rewards``, ``terminated``, ``truncated`` (int8)."""
        memory.create_tensor(name="states", size=self.observation_space, dtype=np.float32)
        memory.create_tensor(name="next_states", size=self.observation_space, dtype=np.float32)
        action_dtype = np.int32 if discrete_actions(self.action_space) else np.float32
        memory.create_tensor(name="actions", size=self.action_space, dtype=action_dtype)
        memory.create_tensor(name="rewards", size=1, dtype=np.float32)
        memory.create_tensor(name="terminated", size=1, dtype=np.int8)
        memory.create_tensor(name="truncated", size=1, dtype=np.int8)

    # ------------------------------------------------------------------ pure pieces
    def _preprocess(self, state: ScalerState | None, states: jax.Array) -> jax.Array:
        states = jnp.asarray(states).astype(jnp.float32)
        if state is None:
            return states
        return scaler_apply(state, states, self._state_preprocessor.clip_threshold, self._state_preprocessor.epsilon)

    def _act_pure(
        self, params: Mapping[str, Any], states: jax.Array, key: jax.Array, extra: Any, training: bool
    ) -> tuple[jax.Array, jax.Array]:
        """``(actions, mean_actions)`` for preprocessed ``states`` (``training``: with exploration)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _act_pure()")

    def _act_roles(self) -> tuple[str, ...]:
        """The roles whose parameters acting reads."""
        return ("policy",)

    def _act_extra(self, states: Any, timesteps: int) -> Any:
        """Per-step values a training step's acting needs (DDPG/TD3: the scaled exploration noise; DQN: epsilon)."""
        return None

    def _act_packed(
        self, params: Any, state_pre: Any, key: jax.Array, count: Any, states: Any, extra: Any, training: bool
    ) -> Any:
        actions, mean = self._act_pure(params, self._preprocess(state_pre, states), jax.random.fold_in(key, count), extra, training)
        if not self._numpy:
            return actions, mean
        return jnp.concatenate([actions.astype(jnp.float32), mean.astype(jnp.float32)], axis=-1)

    def _gradient_step(
        self, state: ReplayState, batch: ReplayBatch, key: jax.Array, step: jax.Array
    ) -> tuple[ReplayState, dict[str, jax.Array]]:
        """One gradient step on ``batch`` (pure). ``step`` counts the agent's gradient steps, this one included
        (TD3's policy delay). Returns the new state and ``{tag: value}`` metrics."""
        raise NotImplementedError(f"{type(self).__name__} must implement _gradient_step()")

    def _apply_gradients(self, state: ReplayState, grads: Mapping[str, Any], optimizers: Mapping[str, str]) -> ReplayState:
        """Step the models ``grads`` (role -> gradients) with their optimizers (role -> optimizer name), after
        clipping the gradients jointly to ``grad_norm_clip`` (one global norm, as the torch agents' one optimizer
        over those models)."""
        grads = mean_over_processes(dict(grads))  # distributed: the mean over processes, before clipping
        if self._grad_norm_clip > 0:
            norm = optax.tree.norm(dict(grads))
            factor = jnp.minimum(1.0, self._grad_norm_clip / (norm + 1e-6))
            grads = jax.tree_util.tree_map(lambda g: g * factor, dict(grads))
        params, opt = dict(state.params), dict(state.opt)
        for role, grad in grads.items():
            name = optimizers[role]
            updates, opt[name] = getattr(self, name).transformation.update(grad, opt[name], params[role])
            params[role] = optax.apply_updates(params[role], updates)
        return state.replace(params=params, opt=opt)

    def _update_pure(
        self, state: ReplayState, key: jax.Array, arrays: tuple[Any, ...], size: jax.Array, first_step: jax.Array
    ) -> tuple[ReplayState, jax.Array, dict[str, jax.Array]]:
        """``gradient_steps`` gradient steps as one ``lax.scan``; returns the state, the advanced key and the metrics
        reduced over the steps."""
        replacement = bool(getattr(self.memory, "replacement", True))

        def body(carry: tuple[ReplayState, jax.Array], step: jax.Array) -> tuple[tuple[ReplayState, jax.Array], dict]:
            state, key = carry
            key, sample_key, step_key = jax.random.split(key, 3)
            states, actions, rewards, next_states, terminated = sample_rows(
                sample_key, arrays, size, self._batch_size, replacement
            )
            state_pre = state.state_pre
            if state_pre is not None:
                state_pre = scaler_update_over_processes(state_pre, states.astype(jnp.float32))
            batch = ReplayBatch(
                self._preprocess(state_pre, states), actions, rewards.astype(jnp.float32),
                self._preprocess(state_pre, next_states), terminated.astype(bool),
            )  # fmt: skip
            state, metrics = self._gradient_step(state.replace(state_pre=state_pre), batch, step_key, step)
            return (state, key), metrics

        steps = first_step + jnp.arange(self._gradient_steps)
        (state, key), metrics = jax.lax.scan(body, (state, key), steps)
        return state, key, {tag: _reduce(tag, values) for tag, values in metrics.items()}

    # ------------------------------------------------------------------ interaction
    def _random_policy(self) -> Any:
        """The model whose ``random_act`` samples the action space (the policy; DQN: the Q-network)."""
        return self.models.get("policy")

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple[Any, Any, dict[str, Any]]:
        """Uniformly random actions during the first ``random_timesteps`` training steps, else one jitted call.

        Returns ``(actions, None, {"mean_actions": ...})``: NumPy arrays with ``config.jax.backend == "numpy"`` (one
        transfer per step, which the environment step needs anyway), else ``jax.Array``.
        """
        if self._exploring():
            actions, _, outputs = self._random_policy().random_act({"states": states, "key": self._next_key()}, role="policy")
            if self._numpy:
                actions = np.asarray(actions)
            return actions, None, {**outputs, "mean_actions": actions}
        params = {role: self._model(role).state_dict.params for role in self._act_roles()}
        state_pre = None if self._state_preprocessor is None else self._state_preprocessor.state
        self._act_count += 1
        extra = self._act_extra(states, timesteps) if self.training else None
        out = self._act_jit[self.training](params, state_pre, self._key, self._act_count, states, extra)
        if not self._numpy:
            actions, mean = out
            return actions, None, {"mean_actions": mean}
        actions, mean = self._unpack(np.asarray(out), params, state_pre, states, extra)
        return actions, None, {"mean_actions": mean}

    def _model(self, role: str) -> Model:
        return self._learned[role] if role in self._learned else self.models[role]

    def _unpack(self, out: np.ndarray, params: Any, state_pre: Any, states: Any, extra: Any) -> tuple[Any, Any]:
        """Views of the packed per-step output (actions and mean actions in the policy's dtypes)."""
        if self._act_layout is None:
            shapes = jax.eval_shape(
                lambda p, pre, s, e: self._act_pure(p, self._preprocess(pre, s), self._key, e, self.training),
                params, state_pre, jnp.asarray(states), extra,
            )  # fmt: skip
            self._act_layout = (shapes[0].shape[-1], np.dtype(shapes[0].dtype), np.dtype(shapes[1].dtype))
        width, dtype, mean_dtype = self._act_layout
        return out[:, :width].astype(dtype, copy=False), out[:, width:].astype(mean_dtype, copy=False)

    # ------------------------------------------------------------------ learning
    def _train_step(self, timestep: int, timesteps: int) -> None:
        """``gradient_steps`` updates at every training step once learning has started (``learning_starts``)."""
        if self._should_update():
            self._update(timestep, timesteps)

    def _gradient_steps_done(self) -> int:
        """Gradient steps taken so far (TD3 checkpoints its own count; others need none)."""
        return 0

    def _update(self, timestep: int, timesteps: int) -> None:
        """One jitted call: ``gradient_steps`` batches sampled and learned from."""
        size = len(self.memory)
        if size == 0:
            raise ValueError(f"{self._name}: learning started but the memory is empty (nothing was recorded)")
        if not getattr(self.memory, "replacement", True) and size < self._batch_size:
            raise ValueError(
                f"{self._name}: the memory samples without replacement and holds {size} transitions, fewer than "
                f"batch_size={self._batch_size}: raise learning_starts or use RandomMemory(replacement=True)"
            )
        arrays = tuple(self.memory.tensors[name] for name in BATCH_NAMES)
        state, self._key, metrics = self._update_jit(
            self._train_state(), self._key, arrays, np.int32(size), np.int32(self._gradient_steps_done() + 1)
        )
        self._store_train_state(state)
        self._updated(metrics)

    def _train_state(self) -> ReplayState:
        return ReplayState(
            params={role: model.state_dict.params for role, model in self._learned.items()},
            opt={name: getattr(self, name).state for name in self._optimizer_names},
            state_pre=None if self._state_preprocessor is None else self._state_preprocessor.state,
        )

    def _store_train_state(self, state: ReplayState) -> None:
        """Write the update's results back into the models, optimizers and preprocessor (no host sync)."""
        for role, model in self._learned.items():
            model.state_dict = model.state_dict.replace(params=state.params[role])
        for name in self._optimizer_names:
            self._replace_module(name, getattr(self, name).replace(state=state.opt[name]))
        if self._state_preprocessor is not None:
            self._state_preprocessor.state = state.state_pre

    def _updated(self, metrics: Mapping[str, jax.Array]) -> None:
        """After an update: its metrics become tracking data (arrays, synced only when written)."""
        for tag, value in metrics.items():
            self.track_data(tag, value)
