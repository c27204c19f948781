"""Model-role checks every agent runs on its ``models`` dict, whatever its backend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from steprl.core.cfg import closest_key

__all__ = ["check_model_roles", "require_model"]


def check_model_roles(models: Mapping[str, Any], roles: Iterable[str], agent: str) -> None:
    """``KeyError`` for a role this agent does not know (naming the closest valid role)."""
    valid = list(roles)
    for role in models:
        if role not in valid:
            suggestion = closest_key(role, valid)
            hint = f" Did you mean '{suggestion}'?" if suggestion else ""
            raise KeyError(f"{agent} got an unknown model role '{role}'.{hint} Valid roles: {', '.join(valid)}")


def require_model(models: Mapping[str, Any], role: str, agent: str, why: str = "") -> Any:
    """The model of ``role``; ``ValueError`` naming the role when it is missing."""
    model = models.get(role)
    if model is None:
        raise ValueError(f"{agent} requires a '{role}' model{(' ' + why) if why else ''}: pass models={{'{role}': ...}}")
    return model
