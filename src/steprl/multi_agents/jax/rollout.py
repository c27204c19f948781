"""The JAX rollout machinery of IPPO and MAPPO: one jitted policy call per step, one jitted update per rollout.

The bookkeeping (per-agent settings, teams of agents sharing parameters, memories, the update schedule) is
:class:`steprl.core.multi_agent_rollout.MultiAgentRolloutMixin`. Per environment step one jitted function runs the
policy of every team on its members' stacked observations (preprocessing, agent ids, forward pass, sampling and
log-probability), whatever the number of agents and teams. At the end of a rollout one jitted function updates every
team (:class:`~steprl.multi_agents.jax.team.TeamUpdate`: values, GAE with truncation bootstrapped from the true final
observation or global state, epochs × minibatches of PPO steps as ``lax.scan``) without a host sync; losses come back
as arrays, read only when tracking data is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl import config
from steprl.agents.jax.on_policy import build_preprocessor, build_schedule, check_roles
from steprl.agents.jax.on_policy_update import Rollout
from steprl.agents.jax.parallel import compile_update
from steprl.core.multi_agent_rollout import MultiAgentRolloutMixin, Team
from steprl.models.jax.gaussian import GaussianMixin
from steprl.multi_agents.jax.base import MultiAgent
from steprl.multi_agents.jax.team import TeamTrainState, TeamUpdate
from steprl.resources.optimizers.jax.adam import Adam
from steprl.resources.schedulers.jax.kl_adaptive import KLAdaptiveSchedule

__all__ = ["MultiAgentRollout"]

_TAGS = {"policy_loss": "Policy loss", "value_loss": "Value loss", "entropy_loss": "Entropy loss"}


class MultiAgentRollout(MultiAgentRolloutMixin, MultiAgent):
    """Base of the JAX IPPO and MAPPO (``cfg`` already merged with the algorithm's defaults).

    Each team has separate policy and value models, each with its optimizer (checkpointed per agent as
    ``policy_optimizer`` and ``value_optimizer``). ``act`` returns NumPy arrays with ``config.jax.backend ==
    "numpy"`` (one transfer per step), else ``jax.Array``.
    """

    _float32: Any = np.float32
    _global_state = False  # MAPPO: the value models see the global state

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None,
        observation_spaces: Any,
        action_spaces: Any,
        device: Any,
        cfg: Mapping[str, Any],
        name: str,
    ) -> None:
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg)
        self._setup_rollout(name)
        self._numpy = config.jax.backend == "numpy"
        self._act_count = 0  # per-step subkeys are fold_in(key, count): no key comes back from the device per step
        self._act_jit = {
            mode: jax.jit(
                lambda p, pre, key, count, states, groups, mode=mode: self._act_pure(
                    p, pre, key, count, states, groups, mode
                ),
                static_argnums=5,
            )
            for mode in (True, False)
        }
        self._update_jit = compile_update(self._update_pure)  # distributed: gradients averaged over processes
        self._key = jax.device_put(self._key, self.device)

    # ------------------------------------------------------------------ construction (core hooks)
    def _check_roles(self, roles: Mapping[str, Any], what: str) -> None:
        check_roles(roles, what)

    def _build_team(self, team: Team) -> None:
        c = team.cfg
        first = team.uids[0]
        if team.value is not None and team.value is team.policy:
            raise ValueError(
                f"{self._name} (JAX, agent '{first}') needs separate policy and value models; one shared model is not "
                "supported"
            )
        preprocessors = {
            name: build_preprocessor(c[name], c[f"{name}_kwargs"], self.device, name) for name in self._PREPROCESSORS
        }
        scheduler = build_schedule(c["learning_rate_scheduler"], c["learning_rate_scheduler_kwargs"], self._name)
        index = {uid: i for i, uid in enumerate(self.possible_agents)} if self._append_agent_id else {}
        learner = TeamUpdate(team.uids, team.policy, team.value, c, preprocessors, scheduler, index, self._global_state)
        put = lambda tree: jax.device_put(tree, self.device)  # noqa: E731 (committed arrays: one compilation)
        for model in (team.policy, team.value):
            if model is not None:
                model.broadcast_parameters()  # distributed: every process starts from rank 0's parameters
                model.state_dict = model.state_dict.replace(params=put(model.state_dict.params))
        if team.value is not None:
            lr: Any = float(c["learning_rate"])
            if scheduler is not None and not isinstance(scheduler, KLAdaptiveSchedule):
                lr = scheduler  # an optax schedule: evaluated at the optimizer's step count
            for role, model in (("policy", team.policy), ("value", team.value)):
                optimizer = Adam(model, lr)
                setattr(learner, f"{role}_optimizer", optimizer.replace(state=put(optimizer.state)))
        for preprocessor in preprocessors.values():
            if preprocessor is not None:
                preprocessor.state = put(preprocessor.state)
        team.preprocessors, team.scheduler, team.state = preprocessors, scheduler, learner
        for uid in team.uids:
            modules = self.checkpoint_modules[uid]
            modules["policy"] = team.policy
            modules["value"] = team.value
            if learner.policy_optimizer is not None:
                modules["policy_optimizer"] = learner.policy_optimizer
                modules["value_optimizer"] = learner.value_optimizer
            for name, preprocessor in preprocessors.items():
                if preprocessor is not None:
                    modules[name] = preprocessor
            if self.memories[uid] is not None and hasattr(self.memories[uid], "state_dict"):
                modules["memory"] = self.memories[uid]  # a checkpoint taken mid-rollout keeps the partial rollout

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create every memory's tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        self._init_memories()

    def _create_tensors(self, uid: str, memory: Any) -> None:
        observation, action = self.observation_spaces[uid], self.action_spaces[uid]
        for name, size, dtype in (
            ("states", observation, np.float32),
            ("next_states", observation, np.float32),
            ("actions", action, np.float32),
            ("rewards", 1, np.float32),
            ("terminated", 1, np.int8),
            ("truncated", 1, np.int8),
            *self._extra_tensors(uid),
        ):
            memory.create_tensor(name=name, size=size, dtype=dtype)

    def _truncate_row(self, memory: Any, row: int) -> None:
        truncated = memory.get_tensor_by_name("truncated")
        if isinstance(truncated, np.ndarray):
            truncated[row] = 1
        else:
            memory.set_tensor_by_name("truncated", truncated.at[row].set(1))

    def _swap_module(self, old: Any, new: Any) -> None:
        super()._swap_module(old, new)
        for team in self._teams:
            for name in ("policy_optimizer", "value_optimizer"):
                if getattr(team.state, name) is old:
                    setattr(team.state, name, new)

    # ------------------------------------------------------------------ interaction
    def _act_pure(
        self,
        params: tuple[Any, ...],
        pres: tuple[Any, ...],
        key: jax.Array,
        count: jax.Array,
        states: Mapping[str, jax.Array],
        groups: tuple[tuple[int, tuple[str, ...]], ...],
        training: bool,
    ) -> dict[str, tuple[jax.Array, jax.Array, jax.Array]]:
        """Every acting team's policy on its members' stacked rows: ``uid -> (actions, log_prob, mean_actions)``."""
        del training  # the multi-agent policies take no training-only inputs
        key = jax.random.fold_in(key, count)
        out: dict[str, tuple[jax.Array, jax.Array, jax.Array]] = {}
        for (index, uids), team_params, state_pre in zip(groups, params, pres):
            learner: TeamUpdate = self._teams[index].state
            rows = states[uids[0]].shape[0]
            stacked = jnp.concatenate([jnp.asarray(states[uid]) for uid in uids]) if len(uids) > 1 else states[uids[0]]
            inputs = {"states": learner.act_inputs(state_pre, jnp.asarray(stacked), uids)}
            actions, log_prob, outputs = learner.policy.act_pure(
                team_params, inputs, "policy", jax.random.fold_in(key, index)
            )
            mean = outputs.get("mean_actions", actions)
            for i, uid in enumerate(uids):
                part = slice(i * rows, (i + 1) * rows)
                out[uid] = (actions[part], log_prob[part], mean[part])
        return out

    def act(self, states: Mapping[str, Any], timestep: int, timesteps: int) -> tuple[dict, dict, dict]:
        """Actions of every agent present in ``states`` with one jitted call (uniformly random during the first
        ``random_timesteps`` training steps). Returns dicts keyed by uid: actions, log-probabilities and
        ``{"mean_actions": ...}``."""
        self._check_states(states)
        if self._exploring():
            actions = {}
            for uid, observations in states.items():
                policy = self._team_of[uid].policy
                actions[uid] = policy.random_act({"states": observations, "key": self._next_key()}, role="policy")[0]
                if self._numpy:
                    actions[uid] = np.asarray(actions[uid])
            return actions, {uid: None for uid in actions}, {uid: {} for uid in actions}
        groups = tuple(
            (index, present)
            for index, team in enumerate(self._teams)
            if (present := tuple(uid for uid in team.uids if uid in states))
        )
        params = tuple(self._teams[index].policy.state_dict.params for index, _ in groups)
        pres = tuple(self._teams[index].state._state_preprocessor for index, _ in groups)
        pres = tuple(None if pre is None else pre.state for pre in pres)
        self._act_count += 1
        out = self._act_jit[self.training](params, pres, self._key, self._act_count, dict(states), groups)
        if self._numpy:
            out = jax.device_get(out)
        actions = {uid: out[uid][0] for uid in states}
        log_probs = {uid: out[uid][1] for uid in states}
        return actions, log_probs, {uid: {"mean_actions": out[uid][2]} for uid in states}

    # ------------------------------------------------------------------ learning
    def _learning_teams(self) -> list[Team]:
        return [t for t in self._teams if t.value is not None and self.memories[t.uids[0]] is not None]

    def _rollout_extras(self, gather: Any) -> Any:
        """Further arrays of a team's rollout (MAPPO: the global states before and after each step)."""
        return None

    def _read_rollout(self, team: Team) -> Rollout:
        """The team's rollout: its members' memories side by side along the environment axis."""
        memories = [self.memories[uid] for uid in team.uids]

        def gather(name: str) -> jax.Array:
            arrays = [memory.get_tensor_by_name(name) for memory in memories]
            return jnp.asarray(arrays[0]) if len(arrays) == 1 else jnp.concatenate(arrays, axis=1)

        return Rollout(
            gather("states"), gather("next_states"), gather("actions"), gather("rewards"), gather("terminated"),
            gather("truncated"), None, self._rollout_extras(gather),
        )  # fmt: skip

    def _train_state(self, team: Team) -> TeamTrainState:
        learner: TeamUpdate = team.state
        pre = team.preprocessors
        state = lambda name: None if pre.get(name) is None else pre[name].state  # noqa: E731
        return TeamTrainState(
            policy_params=team.policy.state_dict.params,
            value_params=team.value.state_dict.params,
            policy_opt=learner.policy_optimizer.state,
            value_opt=learner.value_optimizer.state,
            state_pre=state("state_preprocessor"),
            value_pre=state("value_preprocessor"),
            key=self._next_key(),
            shared_pre=state("shared_state_preprocessor"),
        )

    def _update_pure(
        self, states: tuple[TeamTrainState, ...], rollouts: tuple[Rollout, ...]
    ) -> tuple[tuple[TeamTrainState, ...], tuple[dict[str, jax.Array], ...]]:
        """Every learning team's update (jitted as one function)."""
        results = [team.state._update_pure(ts, r) for team, ts, r in zip(self._learning_teams(), states, rollouts)]
        return tuple(ts for ts, _ in results), tuple(metrics for _, metrics in results)

    def _update(self, timestep: int, timesteps: int) -> None:
        teams = self._learning_teams()
        states, metrics = self._update_jit(
            tuple(self._train_state(team) for team in teams), tuple(self._read_rollout(team) for team in teams)
        )
        for team, ts, team_metrics in zip(teams, states, metrics):
            self._store_train_state(team, ts)
            self._track_team(team, team_metrics)

    def _store_train_state(self, team: Team, ts: TeamTrainState) -> None:
        """Write a team's update results back into its models, optimizers and preprocessors (no host sync)."""
        learner: TeamUpdate = team.state
        team.policy.state_dict = team.policy.state_dict.replace(params=ts.policy_params)
        team.value.state_dict = team.value.state_dict.replace(params=ts.value_params)
        self._swap_module(learner.policy_optimizer, learner.policy_optimizer.replace(state=ts.policy_opt))
        self._swap_module(learner.value_optimizer, learner.value_optimizer.replace(state=ts.value_opt))
        for name, state in (
            ("state_preprocessor", ts.state_pre),
            ("value_preprocessor", ts.value_pre),
            ("shared_state_preprocessor", ts.shared_pre),
        ):
            if team.preprocessors.get(name) is not None:
                team.preprocessors[name].state = state

    def _track_team(self, team: Team, metrics: Mapping[str, jax.Array]) -> None:
        """Tracking data of a team's update, tagged with each member's uid (``Loss / Policy loss (agent_0)``)."""
        if self.write_interval <= 0:
            return
        learner: TeamUpdate = team.state
        for uid in team.uids:
            for key, tag in _TAGS.items():
                if key != "entropy_loss" or learner._entropy_loss_scale:
                    self.track_data(f"Loss / {tag} ({uid})", metrics[key])
            self.track_data(f"Policy / KL divergence ({uid})", metrics["kl"])
            if isinstance(team.policy, GaussianMixin):
                self.track_data(f"Policy / Standard deviation ({uid})", metrics["stddev"])
            self.track_data(f"Learning / Learning rate ({uid})", metrics["learning_rate"])
