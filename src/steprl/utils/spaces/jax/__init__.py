"""Gymnasium space helpers for JAX or NumPy arrays (skrl 1.x ``skrl.utils.spaces.jax`` names)."""

from steprl.utils.spaces.jax.spaces import (
    compute_space_size,
    convert_gym_space,
    flatten_tensorized_space,
    sample_space,
    tensorize_space,
    unflatten_tensorized_space,
    untensorize_space,
)

__all__ = [
    "compute_space_size",
    "convert_gym_space",
    "flatten_tensorized_space",
    "sample_space",
    "tensorize_space",
    "unflatten_tensorized_space",
    "untensorize_space",
]
