"""JAX model instantiators (skrl 1.3+ ``network``/``output`` format; pre-1.3 kwargs converted with a warning)."""

from steprl.utils.model_instantiators.common.legacy import Shape
from steprl.utils.model_instantiators.jax.single import (
    categorical_model,
    deterministic_model,
    gaussian_model,
    multicategorical_model,
)

__all__ = ["Shape", "categorical_model", "deterministic_model", "gaussian_model", "multicategorical_model"]
