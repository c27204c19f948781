"""TRPO's pieces as pure functions: surrogate, KL, Fisher-vector product, conjugate gradient, line search."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

__all__ = [
    "backtracking_line_search",
    "conjugate_gradient",
    "detached_distribution",
    "fisher_vector_product",
    "flat_grad",
    "mean_kl",
    "surrogate_objective",
]


def surrogate_objective(log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """``mean(advantages · π(a|s) / π_old(a|s))`` (to maximise)."""
    return (advantages * torch.exp(log_prob - old_log_prob)).mean()


def detached_distribution(dist: torch.distributions.Distribution) -> torch.distributions.Distribution:
    """A copy of ``dist`` whose parameters carry no gradient (the fixed "old" side of a KL)."""
    if isinstance(dist, torch.distributions.Independent):
        return torch.distributions.Independent(detached_distribution(dist.base_dist), dist.reinterpreted_batch_ndims)
    if isinstance(dist, torch.distributions.Normal):
        return torch.distributions.Normal(dist.loc.detach(), dist.scale.detach())
    if isinstance(dist, torch.distributions.Categorical):
        return torch.distributions.Categorical(logits=dist.logits.detach())
    if isinstance(dist, torch.distributions.MultivariateNormal):
        return torch.distributions.MultivariateNormal(dist.loc.detach(), scale_tril=dist.scale_tril.detach())
    raise TypeError(f"TRPO: no KL divergence for {type(dist).__name__} policies (Normal, Categorical, MultivariateNormal)")


def mean_kl(old: torch.distributions.Distribution, new: torch.distributions.Distribution) -> torch.Tensor:
    """``mean_s KL(old(·|s) ‖ new(·|s))``; per-dimension KLs of a diagonal ``Normal`` are summed over the last axis."""
    kl = torch.distributions.kl_divergence(old, new)
    if isinstance(new, torch.distributions.Normal) and kl.dim() > 1:
        kl = kl.sum(-1)
    return kl.mean()


def flat_grad(
    output: torch.Tensor, params: Sequence[torch.Tensor], create_graph: bool = False, retain_graph: bool | None = None
) -> torch.Tensor:
    """``∂output/∂params`` as one flat vector (zeros for parameters ``output`` does not depend on)."""
    grads = torch.autograd.grad(output, list(params), create_graph=create_graph, retain_graph=retain_graph, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


def fisher_vector_product(
    kl_gradient: torch.Tensor, params: Sequence[torch.Tensor], vector: torch.Tensor, damping: float
) -> torch.Tensor:
    """``(H + damping·I) · vector`` where ``H`` is the Hessian of the mean KL at the current parameters (the Fisher
    information matrix there), by double backward.

    ``kl_gradient`` is :func:`flat_grad` of the KL with ``create_graph=True``; it can serve many products.
    """
    product = flat_grad((kl_gradient * vector.detach()).sum(), params, retain_graph=True)
    return product + damping * vector


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, steps: int = 10, residual_tolerance: float = 1e-10
) -> torch.Tensor:
    """Approximate solution ``x`` of ``A x = b`` for a symmetric positive-definite ``A`` given as ``matvec`` (``steps``
    iterations from ``x = 0``).

    Without host syncs: once the squared residual falls below ``residual_tolerance`` the iterate stops changing
    (masked updates instead of an early ``break``).
    """
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rdotr = r @ r
    tiny = torch.finfo(b.dtype).tiny
    for _ in range(steps):
        active = (rdotr > residual_tolerance).to(b.dtype)
        ap = matvec(p)
        alpha = active * rdotr / (p @ ap).clamp_min(tiny)
        x = x + alpha * p
        r = r - alpha * ap
        new_rdotr = r @ r
        beta = new_rdotr / rdotr.clamp_min(tiny)
        p = r + beta * p
        rdotr = new_rdotr
    return x


def backtracking_line_search(
    params: Sequence[torch.Tensor],
    full_step: torch.Tensor,
    expected_improvement: torch.Tensor,
    evaluate: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    old_objective: torch.Tensor,
    max_kl: float,
    max_backtrack_steps: int = 10,
    accept_ratio: float = 0.5,
    step_fraction: float = 1.0,
) -> tuple[bool, float]:
    """Try ``θ₀ + f·full_step`` for ``f = step_fraction · 0.5^i``, ``i < max_backtrack_steps``.

    ``evaluate()`` returns ``(objective, kl)`` at the parameters currently set (``kl`` to the distribution at ``θ₀``).
    A step is accepted when ``kl ≤ max_kl``, the objective improved and the improvement is at least ``accept_ratio``
    times the linear prediction ``f · expected_improvement``. Returns ``(accepted, f)``; when no step is accepted the
    parameters are restored to ``θ₀`` exactly and ``f`` is 0. One host sync per tried step.
    """
    params = list(params)
    with torch.no_grad():
        start = parameters_to_vector(params).clone()
        for i in range(max_backtrack_steps):
            fraction = step_fraction * 0.5**i
            vector_to_parameters(start + fraction * full_step, params)
            objective, kl = evaluate()
            improvement = objective - old_objective
            ok = (kl <= max_kl) & (improvement > 0) & (improvement >= accept_ratio * fraction * expected_improvement)
            if bool(ok & torch.isfinite(objective) & torch.isfinite(kl)):
                return True, fraction
        vector_to_parameters(start, params)
    return False, 0.0
