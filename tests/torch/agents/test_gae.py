"""GAE against a hand-computed case and an independent reference loop."""

import numpy as np
import pytest
import torch

from steprl.agents.torch.gae import compute_gae


def _t(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype).view(-1, 1, 1)


def test_hand_computed_termination():
    returns, adv = compute_gae(
        _t([1.0, 2.0, 3.0]),
        _t([0.5, 1.0, 1.5]),
        _t([1.0, 1.5, 2.0]),
        _t([0, 0, 1], torch.bool),
        _t([0, 0, 0], torch.bool),
        discount_factor=0.5,
        lambda_coefficient=0.5,
    )
    # delta2 = 3 - 1.5 (terminated: no bootstrap); delta1 = 2 + .5*1.5 - 1; delta0 = 1 + .5*1 - .5
    assert adv.flatten().tolist() == pytest.approx([1.53125, 2.125, 1.5])
    assert returns.flatten().tolist() == pytest.approx([2.03125, 3.125, 3.0])


def test_hand_computed_truncation_bootstraps_but_does_not_chain():
    _, adv = compute_gae(
        _t([1.0, 2.0, 3.0]),
        _t([0.5, 1.0, 1.5]),
        _t([1.0, 1.5, 2.0]),
        _t([0, 0, 0], torch.bool),
        _t([0, 1, 0], torch.bool),
        discount_factor=0.5,
        lambda_coefficient=0.5,
    )
    # step 1 truncated: bootstraps from V(final obs)=1.5, but A1 does not include A2 (next episode)
    assert adv.flatten().tolist() == pytest.approx([1.0 + 0.25 * 1.75, 1.75, 2.5])


def _reference(rewards, values, next_values, terminated, truncated, gamma, lam):
    t_len, n = rewards.shape
    adv = np.zeros((t_len, n))
    for env in range(n):
        last = 0.0
        for t in reversed(range(t_len)):
            done = terminated[t, env] or truncated[t, env]
            bootstrap = 0.0 if terminated[t, env] else next_values[t, env]
            delta = rewards[t, env] + gamma * bootstrap - values[t, env]
            last = delta + (0.0 if done else gamma * lam * last)
            adv[t, env] = last
    return adv + values, adv


def test_matches_reference_loop():
    rng = np.random.default_rng(0)
    t_len, n = 37, 5
    rewards = rng.normal(size=(t_len, n))
    values = rng.normal(size=(t_len, n))
    next_values = rng.normal(size=(t_len, n))
    terminated = rng.random((t_len, n)) < 0.1
    truncated = (rng.random((t_len, n)) < 0.1) & ~terminated
    ref_returns, ref_adv = _reference(rewards, values, next_values, terminated, truncated, 0.97, 0.9)
    returns, adv = compute_gae(
        torch.tensor(rewards),
        torch.tensor(values),
        torch.tensor(next_values),
        torch.tensor(terminated),
        torch.tensor(truncated),
        0.97,
        0.9,
    )
    np.testing.assert_allclose(adv.numpy(), ref_adv, rtol=1e-10)
    np.testing.assert_allclose(returns.numpy(), ref_returns, rtol=1e-10)


def test_lambda_one_is_discounted_return_within_episode():
    rewards = torch.ones(4, 1)
    zeros = torch.zeros(4, 1)
    terminated = torch.tensor([[False], [False], [False], [True]])
    returns, _ = compute_gae(rewards, zeros, zeros, terminated, torch.zeros_like(terminated), 0.9, 1.0)
    expected = [1 + 0.9 + 0.81 + 0.729, 1 + 0.9 + 0.81, 1 + 0.9, 1.0]
    assert returns.flatten().tolist() == pytest.approx(expected)
