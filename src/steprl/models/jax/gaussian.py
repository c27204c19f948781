"""Diagonal Gaussian policy mixin (JAX)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from steprl.core.distributions import check_reduction
from steprl.models.jax._distributions import gaussian_entropy, gaussian_log_prob, reduce_last
from steprl.models.jax._jit import jitted, split_inputs
from steprl.models.jax._random import next_key

__all__ = ["GaussianMixin"]


class GaussianMixin:
    """Gaussian policy: ``__call__`` returns ``(mean_actions, log_std, outputs)``; ``log_std`` ``(act,)`` or ``(B, act)``.

    ``act`` (one jitted function: forward, sample, log-prob) returns ``(actions, log_prob, outputs)`` with
    ``outputs["mean_actions"]``, ``["log_std"]`` and ``["stddev"]``. :meth:`evaluate` is the pure form the agents'
    jitted updates use.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        reduction: str = "sum",
        role: str = "",
    ) -> None:
        """Configure clipping and the log-prob ``reduction`` (``"mean"``, ``"sum"``, ``"prod"`` or ``"none"``)."""
        self._g_reduction = check_reduction(reduction)
        space = getattr(self, "action_space", None)
        self._g_clip_actions = bool(clip_actions) and isinstance(space, gymnasium.spaces.Box)
        if self._g_clip_actions:
            self._g_low = np.asarray(space.low, dtype=np.float32).reshape(-1)
            self._g_high = np.asarray(space.high, dtype=np.float32).reshape(-1)
        self._g_clip_log_std = bool(clip_log_std)
        self._g_log_std_min = float(min_log_std)
        self._g_log_std_max = float(max_log_std)

    def _g_forward(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple[jax.Array, jax.Array, dict]:
        mean, log_std, outputs = self.apply(params, inputs, role)  # type: ignore[attr-defined]
        if self._g_clip_log_std:
            log_std = jnp.clip(log_std, self._g_log_std_min, self._g_log_std_max)
        log_std = jnp.broadcast_to(log_std, mean.shape)
        return mean, log_std, dict(outputs)

    def act_pure(
        self, params: Any, inputs: Mapping[str, Any], role: str, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``act``: sample ``mean + std·ε`` (clipped to the Box when ``clip_actions``); ``log_prob`` of
        ``inputs["taken_actions"]`` when given, else of the actions."""
        inputs, key = split_inputs(inputs, key)
        mean, log_std, outputs = self._g_forward(params, inputs, role)
        std = jnp.exp(log_std)
        actions = mean + std * jax.random.normal(key, mean.shape, mean.dtype)
        if self._g_clip_actions:
            actions = jnp.clip(actions, self._g_low, self._g_high)
        taken = inputs.get("taken_actions")
        log_prob = gaussian_log_prob(actions if taken is None else taken, mean, log_std)
        outputs.update(mean_actions=mean, log_std=log_std, stddev=std)
        return actions, reduce_last(log_prob, self._g_reduction), outputs

    def evaluate(self, params: Any, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``(log_prob of inputs["taken_actions"], per-dimension entropy, outputs)``."""
        mean, log_std, outputs = self._g_forward(params, inputs, role)
        log_prob = reduce_last(gaussian_log_prob(inputs["taken_actions"], mean, log_std), self._g_reduction)
        outputs.update(mean_actions=mean, log_std=log_std, stddev=jnp.exp(log_std))
        return log_prob, gaussian_entropy(log_std), outputs

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[jax.Array, jax.Array, dict]:
        """Sample actions (one jitted call); the key is ``inputs["key"]`` or a fresh subkey of ``config.jax.key``."""
        key = inputs.get("key")
        key = next_key() if key is None else key
        inputs = {k: v for k, v in inputs.items() if k != "key"}
        return jitted(self, "gaussian", role, self.act_pure)(self._params(params), inputs, key)  # type: ignore[attr-defined]

    def get_entropy(self, stddev: jax.Array, role: str = "") -> jax.Array:
        """Per-dimension entropy of a Gaussian with standard deviation ``stddev``."""
        return gaussian_entropy(jnp.log(stddev))
