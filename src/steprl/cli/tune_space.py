"""Search spaces of ``steprl tune``: which preset keys a trial varies, per agent family, and how a trial's choices
become a preset table.

A parameter names a path in the agent's preset table (``agent.<key>`` or ``network.<key>``) and a distribution. An
agent searches the parameters of its family whose key it has (TRPO has ``value_learning_rate`` and no
``learning_rate``; TD3/DDPG search the exploration noise only when the preset names a noise). The table a trial
trains is the preset's table with the chosen values; a ``LinearLR`` schedule keeps its shape (``total_iters``
scales with the number of scheduler steps the new table makes).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any, Literal, Protocol

__all__ = ["FAMILIES", "Param", "SuggestTrial", "apply_params", "describe_spaces", "family_of", "space_for"]

Kind = Literal["log", "float", "choice"]


class SuggestTrial(Protocol):
    """The part of ``optuna.Trial`` a search space uses."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


@dataclasses.dataclass(frozen=True)
class Param:
    """One searched value: ``name`` (the Optuna parameter), ``path`` in the preset table, its distribution
    (``log``/``float``: ``low``..``high``; ``choice``: ``choices``)."""

    name: str
    path: tuple[str, ...]
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: SuggestTrial) -> Any:
        """The trial's value of this parameter."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        return trial.suggest_float(self.name, self.low, self.high, log=self.kind == "log")

    def describe(self) -> str:
        """``name`` and its range, for ``--help`` and the README."""
        if self.kind == "choice":
            return f"{self.name} {{{', '.join(str(c) for c in self.choices)}}}"
        return f"{self.name} {self.low:g}..{self.high:g}{' (log)' if self.kind == 'log' else ''}"


def _agent(key: str, kind: Kind, *args: Any, name: str | None = None) -> Param:
    if kind == "choice":
        return Param(name or key, ("agent", key), kind, choices=tuple(args))
    return Param(name or key, ("agent", key), kind, low=args[0], high=args[1])


_WIDTH = ("network", "hidden")
_LR = (1e-4, 3e-3)
ON_POLICY = (
    _agent("learning_rate", "log", *_LR),
    _agent("value_learning_rate", "log", *_LR),
    _agent("rollouts", "choice", 16, 32, 64, 128, 256),
    _agent("learning_epochs", "choice", 2, 5, 10, 20),
    _agent("mini_batches", "choice", 1, 2, 4, 8, 16, 32),
    _agent("discount_factor", "choice", 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, name="gamma"),
    _agent("lambda", "choice", 0.8, 0.9, 0.92, 0.95, 0.98, 1.0),
    _agent("entropy_loss_scale", "float", 0.0, 0.02, name="entropy"),
    _agent("ratio_clip", "choice", 0.1, 0.2, 0.3, name="clip"),
    _agent("max_kl_divergence", "log", 0.003, 0.05),
    Param("width", _WIDTH, "choice", choices=(32, 64, 128, 256)),
)
REPLAY = (
    _agent("actor_learning_rate", "log", *_LR),
    _agent("critic_learning_rate", "log", *_LR),
    _agent("entropy_learning_rate", "log", *_LR),
    _agent("batch_size", "choice", 64, 128, 256, 512),
    _agent("discount_factor", "choice", 0.95, 0.98, 0.99, 0.995, name="gamma"),
    _agent("polyak", "log", 0.001, 0.05),
    _agent("learning_starts", "choice", 100, 500, 1000, 2000, 5000),
    Param("noise_std", ("agent", "exploration", "noise", "std"), "float", low=0.05, high=0.5),
    _agent("initial_entropy_value", "log", 0.01, 1.0, name="temperature"),
    Param("width", _WIDTH, "choice", choices=(64, 128, 256, 400)),
)
DQN = (
    _agent("learning_rate", "log", *_LR),
    _agent("batch_size", "choice", 32, 64, 128, 256),
    _agent("target_update_interval", "choice", 1, 4, 10, 100, 500),
    _agent("polyak", "choice", 0.005, 0.01, 0.04, 0.1, 1.0),
    Param("epsilon_decay", ("agent", "exploration", "timesteps"), "choice", choices=(250, 500, 1000, 2000, 4000)),
    Param("final_epsilon", ("agent", "exploration", "final_epsilon"), "float", low=0.0, high=0.1),
    Param("width", _WIDTH, "choice", choices=(64, 128, 256)),
)
CEM = (
    _agent("rollouts", "choice", 50, 100, 200, 400),
    _agent("percentile", "float", 0.5, 0.9),
    _agent("learning_rate", "log", 1e-3, 1e-1),
)
TABULAR = (
    _agent("learning_rate", "log", 0.01, 1.0),
    _agent("discount_factor", "choice", 0.9, 0.95, 0.99, 0.999, name="gamma"),
    Param("epsilon", ("network", "epsilon"), "float", low=0.01, high=0.3),
)
FAMILIES: dict[str, tuple[Param, ...]] = {
    "on-policy": ON_POLICY,
    "replay": REPLAY,
    "dqn": DQN,
    "cem": CEM,
    "tabular": TABULAR,
}
_FAMILY_OF = {"dqn": "dqn", "ddqn": "dqn", "cem": "cem", "q_learning": "tabular", "sarsa": "tabular"}


def family_of(agent: str, memory: str) -> str:
    """The search family of ``agent`` (``memory``: its registry memory kind, ``rollout``/``replay``/``none``)."""
    return _FAMILY_OF.get(agent, "on-policy" if memory == "rollout" else "replay")


def _get(table: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = table
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def space_for(family: str, defaults: dict[str, Any], network_keys: Sequence[str], table: dict[str, Any]) -> list[Param]:
    """The parameters of ``family`` that an agent with configuration ``defaults``, network keys ``network_keys`` and
    preset ``table`` has (a noise's ``std`` only when the preset names a noise)."""
    found = []
    for param in FAMILIES[family]:
        section, key = param.path[0], param.path[1]
        if section == "network" and key not in network_keys:
            continue
        if section == "agent" and key not in defaults:
            continue
        if len(param.path) > 3 and _get(table, param.path[:-1]) is None:
            continue
        found.append(param)
    return found


def _scheduler_steps(family: str, table: dict[str, Any], defaults: dict[str, Any]) -> int:
    """How many times an agent of ``table`` steps its learning-rate scheduler over the run."""
    cfg = {**defaults, **table["agent"]}
    vector_steps = table["timesteps"] // table["num_envs"]
    if family in ("on-policy", "cem"):
        epochs = int(cfg.get("learning_epochs", 1)) if family == "on-policy" else 1
        return max(1, vector_steps // int(cfg["rollouts"]) * epochs)
    return max(1, (vector_steps - int(cfg.get("learning_starts", 0))) // int(cfg.get("update_interval", 1)))


def apply_params(
    family: str,
    table: dict[str, Any],
    values: dict[str, Any],
    space: Sequence[Param],
    defaults: dict[str, Any],
    timesteps: int | None = None,
) -> dict[str, Any]:
    """A copy of preset ``table`` with the chosen ``values`` (by parameter name) of ``space`` set, and the budget
    ``timesteps`` when given (``eval_every`` then at most a quarter of it, so the pruner sees the curve).

    ``width`` sets every hidden layer (two when the preset has none); ``learning_starts`` also sets
    ``random_timesteps`` when the agent has it; ``mini_batches`` is lowered to leave at least 8 samples per
    minibatch; a ``LinearLR`` ``total_iters`` is rescaled to the new number of scheduler steps.
    """
    before = copy.deepcopy(table)
    result = copy.deepcopy(table)
    result.setdefault("agent", {})
    if timesteps is not None:
        result["timesteps"] = timesteps
        result["eval_every"] = min(result["eval_every"], max(1, timesteps // 4))
    for param in space:
        if param.name not in values:
            continue
        value = values[param.name]
        if param.path == _WIDTH:
            value = [value] * len(result.get("network", {}).get("hidden", [0, 0]))
        target = result
        for key in param.path[:-1]:
            target = target.setdefault(key, {})
        target[param.path[-1]] = value
    agent = result["agent"]
    if "learning_starts" in values and "random_timesteps" in defaults:
        agent["random_timesteps"] = agent["learning_starts"]
    if "mini_batches" in agent and "rollouts" in {**defaults, **agent}:
        samples = int({**defaults, **agent}["rollouts"]) * result["num_envs"]
        while agent["mini_batches"] > 1 and samples // agent["mini_batches"] < 8:
            agent["mini_batches"] //= 2
    kwargs = agent.get("learning_rate_scheduler_kwargs")
    if agent.get("learning_rate_scheduler") == "LinearLR" and isinstance(kwargs, dict) and "total_iters" in kwargs:
        ratio = _scheduler_steps(family, result, defaults) / _scheduler_steps(family, before, defaults)
        kwargs["total_iters"] = max(1, round(int(kwargs["total_iters"]) * ratio))
    return result


def describe_spaces() -> str:
    """Every family's parameters and ranges, one line per family (for ``steprl tune --help``)."""
    return "; ".join(f"{name}: {', '.join(p.describe() for p in params)}" for name, params in FAMILIES.items())
