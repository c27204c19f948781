"""steprl.resources.noises.jax: seeded by set_seed, the right statistics, the OU recurrence and masked resets."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from steprl.resources.noises.jax import GaussianNoise, Noise, OrnsteinUhlenbeckNoise
from steprl.utils import set_seed


def test_gaussian_statistics_and_reproducibility() -> None:
    set_seed(3)
    noise = GaussianNoise(mean=1.0, std=0.5)
    samples = noise.sample((20000,))
    assert isinstance(samples, jax.Array) and samples.shape == (20000,)
    assert abs(float(samples.mean()) - 1.0) < 0.02 and abs(float(samples.std()) - 0.5) < 0.02
    assert not np.array_equal(np.asarray(noise.sample(4)), np.asarray(noise.sample(4)))  # a fresh key per sample
    set_seed(3)
    again = GaussianNoise(mean=1.0, std=0.5)
    assert np.array_equal(np.asarray(again.sample((20000,))), np.asarray(samples))
    assert noise.sample_like(np.zeros((2, 3))).shape == (2, 3)


def test_ornstein_uhlenbeck_recurrence_and_reset() -> None:
    set_seed(0)
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, base_scale=2.0)
    first = np.asarray(noise.sample((3, 2)))
    state = first / 2.0
    second = np.asarray(noise.sample((3, 2)))
    innovation = (second / 2.0 - state * (1 - 0.15)) / 0.2  # the standard normal draw of the step
    assert np.all(np.abs(innovation) < 6) and not np.allclose(innovation, 0)
    noise.reset(np.array([True, False, False]))
    kept = np.asarray(noise.state)
    assert np.all(kept[0] == 0) and np.allclose(kept[1:], second[1:] / 2.0)
    with pytest.raises(ValueError, match="rows"):
        noise.reset(np.array([True]))
    noise.reset()
    assert not np.asarray(noise.state).any()
    noise.sample(5)
    assert noise.state.shape == (5,)  # a new shape restarts from zeros


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="std must be > 0"):
        GaussianNoise(0.0, 0.0)
    with pytest.raises(ValueError, match="std must be > 0"):
        OrnsteinUhlenbeckNoise(0.1, 0.1, 1.0, std=-1)
    with pytest.raises(NotImplementedError):
        Noise().sample(1)
    with pytest.raises(TypeError, match="size"):
        GaussianNoise(0.0, 1.0).sample("x")
