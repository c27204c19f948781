"""PyTorch implementation of :class:`steprl.backends.ArrayOps`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_DTYPES = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}


class TorchOps:
    name = "torch"

    def zeros(self, n: int, dtype: str, like: Any) -> torch.Tensor:
        return torch.zeros(n, dtype=_DTYPES[dtype], device=like.device)

    def stack(self, arrays: list[Any]) -> torch.Tensor:
        return torch.stack(arrays)

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.detach().cpu().numpy()

    def no_grad(self) -> Any:
        return torch.no_grad()

    def concatenate(self, arrays: list[Any]) -> torch.Tensor:
        return torch.cat(arrays, dim=0)


TORCH_OPS = TorchOps()


def _host_view(array: Any) -> np.ndarray | None:
    if array.device.type == "cpu":
        return array.numpy() if not array.requires_grad else array.detach().numpy()
    return None


TorchOps.host_view = staticmethod(_host_view)  # type: ignore[attr-defined]
