"""Multi-categorical (MultiDiscrete action) policy mixin (JAX)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl.core.distributions import check_reduction
from steprl.models.jax._distributions import (
    categorical_entropy,
    categorical_gather,
    categorical_log_probs,
    reduce_last,
)
from steprl.models.jax._jit import jitted, split_inputs
from steprl.models.jax._random import next_key

__all__ = ["MultiCategoricalMixin"]


class MultiCategoricalMixin:
    """One categorical per sub-space of a MultiDiscrete action space: ``__call__`` returns ``(net_output, outputs)``
    with the logits (or probabilities) of every sub-space concatenated (split by ``action_space.nvec``).

    ``act`` returns ``(B, len(nvec))`` int32 actions, the log-probability reduced over sub-spaces (``reduction``)
    and ``outputs`` with ``"net_output"``, ``"mean_actions"`` (greedy) and ``"stddev"`` (NaN).
    """

    def __init__(self, unnormalized_log_prob: bool = True, reduction: str = "sum", role: str = "") -> None:
        nvec = getattr(getattr(self, "action_space", None), "nvec", None)
        if nvec is None:
            raise TypeError(f"MultiCategoricalMixin needs a MultiDiscrete action space, got {self.action_space!r}")  # type: ignore[attr-defined]
        self._mc_unnormalized_log_prob = bool(unnormalized_log_prob)
        self._mc_reduction = check_reduction(reduction)
        self._mc_splits = tuple(int(i) for i in np.cumsum(np.asarray(nvec).reshape(-1))[:-1])

    def _mc_forward(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple[jax.Array, list[jax.Array], dict]:
        net_output, outputs = self.apply(params, inputs, role)  # type: ignore[attr-defined]
        parts = jnp.split(net_output, self._mc_splits, axis=-1)
        return net_output, [categorical_log_probs(p, self._mc_unnormalized_log_prob) for p in parts], dict(outputs)

    def _mc_log_prob(self, log_probs: list[jax.Array], actions: jax.Array) -> jax.Array:
        per_space = jnp.concatenate(
            [categorical_gather(lp, actions[..., i]) for i, lp in enumerate(log_probs)], axis=-1
        )
        return reduce_last(per_space, self._mc_reduction)

    def act_pure(
        self, params: Any, inputs: Mapping[str, Any], role: str, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``act``: one sample per sub-space; ``log_prob`` of ``inputs["taken_actions"]`` when given."""
        inputs, key = split_inputs(inputs, key)
        net_output, log_probs, outputs = self._mc_forward(params, inputs, role)
        keys = jax.random.split(key, len(log_probs))
        actions = jnp.stack([jax.random.categorical(k, lp, axis=-1) for k, lp in zip(keys, log_probs)], axis=-1)
        taken = inputs.get("taken_actions")
        log_prob = self._mc_log_prob(log_probs, actions if taken is None else taken)
        greedy = jnp.stack([jnp.argmax(lp, axis=-1) for lp in log_probs], axis=-1)
        outputs.update(net_output=net_output, mean_actions=greedy, stddev=jnp.full_like(log_prob, jnp.nan))
        return actions, log_prob, outputs

    def evaluate(self, params: Any, inputs: Mapping[str, Any], role: str = "") -> tuple[jax.Array, jax.Array, dict]:
        """Pure ``(log_prob of inputs["taken_actions"], entropy reduced over sub-spaces, outputs)``."""
        net_output, log_probs, outputs = self._mc_forward(params, inputs, role)
        outputs["net_output"] = net_output
        entropy = reduce_last(jnp.stack([categorical_entropy(lp) for lp in log_probs], axis=-1), self._mc_reduction)
        return self._mc_log_prob(log_probs, inputs["taken_actions"]), entropy, outputs

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[jax.Array, jax.Array, dict]:
        """Sample actions (one jitted call); the key is ``inputs["key"]`` or a fresh subkey of ``config.jax.key``."""
        key = inputs.get("key")
        key = next_key() if key is None else key
        inputs = {k: v for k, v in inputs.items() if k != "key"}
        return jitted(self, "multicategorical", role, self.act_pure)(self._params(params), inputs, key)  # type: ignore[attr-defined]

    def get_entropy(self, logits: jax.Array, role: str = "") -> jax.Array:
        """Entropy of the distributions of ``logits`` (concatenated), reduced over sub-spaces."""
        parts = jnp.split(logits, self._mc_splits, axis=-1)
        entropy = [categorical_entropy(categorical_log_probs(p, self._mc_unnormalized_log_prob)) for p in parts]
        return reduce_last(jnp.stack(entropy, axis=-1), self._mc_reduction)
