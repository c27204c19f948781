"""Distribution math as pure JAX functions (usable inside ``jit``, ``grad`` and ``lax.scan``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from steprl.core.distributions import GAUSSIAN_ENTROPY_CONST, LOG_SQRT_2PI


def reduce_last(values: jax.Array, reduction: str) -> jax.Array:
    """Reduce the last dimension by ``reduction`` keeping it as size 1 (``"none"`` returns ``values``)."""
    if reduction == "sum":
        return values.sum(axis=-1, keepdims=True)
    if reduction == "mean":
        return values.mean(axis=-1, keepdims=True)
    if reduction == "prod":
        return values.prod(axis=-1, keepdims=True)
    return values


def gaussian_log_prob(values: jax.Array, mean: jax.Array, log_std: jax.Array) -> jax.Array:
    """Per-dimension log density of ``values`` under ``Normal(mean, exp(log_std))``."""
    z = (values - mean) * jnp.exp(-log_std)
    return -0.5 * z * z - LOG_SQRT_2PI - log_std


def gaussian_entropy(log_std: jax.Array) -> jax.Array:
    """Per-dimension entropy of ``Normal(·, exp(log_std))``."""
    return log_std + GAUSSIAN_ENTROPY_CONST


def categorical_log_probs(net_output: jax.Array, unnormalized_log_prob: bool) -> jax.Array:
    """Normalised log-probabilities over the last dimension from logits or (unnormalised) probabilities."""
    if unnormalized_log_prob:
        return jax.nn.log_softmax(net_output, axis=-1)
    probs = net_output / net_output.sum(axis=-1, keepdims=True)
    eps = jnp.finfo(probs.dtype).eps
    return jnp.log(jnp.clip(probs, eps, 1.0 - eps))


def categorical_gather(log_probs: jax.Array, actions: jax.Array) -> jax.Array:
    """Log-probabilities of ``actions`` (..., 1) from ``log_probs`` (..., n) → (..., 1)."""
    index = actions.reshape(*log_probs.shape[:-1], 1).astype(jnp.int32)
    return jnp.take_along_axis(log_probs, index, axis=-1)


def categorical_entropy(log_probs: jax.Array) -> jax.Array:
    """Entropy ``-Σ p log p`` over the last dimension."""
    log_probs = jnp.maximum(log_probs, jnp.finfo(log_probs.dtype).min)
    return -(jnp.exp(log_probs) * log_probs).sum(axis=-1)
