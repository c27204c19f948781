"""What every backend's noises share: argument checks and the Ornstein-Uhlenbeck step (plain arithmetic)."""

from __future__ import annotations

from typing import Any


def check_std(std: float, owner: str) -> float:
    """``std`` as a float, or a ``ValueError`` naming ``owner`` when it is not positive."""
    if float(std) <= 0:
        raise ValueError(f"{owner} std must be > 0, got {std}")
    return float(std)


def ou_step(state: Any, gaussian: Any, theta: float, sigma: float) -> Any:
    """One Ornstein-Uhlenbeck step: ``state - theta · state + sigma · gaussian`` (arrays of any backend)."""
    return state * (1.0 - theta) + sigma * gaussian
