"""Shared helpers of the instantiators: the legacy ``Shape`` enum, keyword checks and pre-1.3 kwargs conversion."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["LEGACY_KEYS", "Shape", "check_extra", "resolve_network"]

LEGACY_KEYS = ("input_shape", "hiddens", "hidden_activation", "output_shape", "output_activation", "output_scale")


class Shape(enum.Enum):
    """Pre-1.3 size tokens (``OBSERVATIONS`` is an alias of ``STATES``)."""

    ONE = 1
    STATES = 0
    OBSERVATIONS = 0
    ACTIONS = -1
    STATES_ACTIONS = -2


def _token(value: Any, what: str) -> str:
    if isinstance(value, Shape):
        return value.name
    if isinstance(value, str) and value.upper() in Shape.__members__:
        return Shape[value.upper()].name
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Shape(value).name
        except ValueError:
            pass
    raise ValueError(f"Invalid {what} {value!r}: expected a Shape member ({', '.join(Shape.__members__)})")


def check_extra(function: str, args: Sequence[Any], kwargs: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """``TypeError`` for extra positional arguments or keywords outside ``allowed``."""
    if args:
        raise TypeError(f"{function}() got {len(args)} unexpected positional argument(s): {list(args)!r}")
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"{function}() got unexpected keyword argument(s): {', '.join(unknown)}")


def _convert_legacy(legacy: Mapping[str, Any], output_activation: str | None) -> tuple[list[dict[str, Any]], str]:
    """1.0-style kwargs → ``(network, output)``; omitted kwargs take the 1.0 defaults."""
    hiddens = list(legacy.get("hiddens", [256, 256]))
    network = [
        {
            "name": "net",
            "input": _token(legacy.get("input_shape", Shape.STATES), "input_shape"),
            "layers": hiddens,
            "activations": list(legacy.get("hidden_activation", ["relu"] * len(hiddens))),
        }
    ]
    token = _token(legacy.get("output_shape", Shape.ACTIONS), "output_shape")
    if token not in ("ACTIONS", "ONE"):
        raise ValueError(f"output_shape must be Shape.ACTIONS or Shape.ONE, got {token}")
    activation = legacy.get("output_activation", output_activation)
    output = f"{activation}({token})" if activation else token
    scale = float(legacy.get("output_scale", 1.0))
    if scale != 1.0:
        output = f"{scale!r} * {output}"
    return network, output


def resolve_network(
    function: str,
    network: Sequence[Mapping[str, Any]],
    output: Any,
    legacy: Mapping[str, Any],
    output_activation: str | None = "tanh",
    stacklevel: int = 3,
) -> tuple[Sequence[Mapping[str, Any]], Any]:
    """Return ``(network, output)``, converting pre-1.3 kwargs (with a ``DeprecationWarning``) when given.

    ``output_activation`` is the 1.0 default of the instantiator (``None`` for categorical models);
    ``stacklevel`` points the warning at the user's call.
    """
    legacy = {k: v for k, v in legacy.items() if k in LEGACY_KEYS}
    if not legacy:
        return network, output
    if network or output:
        raise ValueError(f"{function}(): pass either network/output or the deprecated {', '.join(legacy)}, not both")
    network, output = _convert_legacy(legacy, output_activation)
    warnings.warn(
        f"{function}(): {', '.join(legacy)} are deprecated since skrl 1.3; use network={network!r}, output={output!r}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return network, output
