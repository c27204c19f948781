"""Validation and splitting of ``agents_scope`` (simultaneous agents sharing one vectorized environment)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from steprl import logger


def generate_equally_spaced_scopes(num_envs: int, num_simultaneous_agents: int) -> list[int]:
    """Split ``num_envs`` equally among agents (the remainder goes to the last); ``ValueError`` if agents > envs."""
    if num_simultaneous_agents < 1:
        raise ValueError(f"num_simultaneous_agents must be >= 1, got {num_simultaneous_agents}")
    share = num_envs // num_simultaneous_agents
    if share == 0:
        raise ValueError(
            f"More simultaneous agents ({num_simultaneous_agents}) than environments ({num_envs}): "
            "each agent needs at least one environment"
        )
    scopes = [share] * num_simultaneous_agents
    scopes[-1] += num_envs - share * num_simultaneous_agents
    return scopes


def normalize_agents(agents: Any, agents_scope: Sequence[int] | None, num_envs: int) -> tuple[list[Any], list[int], list[tuple[int, int]]]:
    """Validate agents and scopes once; returns ``(agent_list, scope_sizes, index_ranges)``.

    Nothing given by the caller is modified (the scope list is copied). A lone agent owns ``(0, num_envs)``.
    """
    if isinstance(agents, (list, tuple)):
        if len(agents) == 0:
            raise ValueError("agents is an empty list: give one agent or a list of agents")
        agent_list = list(agents)
    else:
        agent_list = [agents]
    for i, agent in enumerate(agent_list):
        if agent is None or not hasattr(agent, "act"):
            raise TypeError(f"agents[{i}] must be an Agent (with an act() method), got {type(agent).__name__}")
    k = len(agent_list)
    scope = [] if agents_scope is None else list(agents_scope)
    if k == 1:
        if scope and (len(scope) != 1 or int(scope[0]) != num_envs):
            raise ValueError(f"agents_scope {scope} for one agent must be [{num_envs}] (all the environments) or empty")
        sizes = [num_envs]
    elif not scope:
        logger.warning(f"agents_scope not given: splitting {num_envs} environments equally among {k} agents")
        sizes = generate_equally_spaced_scopes(num_envs, k)
    else:
        if len(scope) != k:
            raise ValueError(f"agents_scope has {len(scope)} entries but {k} agents were given: one entry per agent is expected")
        if any((not isinstance(s, int)) or isinstance(s, bool) or s < 1 for s in scope):
            raise ValueError(f"agents_scope entries must be positive ints, got {scope}")
        if sum(scope) != num_envs:
            raise ValueError(f"agents_scope {scope} sums to {sum(scope)} but the environment has {num_envs} sub-environments")
        sizes = scope
    ranges: list[tuple[int, int]] = []
    start = 0
    for size in sizes:
        ranges.append((start, start + size))
        start += size
    return agent_list, sizes, ranges
