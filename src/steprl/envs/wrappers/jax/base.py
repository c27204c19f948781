"""Base classes of the JAX environment wrappers: the common ones, with arrays on a JAX device."""

from __future__ import annotations

from typing import Any

from steprl import config
from steprl.envs.wrappers.common import base

__all__ = ["Wrapper", "MultiAgentEnvWrapper"]


def _env_device(*sources: Any) -> Any:
    """The first string/``jax.Device`` ``device`` attribute of ``sources`` parsed, else ``config.jax.device``."""
    import jax

    for source in sources:
        device = getattr(source, "device", None)
        if isinstance(device, (str, jax.Device)):
            return config.jax.parse_device(device)
    return config.jax.device


class Wrapper(base.Wrapper):
    __doc__ = base.Wrapper.__doc__

    def _find_device(self, *sources: Any) -> Any:
        return _env_device(*sources)


class MultiAgentEnvWrapper(base.MultiAgentEnvWrapper):
    __doc__ = base.MultiAgentEnvWrapper.__doc__

    def _find_device(self, *sources: Any) -> Any:
        return _env_device(*sources)
