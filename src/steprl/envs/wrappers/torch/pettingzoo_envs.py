"""Torch wrapper for PettingZoo parallel environments (tensors over the common PettingZoo wrapper)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from steprl.envs.wrappers.common.pettingzoo_wrapper import PettingZooWrapperBase
from steprl.envs.wrappers.torch.base import MultiAgentEnvWrapper


class PettingZooWrapper(PettingZooWrapperBase, MultiAgentEnvWrapper):
    __doc__ = PettingZooWrapperBase.__doc__

    def __init__(self, env: Any, *, check_finite: bool = True) -> None:
        super().__init__(env, check_finite=check_finite)
        self._on_cpu = self._device.type == "cpu"

    def _array(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(array)
        return tensor if self._on_cpu else tensor.to(self._device)

    def _tensors(self, arrays: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        return {uid: self._array(array) for uid, array in arrays.items()}

    def _numpy(self, actions: Any) -> Any:
        if isinstance(actions, torch.Tensor):
            actions = actions.detach()
            if actions.dtype in (torch.bfloat16, torch.float16):
                actions = actions.float()
            return actions.cpu().numpy()
        return actions
