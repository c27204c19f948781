"""Distribution math on plain tensors (no ``torch.distributions`` objects on the hot path).

Every function matches the corresponding ``torch.distributions`` result (``Normal``, diagonal
``MultivariateNormal``, ``Categorical``) up to floating point rounding, but skips argument
validation and object construction, which dominate the cost for small batches.
"""

from __future__ import annotations

import torch

from steprl.core.distributions import GAUSSIAN_ENTROPY_CONST, LOG_SQRT_2PI


def reduce_last(values: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce the last dimension by ``reduction`` keeping it as size 1 (``"none"`` returns ``values``)."""
    if reduction == "sum":
        return values.sum(dim=-1, keepdim=True)
    if reduction == "mean":
        return values.mean(dim=-1, keepdim=True)
    if reduction == "prod":
        return values.prod(dim=-1, keepdim=True)
    return values


def gaussian_log_prob(
    values: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    """Per-dimension log density of ``values`` under ``Normal(mean, std)`` (``log_std == log(std)``)."""
    return _standard_log_prob((values - mean) / std, log_std)


def _standard_log_prob(z: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """``-z²/2 - log σ - log √(2π)`` for standardised values ``z`` (the in-place ops act on fresh temporaries)."""
    return z.square().mul_(-0.5).sub_(LOG_SQRT_2PI) - log_std


def gaussian_act(
    mean: torch.Tensor,
    std: torch.Tensor,
    log_std: torch.Tensor,
    taken_actions: torch.Tensor | None,
    low: torch.Tensor | None,
    high: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterised sample ``mean + std * ε`` (clamped to ``[low, high]`` when given) and per-dim log-probs.

    The log-probability is that of ``taken_actions`` when given, else of the (clamped) sample. Without
    gradient tracking an unclamped sample's log-probability is computed from ``ε`` directly (fewer ops); with
    it, the full formula keeps the autograd graph of ``Normal.log_prob(rsample())``. ``std``/``log_std``
    broadcast against ``mean``.
    """
    noise = torch.randn_like(mean)
    actions = torch.addcmul(mean, std, noise)
    if low is not None:
        actions = torch.clamp(actions, min=low, max=high)
        if taken_actions is None:
            return actions, gaussian_log_prob(actions, mean, std, log_std)
    if taken_actions is not None:
        return actions, gaussian_log_prob(taken_actions, mean, std, log_std)
    if torch.is_grad_enabled():
        return actions, gaussian_log_prob(actions, mean, std, log_std)
    return actions, _standard_log_prob(noise, log_std)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """Per-dimension entropy of ``Normal(·, exp(log_std))``."""
    return log_std + GAUSSIAN_ENTROPY_CONST


def categorical_log_probs(net_output: torch.Tensor, unnormalized_log_prob: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised ``(log_probs, probs)`` over the last dimension from logits or (unnormalised) probabilities.

    Probabilities are normalised and clamped to ``[eps, 1 - eps]`` before the log, as ``Categorical(probs=...)`` does.
    """
    if unnormalized_log_prob:
        log_probs = torch.log_softmax(net_output, dim=-1)
        return log_probs, log_probs.exp()
    probs = net_output / net_output.sum(dim=-1, keepdim=True)
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1.0 - eps).log(), probs


def categorical_sample(probs: torch.Tensor) -> torch.Tensor:
    """One int64 sample per row of ``probs`` (..., n) → (..., 1), by the exponential race ``argmax(p / q), q ~ Exp(1)``.

    This is the algorithm ``torch.multinomial(probs, 1)`` runs internally, minus its argument checks, which call
    ``.item()`` three times (a device synchronisation per step on GPU). Probabilities need not be normalised.
    """
    race = torch.empty_like(probs).exponential_()
    return torch.argmax(probs / race, dim=-1, keepdim=True)


def categorical_gather(log_probs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of ``actions`` (..., 1), any numeric dtype, from ``log_probs`` (..., n) → (..., 1)."""
    return torch.gather(log_probs, -1, actions.reshape(*log_probs.shape[:-1], 1).long())


def categorical_entropy(log_probs: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Entropy ``-Σ p log p`` over the last dimension (``-inf`` log-probs of padded entries contribute 0)."""
    log_probs = log_probs.clamp(min=torch.finfo(log_probs.dtype).min)
    return -(probs * log_probs).sum(dim=-1)
