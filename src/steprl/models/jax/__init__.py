"""JAX models: ``Model`` (a ``flax.linen.Module``) and the policy/value mixins."""

from steprl.models.jax.base import Model
from steprl.models.jax.categorical import CategoricalMixin
from steprl.models.jax.deterministic import DeterministicMixin
from steprl.models.jax.gaussian import GaussianMixin
from steprl.models.jax.multicategorical import MultiCategoricalMixin

__all__ = ["CategoricalMixin", "DeterministicMixin", "GaussianMixin", "Model", "MultiCategoricalMixin"]
