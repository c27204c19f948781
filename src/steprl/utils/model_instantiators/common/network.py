"""Backend-neutral pieces of the instantiators' network definitions: sizes, activations, layer keywords, names."""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium

from steprl.utils.spaces.common import compute_space_size

__all__ = [
    "LAYER_ACTIVATIONS",
    "LINEAR_KEYS",
    "activation_names",
    "check_name",
    "layer_kwargs",
    "space_sizes",
    "token_units",
    "units",
]

#: activation names accepted after each layer
LAYER_ACTIVATIONS = ("elu", "leaky_relu", "relu", "selu", "sigmoid", "softmax", "softplus", "softsign", "tanh")
LINEAR_KEYS = {"out_features": "out_features", "features": "out_features", "bias": "bias", "use_bias": "bias"}


def units(value: Any, model_sizes: Mapping[str, int]) -> int:
    """A layer size: an int or a token (``ACTIONS``, ``ONE``, ``STATES``/``OBSERVATIONS``, ``NUM_*``)."""
    if isinstance(value, str):
        key = value.upper().removeprefix("NUM_")
        if key in model_sizes:
            return model_sizes[key]
        raise ValueError(f"Unknown size token {value!r}: expected an int or one of {', '.join(model_sizes)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 1:
        raise ValueError(f"Layer sizes must be positive integers, got {value!r}")
    return int(value)


def activation_names(activations: Any, count: int, name: str) -> list[str | None]:
    """One activation name (or ``None``) per layer of network entry ``name``: 0, 1 or ``count`` given."""
    if activations is None or isinstance(activations, str):
        names = [activations] * count
    elif isinstance(activations, Sequence):
        names = list(activations)
        if len(names) == 0:
            names = [None] * count
        elif len(names) == 1:
            names = names * count
        elif len(names) != count:
            raise ValueError(f"Network {name!r}: {len(names)} activations for {count} layers (give 0, 1 or {count})")
    else:
        raise ValueError(f"Network {name!r}: activations must be a string or a list of strings, got {activations!r}")
    result: list[str | None] = []
    for activation in names:
        if activation in (None, ""):
            result.append(None)
        elif not isinstance(activation, str) or activation.lower() not in LAYER_ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: valid activations are {', '.join(LAYER_ACTIVATIONS)}")
        else:
            result.append(activation.lower())
    return result


def layer_kwargs(raw: Any, positional: Sequence[str], mapping: Mapping[str, str], kind: str) -> dict[str, Any]:
    """A layer's keyword arguments from a list (``positional`` order) or a dict (keys renamed by ``mapping``)."""
    if isinstance(raw, (list, tuple)):
        if len(raw) > len(positional):
            raise ValueError(f"'{kind}' layer list takes at most {len(positional)} values {list(positional)}")
        return dict(zip(positional, raw))
    if isinstance(raw, Mapping):
        unknown = sorted(set(raw) - set(mapping) - {"in_features", "in_channels"})
        if unknown:
            raise ValueError(f"Unknown '{kind}' layer keys {unknown}: expected {sorted(set(mapping))}")
        return {mapping.get(k, k): v for k, v in raw.items()}
    raise ValueError(f"Invalid '{kind}' layer definition {raw!r}")


def space_sizes(observation_space: Any, action_space: Any) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """Size tokens (``ONE``, ``STATES``, ``ACTIONS``, ...) and the input shapes of the spaces."""
    sizes: dict[str, int] = {"ONE": 1}
    shapes: dict[str, tuple[int, ...]] = {}
    if observation_space is not None:
        sizes["STATES"] = sizes["OBSERVATIONS"] = compute_space_size(observation_space)
        flat = compute_space_size(observation_space, occupied_size=True)
        shapes["states_flat"] = (flat,)
        image = isinstance(observation_space, gymnasium.spaces.Box) and len(observation_space.shape) > 1
        shapes["states"] = tuple(observation_space.shape) if image else (flat,)
    if action_space is not None:
        sizes["ACTIONS"] = compute_space_size(action_space)
        shapes["taken_actions"] = (compute_space_size(action_space, occupied_size=True),)
    if "states" in shapes and "taken_actions" in shapes:
        shapes["states_actions"] = (shapes["states_flat"][0] + shapes["taken_actions"][0],)
    return sizes, shapes


def token_units(token: str, observation_space: Any, action_space: Any) -> int:
    """Size of an output token (``ACTIONS``: ``compute_space_size(action_space)``, ``ONE``: 1)."""
    sizes, _ = space_sizes(observation_space, action_space)
    if token not in sizes:
        raise ValueError(f"output uses {token} but action_space is None")
    return sizes[token]


def check_name(name: Any, known: set[str], reserved: set[str]) -> str:
    """``name`` if it is a usable, new network entry name (``ValueError`` otherwise)."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"Network entry names must be Python identifiers, got {name!r}")
    if name in reserved or name in known:
        raise ValueError(f"Network entry name {name!r} is reserved or already used")
    return name
