"""The rollout machinery of IPPO and MAPPO: teams of agents, per-step policies, one batched value pass per update.

Agents given the same policy object form a *team* (parameter sharing): one optimizer, one set of preprocessors,
and at update time the team's rollouts are concatenated along the environment axis so that the shared networks are
trained once on every member's data. With ``cfg["append_agent_id"]`` a one-hot of the agent's index in
``possible_agents`` is appended to the (preprocessed) policy and value inputs, so that one network can still act
differently per agent. Without sharing, every agent is a team of one.

Per environment step only the policies run (one call per team on the stacked observations of its members).
Values, next values and old log-probabilities are computed at update time in one batched forward pass per team;
GAE bootstraps truncated episodes from the true final observation and the loss is PPO's clipped surrogate
(:func:`~steprl.agents.torch.ppo.losses.ppo_loss`, :func:`~steprl.agents.torch.gae.compute_gae`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from steprl import config
from steprl.agents.torch._build import (
    build_preprocessor,
    build_scheduler,
    check_model_roles,
    make_adam,
    unique_parameters,
)
from steprl.agents.torch.gae import compute_gae
from steprl.agents.torch.ppo.losses import ppo_loss
from steprl.core.multi_agent import per_agent
from steprl.multi_agents.torch.base import MultiAgent
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.utils.spaces.torch import compute_space_size

__all__ = ["PER_AGENT_KEYS", "MultiAgentRollout", "Team"]

ROLES = ("policy", "value")

# keys that may differ per agent (a dict uid -> value); the others apply to every agent
PER_AGENT_KEYS = (
    "learning_epochs", "mini_batches", "discount_factor", "lambda", "learning_rate", "learning_rate_scheduler",
    "learning_rate_scheduler_kwargs", "state_preprocessor", "state_preprocessor_kwargs", "value_preprocessor",
    "value_preprocessor_kwargs", "grad_norm_clip", "ratio_clip", "value_clip", "clip_predicted_values",
    "entropy_loss_scale", "value_loss_scale", "kl_threshold", "time_limit_bootstrap",
)  # fmt: skip

ROLLOUT_TENSORS = ("states", "next_states", "actions", "rewards", "terminated", "truncated")


@dataclass
class Team:
    """Agents that share one policy (and value) model, and everything built once for them."""

    uids: list[str]
    policy: Any
    value: Any
    cfg: dict[str, Any]
    preprocessors: dict[str, Any] = field(default_factory=dict)
    optimizer: torch.optim.Optimizer | None = None
    scheduler: Any = None

    @property
    def label(self) -> str:
        return self.uids[0] if len(self.uids) == 1 else "+".join(self.uids)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 (objects whose comparison fails are different)
        return False


class MultiAgentRollout(MultiAgent):
    """Base of IPPO and MAPPO (``cfg`` already merged with the algorithm's defaults).

    Subclasses say what the value model sees (:meth:`_value_observations`) and which extra tensors a step stores
    (:meth:`_extra_tensors`, :meth:`_recorded_infos`).
    """

    _PREPROCESSORS: tuple[str, ...] = ("state_preprocessor", "value_preprocessor")

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None,
        observation_spaces: Any,
        action_spaces: Any,
        device: str | torch.device | None,
        cfg: Mapping[str, Any],
        name: str,
    ) -> None:
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg)
        self._name = name
        c = self.cfg
        self._rollouts = int(c["rollouts"])
        if self._rollouts < 1:
            raise ValueError(f"{name} cfg['rollouts'] must be >= 1, got {c['rollouts']}")
        self._append_agent_id = bool(c.get("append_agent_id", False))
        keys = PER_AGENT_KEYS + tuple(
            k for p in self._PREPROCESSORS for k in (p, f"{p}_kwargs") if k not in PER_AGENT_KEYS
        )
        per_uid = {key: per_agent(c[key], self.possible_agents, f"{name} cfg['{key}']") for key in keys}
        for uid in self.possible_agents:
            roles = self.models[uid]
            check_model_roles(roles, ROLES, f"{name} (agent '{uid}')")
            if roles.get("policy") is None:
                raise ValueError(f"{name} requires a 'policy' model for agent '{uid}': pass models['{uid}']['policy']")
        self._teams = self._form_teams({uid: {key: per_uid[key][uid] for key in keys} for uid in self.possible_agents})
        self._team_of = {uid: team for team in self._teams for uid in team.uids}
        eye = torch.eye(self.num_agents, device=self.device)
        self._one_hot = {uid: eye[i : i + 1] for i, uid in enumerate(self.possible_agents)}
        self._id_blocks: dict[tuple[tuple[str, ...], int], torch.Tensor] = {}
        for team in self._teams:
            self._build_team(team)
        self._rollout = 0  # training steps stored since the agent was created (a rollout ends at each multiple)

    # ------------------------------------------------------------------ construction
    def _form_teams(self, cfgs: dict[str, dict[str, Any]]) -> list[Team]:
        """Group agents by policy object; members must share the value model, spaces and per-agent settings."""
        teams: dict[int, Team] = {}
        for uid in self.possible_agents:
            roles = self.models[uid]
            policy, value = roles["policy"], roles.get("value")
            team = teams.get(id(policy))
            if team is None:
                teams[id(policy)] = Team([uid], policy, value, cfgs[uid])
                continue
            first = team.uids[0]
            if value is not team.value:
                raise ValueError(
                    f"{self._name}: agents '{first}' and '{uid}' share a policy but not a value model; "
                    "agents sharing parameters must share both models"
                )
            for what, spaces in (("observation", self.observation_spaces), ("action", self.action_spaces)):
                if not _same(spaces[first], spaces[uid]):
                    raise ValueError(
                        f"{self._name}: agents '{first}' and '{uid}' share a policy but have different {what} spaces "
                        f"({spaces[first]} vs {spaces[uid]})"
                    )
            differ = sorted(k for k in cfgs[uid] if not _same(cfgs[uid][k], team.cfg[k]))
            if differ:
                raise ValueError(
                    f"{self._name}: agents '{first}' and '{uid}' share a policy, so their per-agent settings must be "
                    f"equal; they differ in {differ}"
                )
            team.uids.append(uid)
        values = [team.value for team in teams.values() if team.value is not None]
        if len({id(v) for v in values}) != len(values):
            raise ValueError(
                f"{self._name}: a value model is shared by agents with different policies; share both models or neither"
            )
        return list(teams.values())

    def _value_space(self, uid: str) -> Any:
        """The space of what the value model of ``uid`` observes (without the agent id)."""
        return self.observation_spaces[uid]

    def _check_input_size(self, team: Team, role: str, space: Any) -> None:
        model = team.policy if role == "policy" else team.value
        expected_observations = getattr(model, "num_observations", None)
        if model is None or space is None or expected_observations is None:
            return
        size = compute_space_size(space) + (self.num_agents if self._append_agent_id else 0)
        if expected_observations != size:
            hint = f" (the space plus a one-hot of {self.num_agents} agents)" if self._append_agent_id else ""
            raise ValueError(
                f"{self._name}: the {role} model of agent '{team.uids[0]}' takes {expected_observations} inputs, "
                f"expected {size}{hint}"
            )

    def _build_team(self, team: Team) -> None:
        c = team.cfg
        first = team.uids[0]
        self._check_input_size(team, "policy", self.observation_spaces[first])
        self._check_input_size(team, "value", self._value_space(first))
        for key in ("learning_epochs", "mini_batches"):
            if int(c[key]) < 1:
                raise ValueError(f"{self._name} cfg['{key}'] must be >= 1 (agent '{first}'), got {c[key]}")
        for name in self._PREPROCESSORS:
            team.preprocessors[name] = build_preprocessor(c[name], c[f"{name}_kwargs"], self.device)
        if config.torch.is_distributed:
            team.policy.broadcast_parameters()
            if team.value is not None and team.value is not team.policy:
                team.value.broadcast_parameters()
        if team.value is not None:
            team.optimizer = make_adam(unique_parameters(team.policy, team.value), float(c["learning_rate"]))
            team.scheduler = build_scheduler(
                c["learning_rate_scheduler"], team.optimizer, c["learning_rate_scheduler_kwargs"]
            )
        for uid in team.uids:
            modules = self.checkpoint_modules[uid]
            modules["policy"] = team.policy
            modules["value"] = team.value
            if team.optimizer is not None:
                modules["optimizer"] = team.optimizer
            if team.scheduler is not None:
                modules["scheduler"] = team.scheduler
            for name in self._PREPROCESSORS:
                if c[name] is not None:
                    modules[name] = team.preprocessors[name]
            if self.memories[uid] is not None:  # a checkpoint taken mid-rollout keeps the partial rollout
                modules["memory"] = self.memories[uid]

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create every memory's tensors (memory size must equal ``rollouts``) and resolve intervals."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        for team in self._teams:
            memories = [self.memories[uid] for uid in team.uids]
            if all(m is None for m in memories):
                continue
            if any(m is None for m in memories):
                raise ValueError(
                    f"{self._name}: agents {team.uids} share a policy, so all or none of them need a memory"
                )
            if team.value is None:
                raise ValueError(
                    f"{self._name} requires a 'value' model for agent '{team.uids[0]}' to learn (a memory was given)"
                )
            samples = 0
            for uid, memory in zip(team.uids, memories):
                if memory.memory_size != self._rollouts:
                    raise ValueError(
                        f"{self._name}: memories['{uid}'].memory_size ({memory.memory_size}) must equal "
                        f"cfg['rollouts'] ({self._rollouts})"
                    )
                samples += memory.memory_size * memory.num_envs
                self._create_tensors(uid, memory)
            if int(team.cfg["mini_batches"]) > samples:
                raise ValueError(
                    f"{self._name}: cfg['mini_batches'] ({team.cfg['mini_batches']}) exceeds the rollout size of "
                    f"agents {team.uids} ({samples} samples)"
                )

    def _create_tensors(self, uid: str, memory: Any) -> None:
        observation, action = self.observation_spaces[uid], self.action_spaces[uid]
        for name, size, dtype in (
            ("states", observation, torch.float32),
            ("next_states", observation, torch.float32),
            ("actions", action, torch.float32),
            ("rewards", 1, torch.float32),
            ("terminated", 1, torch.bool),
            ("truncated", 1, torch.bool),
            ("log_prob", 1, torch.float32),
            ("values", 1, torch.float32),
            ("returns", 1, torch.float32),
            ("advantages", 1, torch.float32),
            *self._extra_tensors(uid),
        ):
            memory.create_tensor(name=name, size=size, dtype=dtype)

    def _extra_tensors(self, uid: str) -> list[tuple[str, Any, torch.dtype]]:
        """Further per-step tensors of ``uid``'s memory (MAPPO: the global states)."""
        return []

    # ------------------------------------------------------------------ inputs
    def _with_ids(self, inputs: torch.Tensor, ids: torch.Tensor | None) -> torch.Tensor:
        return inputs if ids is None else torch.cat([inputs, ids.to(inputs.dtype)], dim=-1)

    def _ids(self, uids: Sequence[str], rows: int) -> torch.Tensor | None:
        """One-hot agent ids of ``rows`` stacked rows per agent (``None`` without ``append_agent_id``); cached."""
        if not self._append_agent_id:
            return None
        key = (tuple(uids), rows)
        block = self._id_blocks.get(key)
        if block is None:
            block = torch.cat([self._one_hot[uid].expand(rows, -1) for uid in uids])
            self._id_blocks[key] = block
        return block

    # ------------------------------------------------------------------ interaction
    def act(self, states: Mapping[str, torch.Tensor], timestep: int, timesteps: int) -> tuple[dict, dict, dict]:
        """Actions of every agent present in ``states``: one policy call per team on its members' stacked rows
        (uniformly random during the first ``random_timesteps`` training steps). Returns dicts keyed by uid."""
        if not isinstance(states, Mapping):
            raise TypeError(f"{self._name}.act() takes a dict uid -> observations, got {type(states).__name__}")
        unknown = [uid for uid in states if uid not in self._team_of]
        if unknown:
            raise KeyError(f"{self._name}.act(): unknown agent ids {unknown}; possible agents: {self.possible_agents}")
        actions: dict[str, Any] = {}
        log_probs: dict[str, Any] = {}
        outputs: dict[str, Any] = {}
        exploring = self._exploring()
        for team in self._teams:
            uids = [uid for uid in team.uids if uid in states]
            if not uids:
                continue
            rows = states[uids[0]].shape[0]
            stacked = states[uids[0]] if len(uids) == 1 else torch.cat([states[uid] for uid in uids])
            inputs = {
                "states": self._with_ids(team.preprocessors["state_preprocessor"](stacked), self._ids(uids, rows))
            }
            if exploring:
                result = team.policy.random_act(inputs, role="policy")
            else:
                with self._autocast():
                    result = team.policy.act(inputs, role="policy")
            if len(uids) == 1:
                actions[uids[0]], log_probs[uids[0]], outputs[uids[0]] = result[0], result[1], result[2]
                continue
            total = stacked.shape[0]
            split = {
                k: v.split(rows)
                for k, v in result[2].items()
                if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == total
            }
            action_parts = result[0].split(rows)
            log_prob_parts = None if result[1] is None else result[1].split(rows)
            for i, uid in enumerate(uids):
                actions[uid] = action_parts[i]
                log_probs[uid] = None if log_prob_parts is None else log_prob_parts[i]
                outputs[uid] = {k: split[k][i] if k in split else v for k, v in result[2].items()}
        return actions, log_probs, outputs

    def _record(self, **transition: Any) -> None:
        """Write each agent's transition to its memory (the global states too, for MAPPO)."""
        per_agent_names = ROLLOUT_TENSORS
        for uid in self.possible_agents:
            memory = self.memories[uid]
            if memory is None:
                continue
            missing = [name for name in per_agent_names if uid not in transition[name]]
            if missing:
                raise ValueError(
                    f"{self._name}: agent '{uid}' is missing from this step's {missing}; {self._name} learns from "
                    "environments where every agent acts at every step"
                )
            samples = {name: transition[name][uid] for name in per_agent_names}
            samples.update((name, value) for name, value in transition.items() if name not in per_agent_names)
            memory.add_samples(**samples)

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Update at the end of every rollout (``rollouts`` training steps) once learning has started."""
        if not any(m is not None for m in self.memories.values()):
            return
        self._rollout += 1
        if not self._rollout % self._rollouts and self._learning_started():
            self.set_mode("train")
            self._update(timestep, timesteps)
            self.set_mode("eval")

    def _checkpoint_meta(self) -> dict[str, Any]:
        return {**super()._checkpoint_meta(), "rollout": self._rollout}

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        """Continue the stored rollout; its episodes cannot continue, so its last step counts as truncated."""
        super()._restore_meta(meta)
        if "rollout" in meta and any(m is not None for m in self.memories.values()):
            self._rollout = int(meta["rollout"])
            self.interrupt_episodes()

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the episodes in progress: mark the last stored step of every agent as truncated."""
        if not self._rollout % self._rollouts:
            return
        for memory in self.memories.values():
            if memory is not None:
                row = (memory.memory_index - 1) % memory.memory_size
                memory.get_tensor_by_name("truncated")[row] = True

    # ------------------------------------------------------------------ learning
    def _value_observations(self, team: Team, gather: Any) -> tuple[torch.Tensor, torch.Tensor] | None:
        """What the value sees at each step and after it, ``(T, M, size)`` each; ``None``: the policy's
        preprocessed observations (IPPO). MAPPO returns the global states."""
        return None

    def _value_preprocess(self, team: Team, observations: torch.Tensor, train: bool) -> torch.Tensor:
        """Preprocess what :meth:`_value_observations` returned (MAPPO: ``shared_state_preprocessor``)."""
        return observations

    def _update(self, timestep: int, timesteps: int) -> None:
        for team in self._teams:
            if team.optimizer is not None and self.memories[team.uids[0]] is not None:
                self._update_team(team)

    @torch.no_grad()
    def _prepare_team(self, team: Team) -> dict[str, torch.Tensor]:
        """The team's rollout as flat ``(T·M, ...)`` tensors with old log-probs, values, returns and advantages."""
        memories = [self.memories[uid] for uid in team.uids]

        def gather(name: str) -> torch.Tensor:
            tensors = [m.get_tensor_by_name(name) for m in memories]
            return tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim=1)

        states, next_states, actions = gather("states"), gather("next_states"), gather("actions")
        t, m = states.shape[0], states.shape[1]
        rows = t * m
        block = self._ids(team.uids, memories[0].num_envs)  # one time step's (agent, env) columns
        ids = None if block is None else block.repeat(t, 1)
        flat_states = states.reshape(rows, -1)
        pre = team.preprocessors
        value_observations = self._value_observations(team, gather)
        with self._autocast():
            both = pre["state_preprocessor"](torch.cat([flat_states, next_states.reshape(rows, -1)]))
            if value_observations is None:
                value_inputs = both
            else:
                current, following = value_observations
                value_inputs = self._value_preprocess(
                    team, torch.cat([current.reshape(rows, -1), following.reshape(rows, -1)]), False
                )
            both_ids = None if ids is None else torch.cat([ids, ids])
            both_values = team.value.act({"states": self._with_ids(value_inputs, both_ids)}, role="value")[0].float()
            taken = actions.reshape(rows, -1)
            _, log_prob, _ = team.policy.act(
                {"states": self._with_ids(both[:rows], ids), "taken_actions": taken}, role="policy"
            )
        both_values = pre["value_preprocessor"](both_values, inverse=True)
        values, next_values = both_values[:rows].view(t, m, 1), both_values[rows:].view(t, m, 1)
        c = team.cfg
        returns, advantages = compute_gae(
            gather("rewards"), values, next_values, gather("terminated"), gather("truncated"),
            float(c["discount_factor"]), float(c["lambda"]),
        )  # fmt: skip
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        values = pre["value_preprocessor"](values, train=True)
        returns = pre["value_preprocessor"](returns, train=False)
        log_prob = log_prob.float().view(t, m, 1)
        n = memories[0].num_envs
        for i, memory in enumerate(memories):
            columns = slice(i * n, (i + 1) * n)
            memory.set_tensor_by_name("log_prob", log_prob[:, columns])
            memory.set_tensor_by_name("values", values[:, columns])
            memory.set_tensor_by_name("returns", returns[:, columns])
            memory.set_tensor_by_name("advantages", advantages[:, columns])
        batch = {
            "states": flat_states,
            "actions": taken,
            "log_prob": log_prob.view(rows, 1),
            "values": values.reshape(rows, 1),
            "returns": returns.reshape(rows, 1),
            "advantages": advantages.reshape(rows, 1),
        }
        if value_observations is not None:
            batch["value_states"] = value_observations[0].reshape(rows, -1)
        if ids is not None:
            batch["ids"] = ids
        return batch

    def _update_team(self, team: Team) -> None:
        """``learning_epochs`` passes of ``mini_batches`` clipped-surrogate steps over the team's rollout."""
        assert team.optimizer is not None
        c = team.cfg
        batch = self._prepare_team(team)
        rows = batch["states"].shape[0]
        params = team.optimizer.param_groups[0]["params"]
        models = [team.policy] if team.value is team.policy else [team.policy, team.value]
        entropy_scale = float(c["entropy_loss_scale"] or 0.0)
        kl_threshold = float(c["kl_threshold"] or 0.0)
        pre = team.preprocessors
        totals: dict[str, list[torch.Tensor]] = {"policy_loss": [], "value_loss": [], "entropy_loss": []}
        kl_per_epoch: list[torch.Tensor] = []
        for epoch in range(int(c["learning_epochs"])):
            kls: list[torch.Tensor] = []
            for index in torch.randperm(rows, device=batch["states"].device).tensor_split(int(c["mini_batches"])):
                ids = batch["ids"][index] if "ids" in batch else None
                with self._autocast():
                    states = pre["state_preprocessor"](batch["states"][index], train=not epoch)
                    policy_inputs = {"states": self._with_ids(states, ids), "taken_actions": batch["actions"][index]}
                    _, log_prob, _ = team.policy.act(policy_inputs, role="policy")
                    entropy = team.policy.get_entropy(role="policy") if entropy_scale else None
                    if "value_states" in batch:
                        value_states = self._value_preprocess(team, batch["value_states"][index], not epoch)
                    else:
                        value_states = states
                    predicted = team.value.act({"states": self._with_ids(value_states, ids)}, role="value")[0]
                    loss, parts = ppo_loss(
                        log_prob,
                        batch["log_prob"][index],
                        batch["advantages"][index],
                        predicted,
                        batch["values"][index],
                        batch["returns"][index],
                        entropy,
                        float(c["ratio_clip"]),
                        float(c["value_clip"]),
                        bool(c["clip_predicted_values"]),
                        entropy_scale,
                        float(c["value_loss_scale"]),
                    )
                kls.append(parts["kl"])
                if kl_threshold and float(parts["kl"]) > kl_threshold:
                    break
                self._optimizer_step(team.optimizer, loss, models, params, float(c["grad_norm_clip"] or 0.0))
                self._scaler.update()
                for key in totals:
                    totals[key].append(parts[key].detach())
            epoch_kl = torch.stack(kls).mean()
            kl_per_epoch.append(epoch_kl)
            self._step_scheduler(team, epoch_kl)
        self._track_team(team, totals, torch.stack(kl_per_epoch).mean())

    def _step_scheduler(self, team: Team, kl: torch.Tensor) -> None:
        """Step the team's scheduler: ``KLAdaptiveLR`` gets the epoch's KL (averaged over ranks when distributed)."""
        if team.scheduler is None:
            return
        if isinstance(team.scheduler, KLAdaptiveLR):
            if config.torch.is_distributed:
                kl = kl.clone()
                torch.distributed.all_reduce(kl, op=torch.distributed.ReduceOp.SUM)
                kl = kl / config.torch.world_size
            team.scheduler.step(kl)
        else:
            team.scheduler.step()

    def _track_team(self, team: Team, totals: Mapping[str, list[torch.Tensor]], kl: torch.Tensor) -> None:
        """Tracking data of a team's update, tagged with each member's uid (``Loss / Policy loss (agent_0)``)."""
        if self.write_interval <= 0:
            return
        tags = {"policy_loss": "Policy loss", "value_loss": "Value loss", "entropy_loss": "Entropy loss"}
        scale = float(team.cfg["entropy_loss_scale"] or 0.0)
        means = {key: torch.stack(v).mean() for key, v in totals.items() if v and (key != "entropy_loss" or scale)}
        for uid in team.uids:
            for key, value in means.items():
                self.track_data(f"Loss / {tags[key]} ({uid})", value)
            self.track_data(f"Policy / KL divergence ({uid})", kl)
            if team.optimizer is not None:
                self.track_data(f"Learning / Learning rate ({uid})", team.optimizer.param_groups[0]["lr"])
