"""Network definitions (``network=[{"name", "input", "layers", "activations"}, ...]``) → plans → ``nn.Sequential``.

A :class:`NetworkPlan` is plain data: layer sizes are resolved at planning time by running the layers on the
``meta`` device (no lazy modules, no random numbers consumed). The plan builds the ``<name>_container``
modules of a model, runs them in ``compute`` and renders the equivalent Python source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from steprl.utils.model_instantiators.common.network import (
    LINEAR_KEYS,
    activation_names,
    check_name,
    layer_kwargs,
    space_sizes,
    token_units,
    units,
)
from steprl.utils.model_instantiators.torch.expressions import INPUT_TOKENS, TORCH_OPS, Expr, parse_input
from steprl.utils.model_instantiators.torch.source import literal

__all__ = ["ACTIVATIONS", "ContainerPlan", "ModuleSpec", "NetworkPlan", "plan_network", "token_units", "units"]

#: layer activation name → (``torch.nn`` class name, constructor kwargs)
ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "elu": ("ELU", {}),
    "leaky_relu": ("LeakyReLU", {}),
    "relu": ("ReLU", {}),
    "selu": ("SELU", {}),
    "sigmoid": ("Sigmoid", {}),
    "softmax": ("Softmax", {"dim": -1}),
    "softplus": ("Softplus", {}),
    "softsign": ("Softsign", {}),
    "tanh": ("Tanh", {}),
}
_RESERVED = {"self", "inputs", "role", "output", "torch", "nn", "cached", *INPUT_TOKENS, *INPUT_TOKENS.values()}
_CONV_KEYS = {
    "out_channels": "out_channels",
    "features": "out_channels",
    "kernel_size": "kernel_size",
    "stride": "stride",
    "strides": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "groups": "groups",
    "bias": "bias",
    "use_bias": "bias",
    "padding_mode": "padding_mode",
}


@dataclass(frozen=True)
class ModuleSpec:
    """A ``torch.nn`` module as class name + keyword arguments (buildable and renderable)."""

    cls: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def build(self) -> nn.Module:
        return getattr(nn, self.cls)(**dict(self.kwargs))

    def source(self) -> str:
        return f"nn.{self.cls}({', '.join(f'{k}={literal(v)}' for k, v in self.kwargs)})"


@dataclass(frozen=True)
class ContainerPlan:
    """One network entry: its input expression and its modules (an ``nn.Sequential`` named ``<name>_container``)."""

    name: str
    input: Expr
    modules: tuple[ModuleSpec, ...]


def _check_given(kwargs: dict[str, Any], key: str, actual: int, sizes: Mapping[str, int]) -> None:
    if key in kwargs:
        given = kwargs.pop(key)
        if units(given, sizes) != actual:
            raise ValueError(f"Layer {key}={given!r} does not match the computed input size {actual}")


def _layer(layer: Any, shape: torch.Size, sizes: Mapping[str, int]) -> ModuleSpec:
    """Resolve one layer definition for an input of (batched) ``shape``."""
    if isinstance(layer, str):
        if layer.lower() != "flatten":
            raise ValueError(f"Unknown layer {layer!r}: string layers must be 'flatten'")
        layer = {"flatten": {}}
    elif isinstance(layer, (int, float)) and not isinstance(layer, bool):
        layer = {"linear": layer}
    if not isinstance(layer, Mapping) or len(layer) != 1:
        raise ValueError(
            f"Invalid layer {layer!r}: expected an int, 'flatten' or a one-key dict (linear/conv2d/flatten)"
        )
    kind, raw = next(iter(layer.items()))
    kind = str(kind).lower()
    if kind == "linear":
        kwargs = (
            {"out_features": raw}
            if isinstance(raw, (int, float, str))
            else layer_kwargs(raw, ["out_features", "bias"], LINEAR_KEYS, kind)
        )
        _check_given(kwargs, "in_features", shape[-1], sizes)
        if "out_features" not in kwargs:
            raise ValueError(f"'linear' layer {raw!r} needs out_features")
        kwargs["out_features"] = units(kwargs["out_features"], sizes)
        return ModuleSpec("Linear", (("in_features", int(shape[-1])), *kwargs.items()))
    if kind == "conv2d":
        if len(shape) != 4:
            raise ValueError(f"'conv2d' needs (N, C, H, W) inputs, got a tensor of shape {tuple(shape)}")
        kwargs = layer_kwargs(raw, ["out_channels", "kernel_size", "stride", "padding", "bias"], _CONV_KEYS, kind)
        _check_given(kwargs, "in_channels", shape[1], sizes)
        if "out_channels" not in kwargs or "kernel_size" not in kwargs:
            raise ValueError(f"'conv2d' layer {raw!r} needs out_channels and kernel_size")
        kwargs["out_channels"] = units(kwargs["out_channels"], sizes)
        kwargs = {k: v.lower() if isinstance(v, str) and k == "padding" else v for k, v in kwargs.items()}
        return ModuleSpec("Conv2d", (("in_channels", int(shape[1])), *kwargs.items()))
    if kind == "flatten":
        kwargs = layer_kwargs(
            raw or {}, ["start_dim", "end_dim"], {"start_dim": "start_dim", "end_dim": "end_dim"}, kind
        )
        return ModuleSpec("Flatten", tuple(kwargs.items()))
    raise ValueError(f"Unknown layer type {kind!r}: expected linear, conv2d or flatten")


@dataclass(frozen=True)
class NetworkPlan:
    """Resolved network: containers, the image shape ``states`` are reshaped to (or ``None``) and the output width."""

    containers: tuple[ContainerPlan, ...]
    state_shape: tuple[int, ...] | None
    features: int

    @property
    def variables(self) -> set[str]:
        return set().union(*(c.input.names() for c in self.containers)) & set(INPUT_TOKENS.values())

    @property
    def output_name(self) -> str:
        return self.containers[-1].name

    def build(self, model: nn.Module) -> None:
        """Register ``<name>_container`` modules on ``model``."""
        for container in self.containers:
            setattr(model, f"{container.name}_container", nn.Sequential(*(m.build() for m in container.modules)))

    def _env(self, inputs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        used, env = self.variables, {}
        if "states" in used:
            states = inputs["states"].float()
            env["states"] = states if self.state_shape is None else states.reshape(-1, *self.state_shape)
        if used & {"taken_actions", "states_actions"}:
            env["taken_actions"] = inputs["taken_actions"].float()
        if "states_actions" in used:
            env["states_actions"] = torch.cat([inputs["states"].float(), env["taken_actions"]], dim=1)
        return env

    def forward(self, model: nn.Module, inputs: Mapping[str, Any]) -> torch.Tensor:
        """Run the containers of ``model`` on ``inputs``; return the last entry's output."""
        env = self._env(inputs)
        for container in self.containers:
            env[container.name] = getattr(model, f"{container.name}_container")(
                container.input.evaluate(env, TORCH_OPS)
            )
        return env[self.output_name]

    def source_init(self) -> list[str]:
        """``self.<name>_container = nn.Sequential(...)`` lines (unindented)."""
        lines: list[str] = []
        for container in self.containers:
            lines.append(f"self.{container.name}_container = nn.Sequential(")
            lines += [f"    {module.source()}," for module in container.modules]
            lines.append(")")
        return lines

    def source_forward(self) -> list[str]:
        """``compute`` lines computing every entry; the last assigns :attr:`output_name`."""
        used = self.variables
        lines: list[str] = []
        if "states" in used:
            reshape = "" if self.state_shape is None else f".reshape(-1, {', '.join(map(str, self.state_shape))})"
            lines.append(f'states = inputs["states"].float(){reshape}')
        if used & {"taken_actions", "states_actions"}:
            lines.append('taken_actions = inputs["taken_actions"].float()')
        if "states_actions" in used:
            lines.append('states_actions = torch.cat([inputs["states"].float(), taken_actions], dim=1)')
        for container in self.containers:
            lines.append(f"{container.name} = self.{container.name}_container({container.input.source(TORCH_OPS)})")
        return lines


