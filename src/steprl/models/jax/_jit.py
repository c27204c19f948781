"""Per-model cache of the jitted ``act`` functions (one per role and mixin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax


def jitted(model: Any, name: str, role: str, pure: Callable[..., Any]) -> Callable[..., Any]:
    """``jax.jit`` of ``pure(params, inputs, role, key)`` with ``role`` fixed, created once per model and role."""
    cache: dict[tuple[str, str], Callable[..., Any]] = model.__dict__.setdefault("_steprl_jit", {})
    fn = cache.get((name, role))
    if fn is None:
        fn = cache[(name, role)] = jax.jit(lambda params, inputs, key: pure(params, inputs, role, key))
    return fn


def split_inputs(inputs: Any, key: Any) -> tuple[dict[str, Any], Any]:
    """``(inputs with inputs["key"] = a model subkey, a sampling subkey)``."""
    model_key, sample_key = jax.random.split(key)
    return {**inputs, "key": model_key}, sample_key
