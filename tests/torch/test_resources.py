"""Tests for RunningStandardScaler and KLAdaptiveLR."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.resources.schedulers.torch import KLAdaptiveLR, KLAdaptiveRL

# RunningStandardScaler


def expected_stats(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean/population variance of ``data`` together with the prior (mean 0, variance 1, count 1)."""
    n = data.shape[0]
    mean = data.sum(axis=0) / (n + 1)
    m2 = 1.0 + ((data - mean) ** 2).sum(axis=0) + mean**2
    return mean, m2 / (n + 1)


def test_scaler_buffers_and_sizes() -> None:
    scaler = RunningStandardScaler(4, device="cpu")
    assert scaler.running_mean.dtype == torch.float64 and scaler.running_mean.shape == (4,)
    assert torch.equal(scaler.running_variance, torch.ones(4, dtype=torch.float64))
    assert scaler.current_count.shape == () and float(scaler.current_count) == 1.0
    assert RunningStandardScaler(gymnasium.spaces.Box(-1, 1, (2, 3)), device="cpu").running_mean.shape == (6,)
    assert RunningStandardScaler(gymnasium.spaces.Discrete(7), device="cpu").running_mean.shape == (1,)
    assert RunningStandardScaler(gymnasium.spaces.MultiDiscrete([2, 3]), device="cpu").running_mean.shape == (2,)


def test_scaler_running_stats_match_numpy() -> None:
    rng = np.random.default_rng(0)
    scaler = RunningStandardScaler(3, device="cpu")
    batches = [rng.normal(3.0, 2.0, size=(n, 3)) for n in (5, 17, 1, 40)]
    batches.append(rng.normal(-1.0, 0.5, size=(4, 6, 3)))  # 3-D: stats over dims 0 and 1
    for batch in batches:
        scaler(torch.tensor(batch, dtype=torch.float32), train=True)
    data = np.concatenate([b.reshape(-1, 3) for b in batches]).astype(np.float32).astype(np.float64)
    mean, var = expected_stats(data)
    np.testing.assert_allclose(scaler.running_mean.numpy(), mean, rtol=1e-10)
    np.testing.assert_allclose(scaler.running_variance.numpy(), var, rtol=1e-10)
    assert float(scaler.current_count) == data.shape[0] + 1


def test_scaler_standardize_inverse_and_clip() -> None:
    scaler = RunningStandardScaler(2, clip_threshold=3.0, device="cpu")
    scaler(torch.randn(1000, 2) * 4 + 10, train=True)
    x = scaler.running_mean.float() + torch.tensor([[0.5, -1.0]]) * scaler.running_variance.sqrt().float()
    y = scaler(x)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, torch.tensor([[0.5, -1.0]]), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(scaler(y, inverse=True), x, rtol=1e-5, atol=1e-4)
    far = scaler(torch.tensor([[1e6, -1e6]]))
    assert far.tolist() == [[3.0, -3.0]]
    assert scaler(torch.tensor([[10.0, 10.0]]), inverse=True).abs().max() < 1e3  # inverse clips its input


def test_scaler_no_train_does_not_update_and_grad_option() -> None:
    scaler = RunningStandardScaler(2, device="cpu")
    scaler(torch.randn(8, 2))
    assert float(scaler.current_count) == 1.0
    x = torch.randn(4, 2, requires_grad=True)
    assert not scaler(x).requires_grad
    assert scaler(x, no_grad=False).requires_grad


def test_scaler_state_dict_round_trip() -> None:
    scaler = RunningStandardScaler(3, device="cpu")
    scaler(torch.randn(50, 3) + 2, train=True)
    other = RunningStandardScaler(3, device="cpu")
    other.load_state_dict(scaler.state_dict())
    assert set(scaler.state_dict()) == {"running_mean", "running_variance", "current_count"}
    x = torch.randn(5, 3)
    assert torch.equal(other(x), scaler(x))


# KLAdaptiveLR


def make_optimizer(lr: float = 1e-3) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def test_kl_adaptive_rules() -> None:
    optimizer = make_optimizer(1e-3)
    scheduler = KLAdaptiveLR(optimizer, kl_threshold=0.01, kl_factor=2, lr_factor=2)
    assert scheduler.get_last_lr() == [1e-3]
    scheduler.step(0.03)  # > 0.02: decrease
    assert scheduler.get_last_lr() == pytest.approx([5e-4])
    scheduler.step(torch.tensor(0.001))  # < 0.005: increase (0-d tensor accepted)
    assert scheduler.get_last_lr() == pytest.approx([1e-3])
    scheduler.step(0.01)  # in the band: unchanged
    scheduler.step(None)
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([1e-3])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_kl_adaptive_bounds() -> None:
    optimizer = make_optimizer(1e-3)
    scheduler = KLAdaptiveRL(optimizer, min_lr=1e-4, max_lr=2e-3, lr_factor=10)
    assert KLAdaptiveRL is KLAdaptiveLR
    scheduler.step(1.0)
    scheduler.step(1.0)
    assert scheduler.get_last_lr() == pytest.approx([1e-4])
    scheduler.step(0.0)
    assert scheduler.get_last_lr() == pytest.approx([1e-3])
    scheduler.step(0.0)
    assert scheduler.get_last_lr() == pytest.approx([2e-3])


def test_kl_adaptive_is_lr_scheduler_and_multiple_groups() -> None:
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    optimizer = torch.optim.Adam([{"params": [params[0]], "lr": 1e-3}, {"params": [params[1]], "lr": 1e-4}])
    scheduler = KLAdaptiveLR(optimizer, verbose=False)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    scheduler.step(kl=1.0)
    assert scheduler.get_last_lr() == pytest.approx([1e-3 / 1.5, 1e-4 / 1.5])
    state = scheduler.state_dict()
    assert "kl_threshold" in state
