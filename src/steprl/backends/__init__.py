"""The few array operations that backend-neutral code in ``steprl.core`` needs, one small module per backend."""

from __future__ import annotations

from typing import Any, Protocol


class ArrayOps(Protocol):
    """What ``steprl.core`` asks of a backend."""

    name: str

    def zeros(self, n: int, dtype: str, like: Any) -> Any: ...

    def stack(self, arrays: list[Any]) -> Any: ...

    def to_numpy(self, array: Any) -> Any: ...

    def no_grad(self) -> Any: ...

    def concatenate(self, arrays: list[Any]) -> Any: ...

    def host_view(self, array: Any) -> Any:
        """A zero-copy NumPy view of ``array`` when it lives in host memory, else ``None``."""
        ...


def ops_for(array: Any) -> ArrayOps:
    """The backend ops matching ``array``'s type (torch tensors, else NumPy)."""
    module = type(array).__module__
    if module.startswith("torch"):
        from steprl.backends.torch_ops import TORCH_OPS

        return TORCH_OPS
    from steprl.backends.numpy_ops import NUMPY_OPS

    return NUMPY_OPS
