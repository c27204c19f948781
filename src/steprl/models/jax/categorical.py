"""Categorical (discrete action) policy mixin (JAX)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

from steprl.models.jax._distributions import categorical_entropy, categorical_gather, categorical_log_probs
from steprl.models.jax._jit import jitted, split_inputs
from steprl.models.jax._random import next_key

__all__ = ["CategoricalMixin"]


class CategoricalMixin:
    """Categorical policy: ``__call__`` returns ``(net_output, outputs)``, logits if ``unnormalized_log_prob`` else
    probabilities. ``act`` returns ``(actions (B, 1) int32, log_prob (B, 1), outputs)`` with ``"net_output"``,
    ``"stddev"`` (NaN) and ``"mean_actions"`` (the greedy action, so deterministic evaluation works)."""

    def __init__(self, unnormalized_log_prob: bool = True, role: str = "") -> None:
        self._c_unnormalized_log_prob = bool(unnormalized_log_prob)

    def _c_forward(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple[jax.Array, jax.Array, dict]:
        net_output, outputs = self.apply(params, inputs, role)  # type: ignore[attr-defined]
        return net_output, categorical_log_probs(net_output, self._c_unnormalized_log_prob), dict(outputs)

    def act_pure(
        self, params: Any, inputs: Mapping[str, Any], role: str, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``act``: one sample per row; ``log_prob`` of ``inputs["taken_actions"]`` when given."""
        inputs, key = split_inputs(inputs, key)
        net_output, log_probs, outputs = self._c_forward(params, inputs, role)
        actions = jax.random.categorical(key, log_probs, axis=-1)[..., None]
        taken = inputs.get("taken_actions")
        log_prob = categorical_gather(log_probs, actions if taken is None else taken)
        outputs.update(
            net_output=net_output,
            mean_actions=jnp.argmax(net_output, axis=-1, keepdims=True),
            stddev=jnp.full_like(log_prob, jnp.nan),
        )
        return actions, log_prob, outputs

    def evaluate(self, params: Any, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``(log_prob of inputs["taken_actions"], entropy (B,), outputs)``."""
        net_output, log_probs, outputs = self._c_forward(params, inputs, role)
        outputs["net_output"] = net_output
        return categorical_gather(log_probs, inputs["taken_actions"]), categorical_entropy(log_probs), outputs

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[jax.Array, jax.Array, dict]:
        """Sample actions (one jitted call); the key is ``inputs["key"]`` or a fresh subkey of ``config.jax.key``."""
        key = inputs.get("key")
        key = next_key() if key is None else key
        inputs = {k: v for k, v in inputs.items() if k != "key"}
        return jitted(self, "categorical", role, self.act_pure)(self._params(params), inputs, key)  # type: ignore[attr-defined]

    def get_entropy(self, logits: jax.Array, role: str = "") -> jax.Array:
        """Entropy ``(B,)`` of the distribution of ``logits`` (or probabilities, per ``unnormalized_log_prob``)."""
        return categorical_entropy(categorical_log_probs(logits, self._c_unnormalized_log_prob))
