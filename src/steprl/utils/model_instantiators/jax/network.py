"""The JAX instantiators' network: a validated plan rendered as the body of a flax ``@nn.compact __call__``.

Layers: an int or size token (``Dense``), ``"flatten"``, ``{"linear": ...}`` or ``{"flatten": {}}``. Shapes are
inferred by flax when the model is initialised. Convolutions are only available in the torch instantiators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.utils.model_instantiators.common.expressions import INPUT_TOKENS, OutputSpec, parse_input
from steprl.utils.model_instantiators.common.network import (
    LINEAR_KEYS,
    activation_names,
    check_name,
    layer_kwargs,
    space_sizes,
    units,
)
from steprl.utils.model_instantiators.common.source import literal

__all__ = ["JAX_OPS", "network_lines"]

_RESERVED = {"self", "inputs", "role", "output", "nn", "jnp", "log_std", *INPUT_TOKENS, *INPUT_TOKENS.values()}
#: activation name → ``flax.linen`` function name
_FLAX_ACTIVATIONS = {name: name for name in ("elu", "leaky_relu", "relu", "selu", "sigmoid", "softplus", "tanh")}
_FLAX_ACTIVATIONS.update({"softmax": "softmax", "softsign": "soft_sign"})


class JaxExprOps:
    """Writes the parsed expressions as JAX source (the generated module is the model: nothing runs eagerly)."""

    def concat(self, arrays: list[Any]) -> Any:
        import jax.numpy as jnp

        return jnp.concatenate(arrays, axis=-1)

    def permute(self, array: Any, dims: tuple[int, ...]) -> Any:
        import jax.numpy as jnp

        return jnp.transpose(array, dims)

    def activation(self, name: str, array: Any) -> Any:
        import flax.linen as nn

        return getattr(nn, _FLAX_ACTIVATIONS[name])(array)

    def concat_source(self, items: list[str]) -> str:
        return f"jnp.concatenate([{', '.join(items)}], axis=-1)"

    def permute_source(self, item: str, dims: tuple[int, ...]) -> str:
        return f"jnp.transpose({item}, {literal(tuple(dims))})"

    def activation_source(self, name: str, variable: str) -> str:
        return f"nn.{_FLAX_ACTIVATIONS[name]}({variable})"


JAX_OPS = JaxExprOps()


def _layer_source(layer: Any, variable: str, sizes: Mapping[str, int]) -> tuple[str, bool]:
    """The expression applying one layer definition to ``variable``, and whether the layer is a flatten."""
    if isinstance(layer, str) and layer.lower() == "flatten":
        layer = {"flatten": {}}
    elif isinstance(layer, str) or (isinstance(layer, (int, float)) and not isinstance(layer, bool)):
        layer = {"linear": layer}
    if not isinstance(layer, Mapping) or len(layer) != 1:
        raise ValueError(f"Invalid layer {layer!r}: expected an int, 'flatten' or a one-key dict (linear/flatten)")
    kind, raw = next(iter(layer.items()))
    kind = str(kind).lower()
    if kind == "linear":
        kwargs = (
            {"out_features": raw}
            if isinstance(raw, (int, float, str))
            else layer_kwargs(raw, ["out_features", "bias"], LINEAR_KEYS, kind)
        )
        kwargs.pop("in_features", None)  # flax infers input sizes
        if "out_features" not in kwargs:
            raise ValueError(f"'linear' layer {raw!r} needs out_features")
        bias = "" if kwargs.get("bias", True) else ", use_bias=False"
        return f"nn.Dense({units(kwargs['out_features'], sizes)}{bias})({variable})", False
    if kind == "flatten":
        return f"{variable}.reshape({variable}.shape[0], -1)", True
    if kind == "conv2d":
        raise ValueError("'conv2d' layers are available in the torch instantiators only; use linear/flatten layers")
    raise ValueError(f"Unknown layer type {kind!r}: expected linear or flatten")


def network_lines(
    network: Sequence[Mapping[str, Any]],
    output: OutputSpec,
    observation_space: Any,
    action_space: Any,
    output_units: int | None,
) -> tuple[list[str], str]:
    """The ``__call__`` body lines computing every network entry, and the returned output expression."""
    if isinstance(network, Mapping) or not isinstance(network, Sequence) or not network:
        raise ValueError("network must be a non-empty list of {'name', 'input', 'layers', 'activations'} dicts")
    sizes, shapes = space_sizes(observation_space, action_space)
    lines: list[str] = []
    if "states" in shapes:
        lines.append('states = inputs["states"].astype(jnp.float32)')
    if "taken_actions" in shapes:
        lines.append('taken_actions = inputs.get("taken_actions")')
    names: list[str] = []
    for index, entry in enumerate(network):
        unknown = sorted(set(entry) - {"name", "input", "layers", "activations"})
        if unknown:
            raise ValueError(f"Unknown network entry keys {unknown}: expected name, input, layers, activations")
        name = check_name(entry.get("name"), set(names), _RESERVED)
        expr = parse_input(entry.get("input", "STATES"), set(names))
        missing = expr.names() - set(shapes) - set(names)
        if missing:
            raise ValueError(f"Network {name!r} uses {sorted(missing)} but the matching space is None")
        if "states_actions" in expr.names() and "states_actions = " not in "".join(lines):
            lines.append("states_actions = jnp.concatenate([states, taken_actions.astype(jnp.float32)], axis=-1)")
        lines.append(f"{name} = {expr.source(JAX_OPS)}")
        layers = list(entry.get("layers", []))
        for layer, activation in zip(layers, activation_names(entry.get("activations"), len(layers), name)):
            value, flatten = _layer_source(layer, name, sizes)
            if activation is not None and not flatten:
                value = JAX_OPS.activation_source(activation, value)
            lines.append(f"{name} = {value}")
        if output_units is not None and index == len(network) - 1:
            lines.append(f"{name} = nn.Dense({output_units})({name})")
        names.append(name)
    return lines, output.source(names[-1], JAX_OPS)
