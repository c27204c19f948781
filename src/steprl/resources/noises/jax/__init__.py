"""JAX exploration noises: ``Noise`` (base), ``GaussianNoise`` and ``OrnsteinUhlenbeckNoise``."""

from steprl.resources.noises.jax.base import Noise
from steprl.resources.noises.jax.gaussian import GaussianNoise
from steprl.resources.noises.jax.ornstein_uhlenbeck import OrnsteinUhlenbeckNoise

__all__ = ["GaussianNoise", "Noise", "OrnsteinUhlenbeckNoise"]
