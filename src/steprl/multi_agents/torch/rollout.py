"""The PyTorch rollout machinery of IPPO and MAPPO: per-step policies, one batched value pass per update.

The bookkeeping (per-agent settings, teams of agents sharing parameters, memories, the update schedule) is
:class:`steprl.core.multi_agent_rollout.MultiAgentRolloutMixin`. Per environment step only the policies run (one
call per team on the stacked observations of its members). Values, next values and old log-probabilities are
computed at update time in one batched forward pass per team; GAE bootstraps truncated episodes from the true final
observation and the loss is PPO's clipped surrogate (:func:`~steprl.agents.torch.ppo.losses.ppo_loss`,
:func:`~steprl.agents.torch.gae.compute_gae`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from steprl.core.multi_agent_rollout import PER_AGENT_KEYS, MultiAgentRolloutMixin, Team
from steprl.multi_agents.torch.base import MultiAgent
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.utils.distributed import torch as distributed

__all__ = ["PER_AGENT_KEYS", "MultiAgentRollout", "Team"]


class MultiAgentRollout(MultiAgentRolloutMixin, MultiAgent):
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
        eye = torch.eye(self.num_agents, device=self.device)
        self._one_hot = {uid: eye[i : i + 1] for i, uid in enumerate(self.possible_agents)}
        self._id_blocks: dict[tuple[tuple[str, ...], int], torch.Tensor] = {}
        self._setup_rollout(name)

    # ------------------------------------------------------------------ construction
    def _check_roles(self, roles: Mapping[str, Any], what: str) -> None:
        check_model_roles(roles, ("policy", "value"), what)

    def _build_team(self, team: Team) -> None:
        c = team.cfg
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
        self._init_memories()

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

    def _truncate_row(self, memory: Any, row: int) -> None:
        memory.get_tensor_by_name("truncated")[row] = True

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
        self._check_states(states)
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
                if kl_threshold and float(distributed.mean_over_ranks(parts["kl"])) > kl_threshold:  # same stop on every rank
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
            team.scheduler.step(distributed.mean_over_ranks(kl))
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
