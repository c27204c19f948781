"""Model classes built by the single-mixin instantiators, and their source rendering."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from steprl.models.torch import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
)
from steprl.utils.model_instantiators.torch.expressions import TORCH_OPS, OutputSpec
from steprl.utils.model_instantiators.torch.network import NetworkPlan
from steprl.utils.model_instantiators.torch.source import mixin_init, render_class

__all__ = [
    "MIXINS",
    "CategoricalModel",
    "DeterministicModel",
    "GaussianModel",
    "LogStd",
    "MixinInfo",
    "MultiCategoricalModel",
    "MultivariateGaussianModel",
    "log_std_source",
    "render_single",
]

_GAUSSIAN_KWARGS = {"clip_actions": False, "clip_log_std": True, "min_log_std": -20, "max_log_std": 2}


@dataclass(frozen=True)
class MixinInfo:
    """A mixin class, its ``__init__`` keyword defaults and whether it needs a log-std parameter."""

    cls: type
    defaults: Mapping[str, Any]
    log_std: bool = False


MIXINS: dict[str, MixinInfo] = {
    "GaussianMixin": MixinInfo(GaussianMixin, {**_GAUSSIAN_KWARGS, "reduction": "sum"}, True),
    "MultivariateGaussianMixin": MixinInfo(MultivariateGaussianMixin, dict(_GAUSSIAN_KWARGS), True),
    "DeterministicMixin": MixinInfo(DeterministicMixin, {"clip_actions": False}),
    "CategoricalMixin": MixinInfo(CategoricalMixin, {"unnormalized_log_prob": True}),
    "MultiCategoricalMixin": MixinInfo(MultiCategoricalMixin, {"unnormalized_log_prob": True, "reduction": "sum"}),
}


@dataclass(frozen=True)
class LogStd:
    """State-independent log standard deviation ``nn.Parameter(full((size,), initial))``."""

    size: int
    initial: float = 0.0
    fixed: bool = False

    def build(self) -> nn.Parameter:
        return nn.Parameter(torch.full((self.size,), float(self.initial)), requires_grad=not self.fixed)


def log_std_source(attribute: str, log_std: LogStd) -> str:
    """``self.<attribute> = nn.Parameter(...)`` source line."""
    return (
        f"self.{attribute} = nn.Parameter(torch.full(({log_std.size},), {float(log_std.initial)!r}), "
        f"requires_grad={not log_std.fixed})"
    )


class _SingleModel(Model):
    """Containers of a :class:`NetworkPlan` (output layer embedded in the last one), then the output activation/scale."""

    mixin: ClassVar[str]

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        plan: NetworkPlan,
        output: OutputSpec,
        mixin_kwargs: Mapping[str, Any],
        log_std: LogStd | None = None,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        MIXINS[self.mixin].cls.__init__(self, **mixin_kwargs)
        self._plan = plan
        self._output = output
        plan.build(self)
        self._has_log_std = log_std is not None
        if log_std is not None:
            self.log_std_parameter = log_std.build()
        self.to(self.device)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[Any, ...]:
        output = self._output.apply(self._plan.forward(self, inputs), TORCH_OPS)
        if self._has_log_std:
            return output, self.log_std_parameter, {}
        return output, {}


class GaussianModel(GaussianMixin, _SingleModel):
    """Model built by :func:`gaussian_model`."""

    mixin = "GaussianMixin"
    __init__ = _SingleModel.__init__  # the mixin comes first in the MRO


class MultivariateGaussianModel(MultivariateGaussianMixin, _SingleModel):
    """Model built by :func:`multivariate_gaussian_model`."""

    mixin = "MultivariateGaussianMixin"
    __init__ = _SingleModel.__init__  # the mixin comes first in the MRO


class DeterministicModel(DeterministicMixin, _SingleModel):
    """Model built by :func:`deterministic_model`."""

    mixin = "DeterministicMixin"
    __init__ = _SingleModel.__init__  # the mixin comes first in the MRO


class CategoricalModel(CategoricalMixin, _SingleModel):
    """Model built by :func:`categorical_model`."""

    mixin = "CategoricalMixin"
    __init__ = _SingleModel.__init__  # the mixin comes first in the MRO


class MultiCategoricalModel(MultiCategoricalMixin, _SingleModel):
    """Model built by :func:`multicategorical_model`."""

    mixin = "MultiCategoricalMixin"
    __init__ = _SingleModel.__init__  # the mixin comes first in the MRO


def render_single(
    cls: type[_SingleModel],
    plan: NetworkPlan,
    output: OutputSpec,
    mixin_kwargs: Mapping[str, Any],
    log_std: LogStd | None,
) -> str:
    """Source of a class equivalent to ``cls(..., plan, output, mixin_kwargs, log_std)``."""
    init = [mixin_init(cls.mixin, mixin_kwargs), "", *plan.source_init()]
    if log_std is not None:
        init.append(log_std_source("log_std_parameter", log_std))
    result = output.source(plan.output_name, TORCH_OPS)
    returned = f"{result}, self.log_std_parameter, {{}}" if log_std is not None else f"{result}, {{}}"
    compute = ['def compute(self, inputs, role=""):', *[f"    {line}" for line in plan.source_forward()]]
    compute.append(f"    return {returned}")
    return render_class(cls.__name__, [cls.mixin], init, [compute])
