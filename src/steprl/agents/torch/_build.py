"""Construction helpers shared by the PyTorch agents (model-role checks, preprocessors, schedulers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from steprl.agents.torch._adam import make_adam
from steprl.core.roles import check_model_roles, require_model

__all__ = ["build_preprocessor", "build_scheduler", "check_model_roles", "make_adam", "require_model", "unique_parameters"]


def _empty_preprocessor(_input: Any, *args: Any, **kwargs: Any) -> Any:
    """Identity preprocessor (module-level so agents stay picklable)."""
    return _input


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
