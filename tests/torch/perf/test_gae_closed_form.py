"""The closed-form GAE equals the step-by-step recursion, on every path it takes."""

from __future__ import annotations

import pytest
import torch

from steprl.agents.torch import gae


@pytest.mark.parametrize(("steps", "envs", "decay"), [(128, 8, 0.99 * 0.95), (1024, 1, 0.99 * 0.95), (8, 64, 0.5), (16, 3, 0.0)])
def test_closed_form_equals_recursion(steps: int, envs: int, decay: float) -> None:
    generator = torch.Generator().manual_seed(steps + envs)
    deltas = torch.randn(steps, envs, 1, generator=generator)
    done = torch.rand(steps, envs, 1, generator=generator) < 0.05
    done[-1, 0] = True
    assert gae._closed_form_applies(deltas, decay)
    expected = gae._recursion(deltas, done, decay)
    assert torch.allclose(gae._closed_form(deltas, done, decay), expected, rtol=1e-5, atol=1e-5)


def test_compute_gae_falls_back_to_the_recursion_where_float64_would_underflow() -> None:
    steps = 20_000
    deltas = torch.ones(steps, 1)
    assert not gae._closed_form_applies(deltas, 0.9)
    zeros = torch.zeros(steps, 1)
    no = torch.zeros(steps, 1, dtype=torch.bool)
    returns, advantages = gae.compute_gae(deltas, zeros, zeros, no, no, 0.9, 1.0)
    assert advantages[0].item() == pytest.approx(10.0) and advantages[-1].item() == 1.0
    assert torch.equal(returns, advantages)
