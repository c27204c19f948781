"""``shared_model``: one module with a shared trunk and one output head per role.

The trunk is the FIRST role's ``network`` (the other roles' ``network`` entries are ignored); each role's
``output`` adds a ``<role>_layer`` head (plus activation/scale) on the trunk output. ``act``/``compute`` (and
``get_entropy``/``get_log_std``/``distribution``) dispatch to the role's mixin; ``role=""`` means the first role.

Caching (``single_forward_pass=True``): a first-role ``compute`` stores its trunk output; the next ``compute``
of another role reuses it — once — only when it receives the very same ``inputs["states"]`` tensor object
(and the same ``taken_actions`` object if the trunk reads actions) under the same grad mode; otherwise the
trunk runs again. Parameters updated between the two calls on the same tensor object are not detected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from steprl.core.distributions import check_reduction
from steprl.models.torch import Model
from steprl.utils.model_instantiators.common.legacy import LEGACY_KEYS, check_extra, resolve_network
from steprl.utils.model_instantiators.torch.expressions import TORCH_OPS, OutputSpec, parse_output
from steprl.utils.model_instantiators.torch.models import MIXINS, LogStd, log_std_source
from steprl.utils.model_instantiators.torch.network import NetworkPlan, plan_network, token_units
from steprl.utils.model_instantiators.torch.source import literal, mixin_init, render_class

__all__ = ["RoleSpec", "SharedModelBase", "shared_model"]

_DISPATCHED = ("get_entropy", "get_log_std", "distribution")


@dataclass(frozen=True)
class RoleSpec:
    """One role: its mixin and settings, output head width (``None``: no head) and log-std parameter."""

    role: str
    mixin: str
    mixin_kwargs: tuple[tuple[str, Any], ...]
    output: OutputSpec
    units: int | None
    log_std: LogStd | None
    log_std_name: str


class SharedModelBase(Model):
    """Trunk + per-role heads; the generated subclasses put the role mixins first."""

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        plan: NetworkPlan,
        roles: Sequence[RoleSpec],
        single_forward_pass: bool = True,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        for spec in roles:
            MIXINS[spec.mixin].cls.__init__(self, **dict(spec.mixin_kwargs))
        self._plan = plan
        self._roles = tuple(roles)
        self._single_forward_pass = bool(single_forward_pass)
        self._uses_actions = bool(plan.variables & {"taken_actions", "states_actions"})
        plan.build(self)
        for spec in roles:
            if spec.units is not None:
                setattr(self, f"{spec.role}_layer", nn.Linear(plan.features, spec.units))
            if spec.log_std is not None:
                setattr(self, spec.log_std_name, spec.log_std.build())
        self._shared_output: tuple[Any, Any, bool, torch.Tensor] | None = None
        self.to(self.device)

    def __getstate__(self) -> dict[str, Any]:
        """Drop the trunk-output cache (it may hold a graph) when copying or pickling."""
        state = dict(super().__getstate__())
        state["_shared_output"] = None
        return state

    def _role_index(self, role: str) -> int:
        if role == "":
            return 0
        for index, spec in enumerate(self._roles):
            if spec.role == role:
                return index
        raise ValueError(f"Unknown role {role!r}: expected one of {[s.role for s in self._roles]}")

    def _features(self, inputs: Mapping[str, Any], index: int) -> torch.Tensor:
        if not self._single_forward_pass:
            return self._plan.forward(self, inputs)
        actions = inputs.get("taken_actions") if self._uses_actions else None
        if index == 0:
            features = self._plan.forward(self, inputs)
            self._shared_output = (inputs.get("states"), actions, torch.is_grad_enabled(), features)
            return features
        cached, self._shared_output = self._shared_output, None
        if (
            cached is not None
            and cached[0] is inputs.get("states")
            and cached[1] is actions
            and cached[2] == torch.is_grad_enabled()
        ):
            return cached[3]
        return self._plan.forward(self, inputs)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[Any, ...]:
        index = self._role_index(role)
        spec = self._roles[index]
        features = self._features(inputs, index)
        if spec.units is not None:
            features = getattr(self, f"{spec.role}_layer")(features)
        output = spec.output.apply(features, TORCH_OPS)
        if spec.log_std is not None:
            return output, getattr(self, spec.log_std_name), {}
        return output, {}


def _act(self: SharedModelBase, inputs: Mapping[str, Any], role: str = "") -> Any:
    """Dispatch to the role's mixin ``act``."""
    return MIXINS[self._roles[self._role_index(role)].mixin].cls.act(self, inputs, role)


