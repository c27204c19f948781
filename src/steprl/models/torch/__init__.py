"""PyTorch models: the :class:`Model` base class and its mixins (declare mixins before ``Model``)."""

from steprl.models.torch.base import Model
from steprl.models.torch.categorical import CategoricalMixin
from steprl.models.torch.deterministic import DeterministicMixin
from steprl.models.torch.gaussian import GaussianMixin
from steprl.models.torch.multicategorical import MultiCategoricalMixin
from steprl.models.torch.multivariate_gaussian import MultivariateGaussianMixin
from steprl.models.torch.tabular import TabularMixin

__all__ = [
    "Model",
    "GaussianMixin",
    "MultivariateGaussianMixin",
    "CategoricalMixin",
    "MultiCategoricalMixin",
    "DeterministicMixin",
    "TabularMixin",
]
