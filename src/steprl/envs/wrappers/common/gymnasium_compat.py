"""``gymnasium.vector.make`` for scripts written for Gymnasium < 1.0 (skrl 1.x's own examples call it).

Gymnasium 1.0 removed ``gymnasium.vector.make`` in favour of ``gymnasium.make_vec``. When it is missing, importing a
steprl wrapper package adds a function of that name which builds the same vector environment with ``make_vec``
(one warning per environment id). Nothing is changed when Gymnasium still has its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium

from steprl import logger

__all__ = ["install_vector_make"]

_warned: set[str] = set()  # ids already reported


def _vector_make(
    id: str,  # noqa: A002 - Gymnasium's own parameter name
    num_envs: int = 1,
    asynchronous: bool = True,
    wrappers: Callable[[Any], Any] | Sequence[Callable[[Any], Any]] | None = None,
    disable_env_checker: bool | None = None,
    **kwargs: Any,
) -> Any:
    """``gymnasium.make_vec(id, num_envs, vectorization_mode="async" if asynchronous else "sync", ...)``."""
    if str(id) not in _warned:
        _warned.add(str(id))
        logger.warning(
            "gymnasium.vector.make was removed in Gymnasium 1.0; steprl builds the environment with "
            f"gymnasium.make_vec({id!r}, num_envs={num_envs}, vectorization_mode={'async' if asynchronous else 'sync'!r}) instead"
        )
    if callable(wrappers):
        wrappers = [wrappers]
    if disable_env_checker is not None:
        kwargs["disable_env_checker"] = disable_env_checker
    mode = "async" if asynchronous else "sync"
    return gymnasium.make_vec(id, num_envs=num_envs, vectorization_mode=mode, wrappers=wrappers or None, **kwargs)


def install_vector_make() -> None:
    """Add ``gymnasium.vector.make`` when this Gymnasium has none."""
    if not hasattr(gymnasium.vector, "make"):
        gymnasium.vector.make = _vector_make  # type: ignore[attr-defined]
