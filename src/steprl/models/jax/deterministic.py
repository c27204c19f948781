"""Deterministic model mixin (value functions, deterministic policies) (JAX)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from steprl.models.jax._jit import jitted, split_inputs
from steprl.models.jax._random import next_key

__all__ = ["DeterministicMixin"]


class DeterministicMixin:
    """``__call__`` returns ``(actions, outputs)``; ``act`` returns ``(actions [clipped to the Box], None, outputs)``."""

    def __init__(self, clip_actions: bool = False, role: str = "") -> None:
        space = getattr(self, "action_space", None)
        self._d_clip_actions = bool(clip_actions) and isinstance(space, gymnasium.spaces.Box)
        if self._d_clip_actions:
            self._d_low = np.asarray(space.low, dtype=np.float32).reshape(-1)
            self._d_high = np.asarray(space.high, dtype=np.float32).reshape(-1)

    def evaluate(self, params: Any, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, None, dict]:
        """Pure ``(actions, None, outputs)``."""
        actions, outputs = self.apply(params, inputs, role)  # type: ignore[attr-defined]
        if self._d_clip_actions:
            actions = jnp.clip(actions, self._d_low, self._d_high)
        return actions, None, dict(outputs)

    def act_pure(
        self, params: Any, inputs: Mapping[str, Any], role: str, key: jax.Array
    ) -> tuple[jax.Array, None, dict]:
        """Pure ``act`` (``inputs["key"]`` is a subkey of ``key``)."""
        inputs, _ = split_inputs(inputs, key)
        return self.evaluate(params, inputs, role)

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[jax.Array, None, dict]:
        """Compute the actions (one jitted call)."""
        key = inputs.get("key")
        key = next_key() if key is None else key
        inputs = {k: v for k, v in inputs.items() if k != "key"}
        return jitted(self, "deterministic", role, self.act_pure)(self._params(params), inputs, key)  # type: ignore[attr-defined]
