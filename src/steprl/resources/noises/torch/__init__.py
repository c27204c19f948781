"""PyTorch exploration noises: ``Noise`` (base), ``GaussianNoise`` and ``OrnsteinUhlenbeckNoise``."""

from steprl.resources.noises.torch.base import Noise
from steprl.resources.noises.torch.gaussian import GaussianNoise
from steprl.resources.noises.torch.ornstein_uhlenbeck import OrnsteinUhlenbeckNoise

__all__ = ["GaussianNoise", "Noise", "OrnsteinUhlenbeckNoise"]
