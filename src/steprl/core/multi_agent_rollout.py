"""Backend-neutral rollout bookkeeping of IPPO and MAPPO: per-agent settings, teams, memories, the update schedule.

Agents given the same policy object form a *team* (parameter sharing): one optimizer, one set of preprocessors, and
at update time the team's rollouts are concatenated along the environment axis so that the shared networks are
trained once on every member's data. Without sharing, every agent is a team of one. With ``cfg["append_agent_id"]``
a one-hot of the agent's index in ``possible_agents`` follows the (preprocessed) policy and value inputs.

A backend's multi-agent rollout class mixes :class:`MultiAgentRolloutMixin` into its ``MultiAgent`` and supplies
the team's optimizer and preprocessors (:meth:`MultiAgentRolloutMixin._build_team`), the memory tensors
(:meth:`MultiAgentRolloutMixin._create_tensors`), the one array write of :meth:`~MultiAgentRolloutMixin.
interrupt_episodes` (:meth:`MultiAgentRolloutMixin._truncate_row`), acting and the update.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from steprl.core.multi_agent import per_agent
from steprl.utils.spaces.common import compute_space_size

__all__ = ["PER_AGENT_KEYS", "ROLES", "ROLLOUT_TENSORS", "MAPPOMixin", "MultiAgentRolloutMixin", "Team"]

ROLES = ("policy", "value")

# keys that may differ per agent (a dict uid -> value); the others apply to every agent
PER_AGENT_KEYS = (
    "learning_epochs", "mini_batches", "discount_factor", "lambda", "learning_rate", "learning_rate_scheduler",
    "learning_rate_scheduler_kwargs", "state_preprocessor", "state_preprocessor_kwargs", "value_preprocessor",
    "value_preprocessor_kwargs", "grad_norm_clip", "ratio_clip", "value_clip", "clip_predicted_values",
    "entropy_loss_scale", "value_loss_scale", "kl_threshold", "time_limit_bootstrap",
)  # fmt: skip

# what every step writes to each agent's memory (MAPPO adds the global states)
ROLLOUT_TENSORS = ("states", "next_states", "actions", "rewards", "terminated", "truncated")


@dataclass
class Team:
    """Agents that share one policy (and value) model, and everything built once for them (the backend fills
    ``preprocessors``, ``optimizer``, ``scheduler`` and ``state``)."""

    uids: list[str]
    policy: Any
    value: Any
    cfg: dict[str, Any]
    preprocessors: dict[str, Any] = field(default_factory=dict)
    optimizer: Any = None
    scheduler: Any = None
    state: Any = None  # backend-specific (the JAX teams: their jitted-update settings)

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


class MultiAgentRolloutMixin:
    """IPPO/MAPPO bookkeeping for a backend's ``MultiAgent`` (``cfg`` merged with the algorithm's defaults).

    Subclasses say what the value model sees (:meth:`_value_space`) and which extra tensors a step stores
    (:meth:`_extra_tensors`, ``_recorded_infos``).
    """

    _PREPROCESSORS: tuple[str, ...] = ("state_preprocessor", "value_preprocessor")
    possible_agents: list[str]
    models: dict[str, Any]
    memories: dict[str, Any]
    observation_spaces: dict[str, Any]
    action_spaces: dict[str, Any]
    cfg: dict[str, Any]

    def _setup_rollout(self, name: str) -> None:
        """Per-agent settings, model checks and teams (call at the end of the backend's constructor)."""
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
            self._check_roles(roles, f"{name} (agent '{uid}')")
            if roles.get("policy") is None:
                raise ValueError(f"{name} requires a 'policy' model for agent '{uid}': pass models['{uid}']['policy']")
        self._teams = self._form_teams({uid: {key: per_uid[key][uid] for key in keys} for uid in self.possible_agents})
        self._team_of = {uid: team for team in self._teams for uid in team.uids}
        for team in self._teams:
            c = team.cfg
            self._check_input_size(team, "policy", self.observation_spaces[team.uids[0]])
            self._check_input_size(team, "value", self._value_space(team.uids[0]))
            for key in ("learning_epochs", "mini_batches"):
                if int(c[key]) < 1:
                    raise ValueError(f"{name} cfg['{key}'] must be >= 1 (agent '{team.uids[0]}'), got {c[key]}")
            self._build_team(team)
        self._rollout = 0  # training steps stored since the agent was created (a rollout ends at each multiple)

    # ------------------------------------------------------------------ backend hooks
    def _check_roles(self, roles: Mapping[str, Any], what: str) -> None:
        """``KeyError`` for a model role other than ``policy`` and ``value``."""
        raise NotImplementedError

    def _build_team(self, team: Team) -> None:
        """Build the team's preprocessors and optimizer and fill every member's ``checkpoint_modules``."""
        raise NotImplementedError

    def _create_tensors(self, uid: str, memory: Any) -> None:
        """Create the rollout tensors of ``uid``'s memory."""
        raise NotImplementedError

    def _truncate_row(self, memory: Any, row: int) -> None:
        """Set ``truncated`` of every sub-environment at ``memory``'s row ``row``."""
        raise NotImplementedError

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
        num_agents = len(self.possible_agents)
        size = compute_space_size(space) + (num_agents if self._append_agent_id else 0)
        if expected_observations != size:
            hint = f" (the space plus a one-hot of {num_agents} agents)" if self._append_agent_id else ""
            raise ValueError(
                f"{self._name}: the {role} model of agent '{team.uids[0]}' takes {expected_observations} inputs, "
                f"expected {size}{hint}"
            )

    def _init_memories(self) -> None:
        """Check every team's memories (all or none; size ``rollouts``; enough samples) and create their tensors."""
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

    def _extra_tensors(self, uid: str) -> list[tuple[str, Any, Any]]:
        """Further per-step tensors of ``uid``'s memory as ``(name, space, dtype)`` (MAPPO: the global states)."""
        return []

    # ------------------------------------------------------------------ interaction
    def _check_states(self, states: Any) -> None:
        """``act``'s input must be a dict keyed by known agent ids."""
        if not isinstance(states, Mapping):
            raise TypeError(f"{self._name}.act() takes a dict uid -> observations, got {type(states).__name__}")
        unknown = [uid for uid in states if uid not in self._team_of]
        if unknown:
            raise KeyError(f"{self._name}.act(): unknown agent ids {unknown}; possible agents: {self.possible_agents}")

    def _record(self, **transition: Any) -> None:
        """Write each agent's transition to its memory (the global states too, for MAPPO)."""
        for uid in self.possible_agents:
            memory = self.memories[uid]
            if memory is None:
                continue
            missing = [name for name in ROLLOUT_TENSORS if uid not in transition[name]]
            if missing:
                raise ValueError(
                    f"{self._name}: agent '{uid}' is missing from this step's {missing}; {self._name} learns from "
                    "environments where every agent acts at every step"
                )
            samples = {name: transition[name][uid] for name in ROLLOUT_TENSORS}
            samples.update((name, value) for name, value in transition.items() if name not in ROLLOUT_TENSORS)
            memory.add_samples(**samples)

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """Update at the end of every rollout (``rollouts`` training steps) once learning has started."""
        if not any(m is not None for m in self.memories.values()):
            return
        self._rollout += 1
        if not self._rollout % self._rollouts and self._learning_started():  # type: ignore[attr-defined]
            self.set_mode("train")  # type: ignore[attr-defined]
            self._update(timestep, timesteps)  # type: ignore[attr-defined]
            self.set_mode("eval")  # type: ignore[attr-defined]

    def _checkpoint_meta(self) -> dict[str, Any]:
        return {**super()._checkpoint_meta(), "rollout": self._rollout}  # type: ignore[misc]

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        """Continue the stored rollout; its episodes cannot continue, so its last step counts as truncated."""
        super()._restore_meta(meta)  # type: ignore[misc]
        if "rollout" in meta and any(m is not None for m in self.memories.values()):
            self._rollout = int(meta["rollout"])
            self.interrupt_episodes()

    def interrupt_episodes(self) -> None:
        """The trainer abandoned the episodes in progress: mark the last stored step of every agent as truncated."""
        if not self._rollout % self._rollouts:
            return
        for memory in self.memories.values():
            if memory is not None:
                self._truncate_row(memory, (memory.memory_index - 1) % memory.memory_size)


class MAPPOMixin:
    """MAPPO's part of the bookkeeping (before the backend's rollout class in the bases): each agent's value model
    sees the global state, which the trainers put before and after each step in ``infos["shared_states"]`` and
    ``infos["shared_next_states"]``; it is stored with each agent's transition (``_float32``: the backend's dtype)."""

    _PREPROCESSORS = ("state_preprocessor", "shared_state_preprocessor", "value_preprocessor")
    _float32: Any
    shared_observation_spaces: dict[str, Any]

    def _set_shared_spaces(self, shared_observation_spaces: Any, possible_agents: Any) -> None:
        self.shared_observation_spaces = per_agent(
            shared_observation_spaces,
            self._check_possible_agents(possible_agents),  # type: ignore[attr-defined]
            "MAPPO shared_observation_spaces",
        )

    def _value_space(self, uid: str) -> Any:
        return self.shared_observation_spaces[uid]

    def _extra_tensors(self, uid: str) -> list[tuple[str, Any, Any]]:
        space = self.shared_observation_spaces[uid]
        if space is None:
            raise ValueError(
                "MAPPO needs shared_observation_spaces (the global state space, e.g. env.state_spaces) to learn"
            )
        return [("shared_states", space, self._float32), ("shared_next_states", space, self._float32)]

    def _recorded_infos(self, infos: Any) -> Mapping[str, Any]:
        """The global states before and after the step, from ``infos`` (put there by the trainer)."""
        shared = infos.get("shared_states") if isinstance(infos, Mapping) else None
        shared_next = infos.get("shared_next_states") if isinstance(infos, Mapping) else None
        if shared is None or shared_next is None:
            raise ValueError(
                "MAPPO needs the global state of every step: infos['shared_states'] and infos['shared_next_states'] "
                "(the trainers set them from env.state(); this environment's state() returned None?)"
            )
        return {"shared_states": shared, "shared_next_states": shared_next}
