"""Model instantiators (skrl 1.3+ ``network``/``output`` format; pre-1.3 kwargs converted with a warning)."""

from steprl.utils.model_instantiators.common.legacy import Shape
from steprl.utils.model_instantiators.torch.shared import shared_model
from steprl.utils.model_instantiators.torch.single import (
    categorical_model,
    deterministic_model,
    gaussian_model,
    multicategorical_model,
    multivariate_gaussian_model,
)

__all__ = [
    "Shape",
    "categorical_model",
    "deterministic_model",
    "gaussian_model",
    "multicategorical_model",
    "multivariate_gaussian_model",
    "shared_model",
]
