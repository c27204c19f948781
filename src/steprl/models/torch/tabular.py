"""Tabular model mixin (Q-learning, SARSA): the model's state lives in plain tensor attributes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from steprl.backends.torch_checkpoint import torch_load, torch_save

__all__ = ["TabularMixin"]


class TabularMixin:
    """Tabular model: ``compute`` returns ``(actions, outputs)`` from tensors stored as attributes (the Q-table must
    be named ``q_table``); ``act`` returns ``(actions, None, outputs)``.

    ``to``, ``state_dict``, ``load_state_dict``, ``save`` and ``load`` cover every plain tensor attribute (in
    addition to registered parameters/buffers); loading checks shapes and dtypes (``ValueError`` on mismatch).
    """

    def __init__(self, num_envs: int = 1, role: str = "") -> None:
        """``num_envs``: number of parallel environments the table rows are allocated for."""
        self.num_envs = int(num_envs)

    def _tensor_names(self) -> list[str]:
        return sorted(name for name, value in vars(self).items() if isinstance(value, torch.Tensor))

    def __repr__(self) -> str:
        lines = [f"({name}): Tensor(shape={list(getattr(self, name).shape)})" for name in self._tensor_names()]
        body = "\n  {}\n".format("\n  ".join(lines)) if lines else ""
        return f"{type(self).__name__}({body})"

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, None, dict]:
        """Run :meth:`compute`."""
        actions, outputs = self.compute(inputs, role)  # type: ignore[attr-defined]
        return actions, None, outputs

    def table(self) -> torch.Tensor:
        """The Q-table (attribute ``q_table``)."""
        return self.q_table  # type: ignore[attr-defined]

    def to(self, *args: Any, **kwargs: Any) -> TabularMixin:
        """Move/cast the module and every tensor attribute (same arguments as ``torch.nn.Module.to``)."""
        torch.nn.Module.to(self, *args, **kwargs)  # type: ignore[arg-type]
        for name in self._tensor_names():
            setattr(self, name, getattr(self, name).to(*args, **kwargs))
        return self

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Tensor attributes plus the module's own state dict."""
        state = {name: getattr(self, name) for name in self._tensor_names()}
        state.update(torch.nn.Module.state_dict(self, *args, **kwargs))  # type: ignore[arg-type]
        return state

    def _set_tensors(self, tensors: Mapping[str, Any], module_keys: set[str]) -> None:
        for name, tensor in tensors.items():
            if name in module_keys:
                continue
            current = vars(self).get(name)
            if not isinstance(current, torch.Tensor):
                raise ValueError(f"'{name}' is not a tensor attribute of {type(self).__name__}")
            if not isinstance(tensor, torch.Tensor) or current.shape != tensor.shape or current.dtype != tensor.dtype:
                found = (tuple(tensor.shape), tensor.dtype) if isinstance(tensor, torch.Tensor) else type(tensor)
                raise ValueError(
                    f"Tensor '{name}' mismatch: expected shape {tuple(current.shape)} and dtype {current.dtype}, "
                    f"got {found}"
                )
            setattr(self, name, tensor.to(current.device))

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """Load tensor attributes (shape/dtype checked) and, non-strictly, the module's parameters/buffers."""
        module_keys = set(torch.nn.Module.state_dict(self).keys())  # type: ignore[arg-type]
        self._set_tensors(state_dict, module_keys)
        module_state = {key: value for key, value in state_dict.items() if key in module_keys}
        return torch.nn.Module.load_state_dict(self, module_state, strict=False, assign=assign)  # type: ignore[arg-type]

    def save(self, path: str | os.PathLike[str], state_dict: Mapping[str, Any] | None = None) -> None:
        """Write the tensor attributes (or the given dict) to ``path`` atomically."""
        torch_save(state_dict or {name: getattr(self, name) for name in self._tensor_names()}, path)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load tensor attributes saved by :meth:`save` (shape/dtype checked → ``ValueError``)."""
        tensors = torch_load(path, map_location="cpu")
        self.load_state_dict(tensors)
