"""The few array operations that backend-neutral code in ``steprl.core`` needs, one small module per backend.

A backend registers itself by the top-level module name of its array type (``register_backend("jax",
"steprl.backends.jax_ops:JAX_OPS")``); :func:`ops_for` imports a backend module only when it first meets one of
its arrays, so ``steprl.core`` never imports torch or jax itself. Unregistered array types use the NumPy ops.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

__all__ = ["ArrayOps", "ops_for", "register_backend"]


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


# top-level module of an array type -> "module:attribute" of its ArrayOps
_REGISTRY: dict[str, str] = {
    "torch": "steprl.backends.torch_ops:TORCH_OPS",
    "numpy": "steprl.backends.numpy_ops:NUMPY_OPS",
    "jax": "steprl.backends.jax_ops:JAX_OPS",
    "jaxlib": "steprl.backends.jax_ops:JAX_OPS",  # jax.Array's concrete class lives in jaxlib
}
_LOADED: dict[str, ArrayOps] = {}


def register_backend(array_module: str, ops_path: str) -> None:
    """Use the ``ArrayOps`` at ``ops_path`` (``"package.module:NAME"``) for arrays whose type lives in ``array_module``."""
    if ":" not in ops_path:
        raise ValueError(f"ops_path must look like 'package.module:NAME', got {ops_path!r}")
    _REGISTRY[array_module] = ops_path
    _LOADED.pop(array_module, None)


def _load(array_module: str) -> ArrayOps:
    ops = _LOADED.get(array_module)
    if ops is None:
        module, _, name = _REGISTRY[array_module].partition(":")
        ops = _LOADED[array_module] = getattr(importlib.import_module(module), name)
    return ops


def ops_for(array: Any) -> ArrayOps:
    """The backend ops matching ``array``'s type (by the top-level module that defines it; NumPy otherwise)."""
    root = type(array).__module__.partition(".")[0]
    return _load(root if root in _REGISTRY else "numpy")
