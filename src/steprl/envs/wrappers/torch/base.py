"""Base classes of the torch environment wrappers: the common ones, with arrays on a torch device."""

from __future__ import annotations

from typing import Any

import torch

from steprl import config
from steprl.envs.wrappers.common import base

__all__ = ["Wrapper", "MultiAgentEnvWrapper"]


def _env_device(*sources: Any) -> torch.device:
    """The first string/``torch.device`` ``device`` attribute of ``sources`` parsed, else ``config.torch.device``."""
    for source in sources:
        device = getattr(source, "device", None)
        if isinstance(device, (str, torch.device)):
            return config.torch.parse_device(device)
    return config.torch.device


class Wrapper(base.Wrapper):
    __doc__ = base.Wrapper.__doc__

    def _find_device(self, *sources: Any) -> torch.device:
        return _env_device(*sources)


class MultiAgentEnvWrapper(base.MultiAgentEnvWrapper):
    __doc__ = base.MultiAgentEnvWrapper.__doc__

    def _find_device(self, *sources: Any) -> torch.device:
        return _env_device(*sources)
