"""Construction helpers shared by the PyTorch agents (model-role checks, preprocessors, schedulers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from steprl.core.cfg import closest_key


def _empty_preprocessor(_input: Any, *args: Any, **kwargs: Any) -> Any:
    """Identity preprocessor (module-level so agents stay picklable)."""
    return _input


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


def build_preprocessor(cls: Any, kwargs: Mapping[str, Any] | None, device: torch.device) -> Any:
    """Instantiate a preprocessor class (``None`` → identity)."""
    if cls is None:
        return _empty_preprocessor
    kwargs = dict(kwargs or {})
    kwargs.setdefault("device", device)
    return cls(**kwargs)


def build_scheduler(cls: Any, optimizer: torch.optim.Optimizer, kwargs: Mapping[str, Any] | None) -> Any:
    """Instantiate a learning-rate scheduler class on ``optimizer`` (``None`` → no scheduler)."""
    if cls is None:
        return None
    return cls(optimizer, **dict(kwargs or {}))


def unique_parameters(*models: Any) -> list[torch.nn.Parameter]:
    """Parameters of the given models, each once (shared models or shared layers are not optimised twice)."""
    seen: set[int] = set()
    params: list[torch.nn.Parameter] = []
    for model in models:
        if model is None:
            continue
        for p in model.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


def make_adam(params: list[torch.nn.Parameter], lr: float) -> torch.optim.Adam:
    """Adam with the fused kernel where the parameters' device supports it (several times faster per step)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(params, lr=lr)
