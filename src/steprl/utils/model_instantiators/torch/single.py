"""Single-mixin instantiators: gaussian, multivariate gaussian, deterministic, categorical, multi-categorical."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from steprl.core.distributions import check_reduction
from steprl.models.torch import Model
from steprl.utils.model_instantiators.common.legacy import LEGACY_KEYS, check_extra, resolve_network
from steprl.utils.model_instantiators.torch.expressions import parse_output
from steprl.utils.model_instantiators.torch.models import (
    CategoricalModel,
    DeterministicModel,
    GaussianModel,
    LogStd,
    MultiCategoricalModel,
    MultivariateGaussianModel,
    _SingleModel,
    render_single,
)
from steprl.utils.model_instantiators.torch.network import plan_network, token_units

__all__ = [
    "categorical_model",
    "deterministic_model",
    "gaussian_model",
    "multicategorical_model",
    "multivariate_gaussian_model",
]

Network = Sequence[Mapping[str, Any]]
Device = str | torch.device | None


def _instantiate(
    function: str,
    cls: type[_SingleModel],
    spaces: tuple[Any, Any, Device],
    mixin_kwargs: dict[str, Any],
    network: Network,
    output: Any,
    return_source: bool,
    extra: tuple[tuple[Any, ...], dict[str, Any]],
    log_std: tuple[float, bool] | None = None,
    legacy_activation: str | None = "tanh",
) -> Model | str:
    args, kwargs = extra
    check_extra(function, args, kwargs, LEGACY_KEYS)
    network, output = resolve_network(function, network, output, kwargs, legacy_activation, stacklevel=4)
    observation_space, action_space, device = spaces
    if "reduction" in mixin_kwargs:
        check_reduction(mixin_kwargs["reduction"])
    parsed = parse_output(output)
    units = None if parsed.token is None else token_units(parsed.token, observation_space, action_space)
    plan = plan_network(network, observation_space, action_space, units)
    std = None if log_std is None else LogStd(plan.features, float(log_std[0]), bool(log_std[1]))
    if return_source:
        return render_single(cls, plan, parsed, mixin_kwargs, std)
    return cls(observation_space, action_space, device, plan, parsed, mixin_kwargs, std)


def gaussian_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Device = None,
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
) -> Model | str:
    """Build a :class:`GaussianMixin` model (state-independent ``log_std_parameter``) or, with ``return_source``,
    the source of an equivalent class. Pre-1.3 kwargs (``hiddens``, ...) are converted with a ``DeprecationWarning``.
    """
    mixin = {
        "clip_actions": clip_actions,
        "clip_log_std": clip_log_std,
        "min_log_std": min_log_std,
        "max_log_std": max_log_std,
        "reduction": reduction,
    }
    return _instantiate(
        "gaussian_model",
        GaussianModel,
        (observation_space, action_space, device),
        mixin,
        network,
        output,
        return_source,
        (args, kwargs),
        (initial_log_std, fixed_log_std),
    )


def multivariate_gaussian_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Device = None,
    clip_actions: bool = False,
    clip_log_std: bool = True,
    min_log_std: float = -20,
    max_log_std: float = 2,
    initial_log_std: float = 0,
    fixed_log_std: bool = False,
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Model | str:
    """Build a :class:`MultivariateGaussianMixin` model (or its source); see :func:`gaussian_model`."""
    mixin = {
        "clip_actions": clip_actions,
        "clip_log_std": clip_log_std,
        "min_log_std": min_log_std,
        "max_log_std": max_log_std,
    }
    return _instantiate(
        "multivariate_gaussian_model",
        MultivariateGaussianModel,
        (observation_space, action_space, device),
        mixin,
        network,
        output,
        return_source,
        (args, kwargs),
        (initial_log_std, fixed_log_std),
    )


def deterministic_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Device = None,
    clip_actions: bool = False,
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Model | str:
    """Build a :class:`DeterministicMixin` model (policies, value and Q functions) or its source."""
    return _instantiate(
        "deterministic_model",
        DeterministicModel,
        (observation_space, action_space, device),
        {"clip_actions": clip_actions},
        network,
        output,
        return_source,
        (args, kwargs),
    )


def categorical_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Device = None,
    unnormalized_log_prob: bool = True,
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Model | str:
    """Build a :class:`CategoricalMixin` model (or its source); legacy ``output_activation`` defaults to none."""
    return _instantiate(
        "categorical_model",
        CategoricalModel,
        (observation_space, action_space, device),
        {"unnormalized_log_prob": unnormalized_log_prob},
        network,
        output,
        return_source,
        (args, kwargs),
        legacy_activation=None,
    )


def multicategorical_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Device = None,
    unnormalized_log_prob: bool = True,
    reduction: str = "sum",
    network: Network = (),
    output: str = "",
    return_source: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Model | str:
    """Build a :class:`MultiCategoricalMixin` model (or its source); legacy ``output_activation`` defaults to none."""
    mixin = {"unnormalized_log_prob": unnormalized_log_prob, "reduction": reduction}
    return _instantiate(
        "multicategorical_model",
        MultiCategoricalModel,
        (observation_space, action_space, device),
        mixin,
        network,
        output,
        return_source,
        (args, kwargs),
        legacy_activation=None,
    )