def _dispatcher(name: str) -> Any:
    def method(self: SharedModelBase, role: str = "") -> Any:
        mixin = self._roles[self._role_index(role)].mixin
        implementation = getattr(MIXINS[mixin].cls, name, None)
        if implementation is None:
            raise AttributeError(f"Role {role!r} ({mixin}) has no {name}()")
        return implementation(self, role)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of the role's mixin."
    return method


def _shared_class(structure: tuple[str, ...]) -> type[SharedModelBase]:
    """The (cached, picklable) class inheriting ``structure``'s mixins, then :class:`SharedModelBase`."""
    name = "Shared" + "".join(m.removesuffix("Mixin") for m in structure) + "Model"
    cls = globals().get(name)
    if cls is None:
        namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name, "act": _act}
        namespace["__init__"] = SharedModelBase.__init__  # the mixins come first in the MRO
        namespace.update({method: _dispatcher(method) for method in _DISPATCHED})
        namespace["__doc__"] = f"Shared model with roles on {', '.join(structure)}."
        cls = type(name, (*(MIXINS[m].cls for m in structure), SharedModelBase), namespace)
        globals()[name] = cls
    return cls


def _mixin_name(name: Any) -> str:
    for key in MIXINS:
        if isinstance(name, str) and name.lower() == key.lower():
            return key
    raise ValueError(f"Unknown structure entry {name!r}: expected one of {', '.join(MIXINS)}")


def _check_parameters(role: Any, mixin: str, parameters: Any) -> None:
    if not isinstance(role, str) or not role.isidentifier():
        raise ValueError(f"Roles must be identifiers, got {role!r}")
    if not isinstance(parameters, Mapping):
        raise TypeError(f"shared_model parameters of role {role!r} must be a dict, got {parameters!r}")
    info = MIXINS[mixin]
    log_keys = ("initial_log_std", "fixed_log_std") if info.log_std else ()
    allowed = [*info.defaults, *log_keys, "network", "output", *LEGACY_KEYS]
    check_extra(f"shared_model role {role!r}", (), parameters, allowed)
    if "reduction" in parameters:
        check_reduction(parameters["reduction"])


def _role_spec(
    role: str, mixin: str, parameters: Mapping[str, Any], output: Any, plan: NetworkPlan, spaces: tuple[Any, Any]
) -> RoleSpec:
    info = MIXINS[mixin]
    mixin_kwargs = {k: parameters.get(k, v) for k, v in info.defaults.items()}
    parsed = parse_output(output)
    units = None if parsed.token is None else token_units(parsed.token, *spaces)
    log_std = None
    if info.log_std:
        initial, fixed = float(parameters.get("initial_log_std", 0)), bool(parameters.get("fixed_log_std", False))
        log_std = LogStd(plan.features if units is None else units, initial, fixed)
    return RoleSpec(role, mixin, tuple(mixin_kwargs.items()), parsed, units, log_std, "log_std_parameter")


