"""TRPO: the surrogate, the KL of each policy kind, the conjugate gradient and the line search's acceptance rule
(accept an improving step, backtrack from one that breaks the KL bound or improves too little, restore on failure)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers.loss_cases import (
    CATEGORICAL_KL_CASE,
    CONJUGATE_GRADIENT_CASE,
    LINE_SEARCH_CASES,
    NORMAL_KL_CASE,
    SURROGATE_CASE,
)
from torch.distributions import Categorical, Independent, MultivariateNormal, Normal
from torch.nn.utils import parameters_to_vector

from steprl.agents.torch.trpo.losses import (
    backtracking_line_search,
    conjugate_gradient,
    detached_distribution,
    flat_grad,
    mean_kl,
    surrogate_objective,
)

F64 = torch.float64


def test_surrogate_objective() -> None:
    case = SURROGATE_CASE
    log_prob = torch.tensor(case["log_prob"], dtype=F64, requires_grad=True)
    objective = surrogate_objective(
        log_prob, torch.tensor(case["old_log_prob"], dtype=F64), torch.tensor(case["advantages"], dtype=F64)
    )
    objective.backward()
    assert objective.item() == pytest.approx(case["expected"], rel=1e-12)
    # d mean(A·r)/d log π = A·r/B = [1·2, 4·0.5]/2
    assert log_prob.grad.tolist() == pytest.approx([1.0, 1.0], rel=1e-12)


def test_mean_kl_of_a_diagonal_normal_sums_the_dimensions() -> None:
    case = NORMAL_KL_CASE
    t = {k: torch.tensor(v, dtype=F64) for k, v in case.items() if k != "expected"}
    old, new = Normal(t["old_loc"], t["old_scale"]), Normal(t["new_loc"], t["new_scale"])
    assert mean_kl(old, new).item() == pytest.approx(case["expected"], rel=1e-12)
    independent = mean_kl(Independent(old, 1), Independent(new, 1))
    assert independent.item() == pytest.approx(case["expected"], rel=1e-12)
    one_dim = mean_kl(Normal(t["old_loc"][:, 0], 1.0), Normal(t["new_loc"][:, 0], 1.0))  # (B,): no summing
    assert one_dim.item() == pytest.approx(0.5 / 3, rel=1e-12)
    # a (1, B, D) batch (sequences): still the mean over the (1, B) rows of the sums over D
    batched = mean_kl(
        Normal(t["old_loc"][None], t["old_scale"][None]), Normal(t["new_loc"][None], t["new_scale"][None])
    )
    assert batched.item() == pytest.approx(case["expected"], rel=1e-12)


def test_mean_kl_of_a_categorical() -> None:
    case = CATEGORICAL_KL_CASE
    old = Categorical(probs=torch.tensor(case["old_probs"], dtype=F64))
    new = Categorical(probs=torch.tensor(case["new_probs"], dtype=F64))
    assert mean_kl(old, new).item() == pytest.approx(case["expected"], rel=1e-12)


def test_detached_distribution_keeps_the_values_and_drops_the_gradient() -> None:
    loc = torch.tensor([[0.5, -1.0]], requires_grad=True)
    scale = torch.tensor([[1.0, 2.0]], requires_grad=True)
    dists = [
        Normal(loc, scale),
        Independent(Normal(loc, scale), 1),
        Categorical(logits=loc),
        MultivariateNormal(loc, scale_tril=torch.diag_embed(scale)),
    ]
    for dist in dists:
        copy = detached_distribution(dist)
        assert type(copy) is type(dist)
        sample = dist.sample()
        torch.testing.assert_close(copy.log_prob(sample), dist.log_prob(sample).detach())
        assert not copy.log_prob(sample).requires_grad
    assert detached_distribution(Independent(Normal(loc, scale), 1)).reinterpreted_batch_ndims == 1
    with pytest.raises(TypeError, match="Normal, Categorical, MultivariateNormal"):
        detached_distribution(torch.distributions.Uniform(0.0, 1.0))


def test_flat_grad_fills_unused_parameters_with_zeros() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    unused = torch.tensor([[3.0]], requires_grad=True)
    b = torch.tensor(4.0, requires_grad=True)
    grad = flat_grad((a**2).sum() * b, [a, unused, b])
    assert grad.tolist() == [8.0, 16.0, 0.0, 5.0]


def test_conjugate_gradient_hand_case() -> None:
    case = CONJUGATE_GRADIENT_CASE
    matrix, b = torch.tensor(case["matrix"], dtype=F64), torch.tensor(case["b"], dtype=F64)
    x = conjugate_gradient(lambda v: matrix @ v, b, steps=10)
    assert x.tolist() == pytest.approx(case["expected"], rel=1e-12)
    assert conjugate_gradient(lambda v: matrix @ v, b, steps=1).tolist() == pytest.approx(case["expected_one_step"])
    # a tolerance at or above the initial squared residual (|b|² = 5) freezes x at 0
    for tolerance in (5.0, 6.0):
        assert conjugate_gradient(lambda v: matrix @ v, b, steps=3, residual_tolerance=tolerance).tolist() == [0.0, 0.0]
    assert conjugate_gradient(lambda v: matrix @ v, b).tolist() == pytest.approx(case["expected"], rel=1e-12)


@pytest.mark.parametrize("case", LINE_SEARCH_CASES, ids=[c["id"] for c in LINE_SEARCH_CASES])
@pytest.mark.parametrize("offset", [0.0, 2.0], ids=["old0", "old2"])
def test_line_search_acceptance(case: dict[str, Any], offset: float) -> None:
    """The cases' objectives are relative to an old objective of 0; shifting both by 2 changes nothing."""
    params = [torch.nn.Parameter(torch.tensor([1.0, -2.0])), torch.nn.Parameter(torch.tensor([[0.5]]))]
    start = parameters_to_vector(params).detach().clone()
    step = torch.tensor([2.0, 4.0, -8.0])
    tries = iter(case["tries"])
    tried: list[torch.Tensor] = []

    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        assert not torch.is_grad_enabled()  # the tries build no autograd graph
        tried.append(parameters_to_vector(params).detach().clone())
        objective, kl = next(tries)
        return torch.tensor(objective + offset), torch.tensor(kl)

    accepted, fraction = backtracking_line_search(
        params,
        step,
        torch.tensor(case.get("expected_improvement", 1.0)),
        evaluate,
        torch.tensor(offset),
        max_kl=0.01,
        **case["kwargs"],
    )
    assert (accepted, fraction, len(tried)) == (case["accepted"], case["fraction"], case["evaluations"])
    first = case["kwargs"].get("step_fraction", 1.0)
    for i, point in enumerate(tried):  # try i evaluates θ₀ + step_fraction·0.5^i·step
        torch.testing.assert_close(point, start + first * 0.5**i * step)
    torch.testing.assert_close(parameters_to_vector(params).detach(), start + fraction * step, rtol=0, atol=0)
