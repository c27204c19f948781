"""JAX preprocessors."""

from steprl.resources.preprocessors.jax.running_standard_scaler import RunningStandardScaler

__all__ = ["RunningStandardScaler"]
