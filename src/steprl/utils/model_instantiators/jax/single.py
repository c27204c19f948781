"""JAX instantiators: gaussian, deterministic, categorical and multi-categorical flax models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.utils.model_instantiators.jax.models import instantiate

__all__ = ["categorical_model", "deterministic_model", "gaussian_model", "multicategorical_model"]

Network = Sequence[Mapping[str, Any]]


def gaussian_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    clip_actions: bool = False,
    clip_log_std: bool = True,
    min_log_std: float = -20,
    max_log_std: float = 2,
    reduction: str = "sum",
    initial_log_std: float = 0,
    fixed_log_std: bool = False,
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Build a :class:`GaussianMixin` flax model (state-independent ``log_std_parameter``) or its source.

    Call ``init_state_dict(role)`` on the model before use. Pre-1.3 kwargs are converted with a warning.
    """
    mixin = {
        "clip_actions": clip_actions,
        "clip_log_std": clip_log_std,
        "min_log_std": min_log_std,
        "max_log_std": max_log_std,
        "reduction": reduction,
    }
    spaces = (observation_space, action_space, device)
    log_std = (initial_log_std, fixed_log_std)
    return instantiate(
        "gaussian_model", "GaussianMixin", spaces, mixin, network, output, return_source, (args, kwargs), log_std
    )


def deterministic_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    clip_actions: bool = False,
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Build a :class:`DeterministicMixin` flax model (policies, value and Q functions) or its source."""
    spaces = (observation_space, action_space, device)
    mixin = {"clip_actions": clip_actions}
    return instantiate(
        "deterministic_model", "DeterministicMixin", spaces, mixin, network, output, return_source, (args, kwargs)
    )


def categorical_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    unnormalized_log_prob: bool = True,
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Build a :class:`CategoricalMixin` flax model (or its source); legacy ``output_activation`` defaults to none."""
    spaces = (observation_space, action_space, device)
    mixin = {"unnormalized_log_prob": unnormalized_log_prob}
    return instantiate(
        "categorical_model",
        "CategoricalMixin",
        spaces,
        mixin,
        network,
        output,
        return_source,
        (args, kwargs),
        legacy_activation=None,
    )


def multicategorical_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    unnormalized_log_prob: bool = True,
    reduction: str = "sum",
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Build a :class:`MultiCategoricalMixin` flax model (or its source)."""
    spaces = (observation_space, action_space, device)
    mixin = {"unnormalized_log_prob": unnormalized_log_prob, "reduction": reduction}
    return instantiate(
        "multicategorical_model",
        "MultiCategoricalMixin",
        spaces,
        mixin,
        network,
        output,
        return_source,
        (args, kwargs),
        legacy_activation=None,
    )