def _render(structure: Sequence[str], plan: NetworkPlan, roles: Sequence[RoleSpec], single_forward_pass: bool) -> str:
    init = [mixin_init(s.mixin, dict(s.mixin_kwargs)) for s in roles] + ["", *plan.source_init()]
    for spec in roles:
        if spec.units is not None:
            init.append(f"self.{spec.role}_layer = nn.Linear(in_features={plan.features}, out_features={spec.units})")
        if spec.log_std is not None:
            init.append(log_std_source(spec.log_std_name, spec.log_std))
    init.append("self._shared_output = None")
    names = [s.role for s in roles]
    conditions = [f'role in ("", {literal(names[0])})'] + [f"role == {literal(r)}" for r in names[1:]]
    unknown = f'raise ValueError(f"Unknown role {{role!r}}: expected one of {names}")'
    act = ['def act(self, inputs, role=""):']
    for condition, spec in zip(conditions, roles):
        act += [f"    if {condition}:", f"        return {spec.mixin}.act(self, inputs, role)"]
    methods = [act + [f"    {unknown}"]]
    for name in _DISPATCHED:
        owners = [s for s in roles if hasattr(MIXINS[s.mixin].cls, name)]
        if len(owners) > 1:
            method = [f'def {name}(self, role=""):']
            for condition, spec in zip(conditions, roles):
                if spec in owners:
                    method += [f"    if {condition}:", f"        return {spec.mixin}.{name}(self, role)"]
            methods.append(method + [f"    {unknown}"])
    methods.append(
        [
            "def _trunk(self, inputs):",
            *[f"    {line}" for line in plan.source_forward()],
            f"    return {plan.output_name}",
        ]
    )
    actions = ', inputs.get("taken_actions")' if plan.variables & {"taken_actions", "states_actions"} else ", None"
    compute = ['def compute(self, inputs, role=""):']
    for index, (condition, spec) in enumerate(zip(conditions, roles)):
        compute.append(f"    if {condition}:")
        if not single_forward_pass:
            compute.append("        features = self._trunk(inputs)")
        elif index == 0:
            compute += [
                "        features = self._trunk(inputs)",
                f'        self._shared_output = (inputs.get("states"){actions}, torch.is_grad_enabled(), features)',
            ]
        else:
            compute += [
                "        cached, self._shared_output = self._shared_output, None",
                f'        key = (inputs.get("states"){actions}, torch.is_grad_enabled())',
                "        if cached is not None and cached[0] is key[0] and cached[1] is key[1] and cached[2] == key[2]:",
                "            features = cached[3]",
                "        else:",
                "            features = self._trunk(inputs)",
            ]
        head = f"self.{spec.role}_layer(features)" if spec.units is not None else "features"
        returned = spec.output.source(head, TORCH_OPS) + (
            f", self.{spec.log_std_name}" if spec.log_std is not None else ""
        )
        compute.append(f"        return {returned}, {{}}")
    methods.append(compute + [f"    {unknown}"])
    return render_class("SharedModel", list(structure), init, methods)


def shared_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: str | torch.device | None = None,
    structure: Sequence[str] = ("GaussianMixin", "DeterministicMixin"),
    roles: Sequence[str] = (),
    parameters: Sequence[Mapping[str, Any]] = (),
    single_forward_pass: bool = True,
    return_source: bool = False,
) -> Model | str:
    """Build a model whose roles (e.g. ``["policy", "value"]``) share the first role's ``network`` trunk.

    ``structure[i]`` is role ``roles[i]``'s mixin (each mixin at most once) and ``parameters[i]`` its
    instantiator kwargs (mixin settings, ``initial_log_std``/``fixed_log_std``, ``network``, ``output``).
    """
    structure = tuple(_mixin_name(m) for m in ([structure] if isinstance(structure, str) else structure))
    if not (len(structure) == len(roles) == len(parameters)) or not structure:
        raise ValueError(
            f"structure ({len(structure)}), roles ({len(roles)}) and parameters ({len(parameters)}) "
            "must be non-empty and of equal length"
        )
    if len(set(structure)) != len(structure) or len(set(roles)) != len(roles):
        raise ValueError(f"Each mixin and each role may appear only once, got {list(structure)} / {list(roles)}")
    for role, mixin, parameter in zip(roles, structure, parameters):
        _check_parameters(role, mixin, parameter)
    resolved = []
    for mixin, parameter in zip(structure, parameters):
        activation = None if "Categorical" in mixin else "tanh"
        network = parameter.get("network", ())
        resolved.append(resolve_network("shared_model", network, parameter.get("output", ""), parameter, activation))
    plan = plan_network(resolved[0][0], observation_space, action_space)
    specs: list[RoleSpec] = []
    for role, mixin, parameter, (_, output) in zip(roles, structure, parameters, resolved):
        spec = _role_spec(role, mixin, parameter, output, plan, (observation_space, action_space))
        if spec.log_std is not None and any(s.log_std is not None for s in specs):
            spec = dataclasses.replace(spec, log_std_name=f"{role}_log_std_parameter")
        specs.append(spec)
    if return_source:
        return _render(structure, plan, specs, single_forward_pass)
    cls = _shared_class(structure)
    return cls(observation_space, action_space, device, plan, specs, single_forward_pass)