def plan_network(
    network: Sequence[Mapping[str, Any]],
    observation_space: Any,
    action_space: Any,
    output_units: int | None = None,
) -> NetworkPlan:
    """Resolve ``network``; ``output_units`` appends an output ``Linear`` to the last entry."""
    if isinstance(network, Mapping) or not isinstance(network, Sequence) or not network:
        raise ValueError("network must be a non-empty list of {'name', 'input', 'layers', 'activations'} dicts")
    sizes, shapes = space_sizes(observation_space, action_space)
    containers: list[ContainerPlan] = []
    with torch.device("meta"):
        env = {k: torch.empty(2, *shape) for k, shape in shapes.items()}
        for index, entry in enumerate(network):
            unknown = sorted(set(entry) - {"name", "input", "layers", "activations"})
            if unknown:
                raise ValueError(f"Unknown network entry keys {unknown}: expected name, input, layers, activations")
            name = check_name(entry.get("name"), {c.name for c in containers}, _RESERVED)
            expr = parse_input(entry.get("input", "STATES"), {c.name for c in containers})
            missing = expr.names() - set(env)
            if missing:
                raise ValueError(f"Network {name!r} uses {sorted(missing)} but the matching space is None")
            x = expr.evaluate(env, TORCH_OPS)
            layers = list(entry.get("layers", []))
            modules: list[ModuleSpec] = []
            for layer, activation in zip(layers, activation_names(entry.get("activations"), len(layers), name)):
                spec = _layer(layer, x.shape, sizes)
                modules.append(spec)
                x = spec.build()(x)
                if activation is not None and spec.cls != "Flatten":
                    cls, kwargs = ACTIVATIONS[activation]
                    modules.append(ModuleSpec(cls, tuple(kwargs.items())))
            if output_units is not None and index == len(network) - 1:
                modules.append(
                    ModuleSpec("Linear", (("in_features", int(x.shape[-1])), ("out_features", output_units)))
                )
                x = modules[-1].build()(x)
            env[name] = x
            containers.append(ContainerPlan(name, expr, tuple(modules)))
    state_shape = shapes["states"] if shapes.get("states", (0,)) != shapes.get("states_flat") else None
    return NetworkPlan(tuple(containers), state_shape, int(x.shape[-1]))
