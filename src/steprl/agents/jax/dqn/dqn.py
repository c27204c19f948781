"""Deep Q-Network (Mnih et al., 2015), JAX, with double DQN (van Hasselt et al., 2016) as a one-flag subclass.

Acting is one jitted call (epsilon-greedy, the exploration rate passed in as a number). A training step with
gradient steps is one jitted call: the target update when it is due, then every gradient step as a ``lax.scan``
(:class:`steprl.agents.jax.off_policy.OffPolicyAgent`). A step that only updates the target network runs the
polyak average alone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl.agents.jax.dqn.losses import dqn_loss, dqn_targets
from steprl.agents.jax.off_policy import OffPolicyAgent, ReplayBatch, ReplayState, polyak_update
from steprl.agents.jax.on_policy_update import select
from steprl.agents.jax.parallel import compile_update
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.core.dqn import DQN_DEFAULTS, DQN_ROLES, dqn_settings
from steprl.core.roles import check_model_roles, require_model
from steprl.resources.optimizers.jax.adam import learning_rate_of

__all__ = ["DQN", "DQN_DEFAULT_CONFIG"]

DQN_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(
    {key: copy.deepcopy(value) for key, value in DQN_DEFAULTS.items() if key != "mixed_precision"}
)


class DQN(OffPolicyAgent):
    """Deep Q-Network: epsilon-greedy over ``q_network``, TD targets from ``target_q_network``.

    As the PyTorch agent, counted in the agent's training steps: ``act`` is greedy ``argmax_a Q(s, a)`` replaced, per
    environment, by a uniform random action with probability ``epsilon = final + (initial - final)·exp(-t /
    exploration.timesteps)``; evaluation is greedy (``outputs["mean_actions"]``). Once more than ``learning_starts``
    training steps are counted: the target network moves ``θ' ← θ' + polyak·(θ - θ')`` every
    ``target_update_interval`` training steps, before that step's gradient steps; ``gradient_steps`` MSE steps run
    every ``update_interval`` training steps. Termination stops the bootstrap, truncation does not. Checkpoint:
    ``q_network``, ``target_q_network``, ``optimizer`` (+ ``state_preprocessor``).
    """

    _NAME = "DQN"
    _DEFAULTS: Mapping[str, Any] = DQN_DEFAULT_CONFIG
    _DOUBLE = False  # double DQN: the online network picks the next action, the target network evaluates it

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        name = self._NAME
        cfg = merge_config(self._DEFAULTS, cfg, where=f"{name} cfg")
        check_model_roles(models, DQN_ROLES, name)
        super().__init__(models, memory, observation_space, action_space, device, cfg, name)
        self._settings = dqn_settings(self.cfg, name)
        self.q_network = require_model(self.models, "q_network", name)
        self.target_q_network = self.models.get("target_q_network")
        self._learn_model("q_network", self.q_network)
        self.optimizer = None
        if self.target_q_network is not None:  # absent only for evaluation-only use
            self.target_q_network.update_parameters(self.q_network, polyak=1)
            self._learn_model("target_q_network", self.target_q_network)
            self._learn_optimizer("optimizer", self.q_network, self._settings.learning_rate)
        self._commit()
        self._target_due = False  # whether the coming update starts with the target update
        self._fused_jit = compile_update(self._target_then_update)  # distributed: gradients averaged over processes
        self._update_jit = self._fused_update  # the base's update call, with the target update in front
        self._target_jit = jax.jit(self._target_updated)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the replay tensors (a memory needs the ``target_q_network`` to learn)."""
        if self.memory is not None and self.target_q_network is None:
            raise ValueError(
                f"{self._NAME} requires a 'target_q_network' model to learn (a memory was given): "
                "pass models={'target_q_network': ...}"
            )
        super().init(trainer_cfg)

    # ------------------------------------------------------------------ interaction
    def epsilon(self) -> float:
        """The exploration rate of the next training step (0 when ``exploration.timesteps`` is falsy)."""
        return self._settings.epsilon(self.training_steps)

    def _random_policy(self) -> Any:
        return self.q_network

    def _act_roles(self) -> tuple[str, ...]:
        return ("q_network",)

    def _act_extra(self, states: Any, timesteps: int) -> Any:
        epsilon = self.epsilon()
        self.track_data("Exploration / Exploration epsilon", epsilon)
        return np.float32(epsilon)

    def _act_pure(
        self, params: Mapping[str, Any], states: jax.Array, key: jax.Array, extra: Any, training: bool
    ) -> tuple[jax.Array, jax.Array]:
        """Epsilon-greedy actions ``(N, 1)`` int32 in training (``extra``: epsilon), greedy in evaluation."""
        q_values = self.q_network.evaluate(params["q_network"], {"states": states}, "q_network")[0]
        greedy = jnp.argmax(q_values, axis=-1, keepdims=True).astype(jnp.int32)
        if not training:
            return greedy, greedy
        explore_key, action_key = jax.random.split(key)
        explore = jax.random.uniform(explore_key, greedy.shape) < extra
        random_actions = jax.random.randint(action_key, greedy.shape, 0, q_values.shape[-1], dtype=jnp.int32)
        return jnp.where(explore, random_actions, greedy), greedy

    # ------------------------------------------------------------------ learning
    def _can_learn(self) -> bool:
        return self._settings.updates_at(self.training_steps)

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Once learning has started: the target update every ``target_update_interval`` training steps (fused with
        the update when the step has one), the update every ``update_interval`` steps."""
        if self.memory is None or self.target_q_network is None or not self._learning_started():
            return
        self._target_due = self._settings.target_update_at(self.training_steps)
        if self._can_learn():
            self._update(timestep, timesteps)
            self._target_due = False  # an update called outside the schedule has no target update in front
        elif self._target_due:
            state = self._target_jit(self._train_state())
            self.target_q_network.state_dict = self.target_q_network.state_dict.replace(
                params=state.params["target_q_network"]
            )

    def _target_updated(self, state: ReplayState) -> ReplayState:
        params = dict(state.params)
        params["target_q_network"] = polyak_update(params["target_q_network"], params["q_network"], self._polyak)
        return state.replace(params=params)

    def _target_then_update(
        self, state: ReplayState, key: jax.Array, arrays: tuple[Any, ...], size: Any, first_step: Any, target_due: Any
    ) -> tuple[ReplayState, jax.Array, dict[str, jax.Array]]:
        state = select(target_due, self._target_updated(state), state)
        return self._update_pure(state, key, arrays, size, first_step)

    def _fused_update(
        self, state: ReplayState, key: jax.Array, arrays: tuple[Any, ...], size: Any, first_step: Any
    ) -> tuple[ReplayState, jax.Array, dict[str, jax.Array]]:
        return self._fused_jit(state, key, arrays, size, first_step, np.bool_(self._target_due))

    def _gradient_step(
        self, state: ReplayState, batch: ReplayBatch, key: jax.Array, step: jax.Array
    ) -> tuple[ReplayState, dict[str, jax.Array]]:
        """One MSE step of the online Q-network towards the (double) DQN targets."""
        q_params, target_params = state.params["q_network"], state.params["target_q_network"]
        q_of = lambda params, states: self.q_network.evaluate(params, {"states": states}, "q_network")[0]  # noqa: E731
        next_target_q = self.target_q_network.evaluate(target_params, {"states": batch.next_states}, "target_q_network")[0]
        next_online_q = q_of(q_params, batch.next_states) if self._DOUBLE else None
        targets = dqn_targets(batch.rewards, batch.terminated, next_target_q, self._discount_factor, next_online_q)
        loss, grads = jax.value_and_grad(lambda p: dqn_loss(q_of(p, batch.states), batch.actions, targets))(q_params)
        state = self._apply_gradients(state, {"q_network": grads}, {"q_network": "optimizer"})
        metrics = {
            "Loss / Q-network loss": loss,
            "Target / Target (max)": targets.max(),
            "Target / Target (min)": targets.min(),
            "Target / Target (mean)": targets.mean(),
        }
        learning_rate = learning_rate_of(state.opt["optimizer"])
        if learning_rate is not None:
            metrics["Learning / Learning rate"] = jnp.asarray(learning_rate, jnp.float32)
        return state, metrics
