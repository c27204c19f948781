"""Backend-neutral pieces of the models' distribution math: constants and the reduction names."""

from __future__ import annotations

import math

LOG_SQRT_2PI: float = 0.5 * math.log(2.0 * math.pi)
"""``log(sqrt(2π))``: the normalising constant of a standard normal in log space."""

GAUSSIAN_ENTROPY_CONST: float = 0.5 + LOG_SQRT_2PI
"""Entropy of a unit normal; the entropy of ``Normal(μ, σ)`` is this plus ``log σ``."""

REDUCTIONS: tuple[str, ...] = ("mean", "sum", "prod", "none")
"""How a mixin reduces per-dimension log-probabilities to one value per sample."""


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is one of :data:`REDUCTIONS`, else raise ``ValueError``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(repr(r) for r in REDUCTIONS)}; got {reduction!r}")
    return reduction
