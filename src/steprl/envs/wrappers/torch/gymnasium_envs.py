"""Torch wrapper for Gymnasium environments and vector environments: tensors over the common Gymnasium wrapper."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from steprl.envs.wrappers.common.gymnasium_wrapper import GymnasiumWrapperBase
from steprl.envs.wrappers.torch.base import Wrapper


class GymnasiumWrapper(GymnasiumWrapperBase, Wrapper):
    __doc__ = GymnasiumWrapperBase.__doc__

    def __init__(self, env: Any, *, check_finite: bool = True, partial_reset: bool | None = None) -> None:
        super().__init__(env, check_finite=check_finite, partial_reset=partial_reset)
        self._on_cpu = self._device.type == "cpu"

    def _array(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(array)
        return tensor if self._on_cpu else tensor.to(self._device)

    def _numpy_actions(self, actions: torch.Tensor | np.ndarray) -> Any:
        """Check the actions (shape, then an integer dtype for integer spaces) and convert them for the env."""
        if not isinstance(actions, torch.Tensor):
            return self._actions(actions)
        integral = not (actions.is_floating_point() or actions.is_complex())
        self._actions.check(tuple(actions.shape), actions.dtype, integral)  # names the tensor's own dtype
        actions = actions.detach()
        if actions.dtype in (torch.bfloat16, torch.float16):
            actions = actions.float()
        return self._actions.convert(actions.cpu().numpy())
