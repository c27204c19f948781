"""Exploration noises: shapes, devices, statistics, the Ornstein-Uhlenbeck recursion and its resets."""

from __future__ import annotations

import pytest
import torch

from steprl.resources.noises.torch import GaussianNoise, Noise, OrnsteinUhlenbeckNoise


def test_base_noise_is_abstract_and_sample_like_uses_the_shape():
    with pytest.raises(NotImplementedError):
        Noise(device="cpu").sample((2,))

    class Ones(Noise):
        def sample(self, size):
            return torch.ones(size, device=self.device)

    noise = Ones(device="cpu")
    assert noise.device == torch.device("cpu")
    assert noise.sample_like(torch.zeros(3, 2)).shape == (3, 2)
    noise.reset()  # stateless noises accept reset()


def test_gaussian_statistics_shapes_and_device():
    noise = GaussianNoise(mean=0.5, std=2.0, device="cpu")
    samples = noise.sample((200_000,))
    assert samples.dtype == torch.float32 and samples.device == torch.device("cpu")
    assert samples.mean().item() == pytest.approx(0.5, abs=0.02)
    assert samples.std().item() == pytest.approx(2.0, rel=0.01)
    assert noise.sample(5).shape == (5,)
    assert noise.sample([4, 3]).shape == (4, 3)
    assert noise.sample(torch.Size([2, 1])).shape == (2, 1)
    assert noise.sample_like(torch.zeros(7, 2)).shape == (7, 2)
    assert noise.distribution.mean.item() == 0.5  # skrl's attribute
    with pytest.raises(ValueError, match="std must be > 0"):
        GaussianNoise(0.0, 0.0)
    with pytest.raises(TypeError, match="size must be"):
        noise.sample("x")


def test_gaussian_uses_the_torch_generator():
    noise = GaussianNoise(mean=0.0, std=1.0, device="cpu")
    torch.manual_seed(3)
    a = noise.sample((4,))
    torch.manual_seed(3)
    assert torch.equal(a, noise.sample((4,)))


def test_ornstein_uhlenbeck_recursion_matches_a_hand_computation():
    theta, sigma, base, mean, std = 0.15, 0.2, 0.5, 0.1, 0.8
    noise = OrnsteinUhlenbeckNoise(theta=theta, sigma=sigma, base_scale=base, mean=mean, std=std, device="cpu")
    torch.manual_seed(7)
    outputs = [noise.sample((3, 2)) for _ in range(4)]
    torch.manual_seed(7)
    state = torch.zeros(3, 2)
    for out in outputs:
        state = state + (-theta * state + sigma * (torch.randn(3, 2) * std + mean))
        torch.testing.assert_close(out, base * state)
    torch.testing.assert_close(noise.state, state)


def test_ornstein_uhlenbeck_state_resets_when_the_shape_changes():
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=1.0, base_scale=1.0, device="cpu")
    assert noise.state.shape == ()  # scalar 0 initially
    for _ in range(5):
        noise.sample((4, 1))
    torch.manual_seed(1)
    fresh = noise.sample((2, 1))  # new shape: starts from 0 again, so one step = sigma * N
    torch.manual_seed(1)
    torch.testing.assert_close(fresh, torch.randn(2, 1))


def test_ornstein_uhlenbeck_is_correlated_and_stationary():
    theta, sigma = 0.15, 0.3
    noise = OrnsteinUhlenbeckNoise(theta=theta, sigma=sigma, base_scale=1.0, device="cpu")
    series = torch.stack([noise.sample((2000,)) for _ in range(300)])[100:]  # [T, 2000] after burn-in
    stationary_var = sigma**2 / (1 - (1 - theta) ** 2)
    assert series.var().item() == pytest.approx(stationary_var, rel=0.05)
    lag1 = (series[1:] * series[:-1]).mean() / series.var()
    assert lag1.item() == pytest.approx(1 - theta, abs=0.02)


def test_ornstein_uhlenbeck_masked_reset():
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=1.0, base_scale=1.0, device="cpu")
    noise.sample((3, 2))
    before = noise.state.clone()
    noise.reset(torch.tensor([[True], [False], [True]]))
    assert torch.equal(noise.state[0], torch.zeros(2)) and torch.equal(noise.state[2], torch.zeros(2))
    assert torch.equal(noise.state[1], before[1])
    noise.reset()
    assert torch.equal(noise.state, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="rows"):
        noise.reset(torch.tensor([True, False]))


def test_sampling_does_not_sync(request):
    gaussian = GaussianNoise(0.0, 0.1, device="cpu")
    ou = OrnsteinUhlenbeckNoise(0.15, 0.2, 1.0, device="cpu")
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(3):
        gaussian.sample((4, 1))
        ou.sample((4, 1))
        ou.reset(torch.tensor([True, False, False, True]))
