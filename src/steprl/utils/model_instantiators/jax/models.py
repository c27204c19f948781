"""The JAX instantiators: a flax model class written as source from the definitions, then built from it.

The model and ``return_source=True`` come from the same text, so what the user reads is what runs. Every piece of
that text is produced from parsed and validated definitions (names are identifiers, sizes integers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.core.distributions import check_reduction
from steprl.utils.model_instantiators.common.expressions import parse_output
from steprl.utils.model_instantiators.common.legacy import LEGACY_KEYS, check_extra, resolve_network
from steprl.utils.model_instantiators.common.network import token_units
from steprl.utils.model_instantiators.common.source import indent, literal
from steprl.utils.model_instantiators.jax.network import network_lines

__all__ = ["instantiate"]

Network = Sequence[Mapping[str, Any]]


def _render(
    class_name: str,
    mixin: str,
    mixin_kwargs: Mapping[str, Any],
    body: list[str],
    result: str,
    log_std: tuple[float, bool] | None,
    num_actions: int,
) -> str:
    settings = "".join(f", {k}={literal(v)}" for k, v in mixin_kwargs.items())
    arguments = ", ".join(mixin_kwargs)
    returned = f"{result}, {{}}"
    if log_std is not None:
        initial, fixed = log_std
        if fixed:
            body = [*body, f"log_std = jnp.full(({num_actions},), {float(initial)!r})"]
        else:
            init = f"lambda _: jnp.full(({num_actions},), {float(initial)!r})"
            body = [*body, f'log_std = self.param("log_std_parameter", {init})']
        returned = f"{result}, log_std, {{}}"
    lines = [
        "import flax.linen as nn",
        "import jax.numpy as jnp",
        "",
        f"from steprl.models.jax import {mixin}, Model",
        "",
        "",
        f"class {class_name}({mixin}, Model):",
        f"    def __init__(self, observation_space=None, action_space=None, device=None{settings}, **kwargs):",
        "        Model.__init__(self, observation_space, action_space, device, **kwargs)",
        f"        {mixin}.__init__(self{', ' if arguments else ''}{arguments})",
        "",
        "    @nn.compact",
        '    def __call__(self, inputs, role=""):',
        *indent([*body, f"return {returned}"], 2),
    ]
    return "\n".join(lines) + "\n"


def instantiate(
    function: str,
    mixin: str,
    spaces: tuple[Any, Any, Any],
    mixin_kwargs: dict[str, Any],
    network: Network,
    output: Any,
    return_source: bool,
    extra: tuple[tuple[Any, ...], dict[str, Any]],
    log_std: tuple[float, bool] | None = None,
    legacy_activation: str | None = "tanh",
) -> Any:
    """Build (or, with ``return_source``, write) the model of one of the public instantiator functions."""
    args, kwargs = extra
    check_extra(function, args, kwargs, LEGACY_KEYS)
    network, output = resolve_network(function, network, output, kwargs, legacy_activation, stacklevel=4)
    observation_space, action_space, device = spaces
    if "reduction" in mixin_kwargs:
        check_reduction(mixin_kwargs["reduction"])
    parsed = parse_output(output)
    output_units = None if parsed.token is None else token_units(parsed.token, observation_space, action_space)
    body, result = network_lines(network, parsed, observation_space, action_space, output_units)
    num_actions = token_units("ACTIONS", observation_space, action_space) if log_std is not None else 0
    class_name = mixin.replace("Mixin", "Model")
    source = _render(class_name, mixin, mixin_kwargs, body, result, log_std, num_actions)
    if return_source:
        return source
    namespace: dict[str, Any] = {"__name__": f"steprl_instantiated_{class_name.lower()}"}
    exec(compile(source, f"<steprl {function}>", "exec"), namespace)  # noqa: S102 - our own validated source
    return namespace[class_name](observation_space=observation_space, action_space=action_space, device=device)
