"""Backend-neutral checks of the multi-agent step contract (dicts keyed by agent id), shared by every wrapper."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def check_action_keys(actions: Any, acting: Sequence[str], possible: Sequence[str]) -> None:
    """Raise when ``actions`` is not a mapping holding an action for every agent in ``acting``.

    Keys of agents that may appear (``possible``) but are not acting now are tolerated (ignored by the wrappers);
    unknown keys are an error, since they usually mean a typo or a model built for another environment.
    """
    if not isinstance(actions, Mapping):
        raise TypeError(
            f"Multi-agent actions must be a dict agent id -> tensor, got {type(actions).__name__}: "
            f"expected keys {list(acting)}"
        )
    missing = [uid for uid in acting if uid not in actions]
    if missing:
        raise ValueError(
            f"Missing actions for agent(s) {missing}: the actions dict has keys {list(actions)} but every acting "
            f"agent {list(acting)} needs one"
        )
    unknown = [uid for uid in actions if uid not in possible]
    if unknown:
        raise ValueError(f"Actions for unknown agent(s) {unknown}: the environment's agents are {list(possible)}")


def check_action_shape(uid: str, shape: tuple[int, ...], accepted: Iterable[tuple[int, ...]], space: Any) -> None:
    """Raise ``ValueError`` naming the agent when an action of ``shape`` is not one of the ``accepted`` shapes."""
    accepted = sorted(set(accepted), key=len)
    if tuple(shape) not in accepted:
        expected = " or ".join(str(s) for s in accepted)
        raise ValueError(
            f"Invalid actions shape {tuple(shape)} for agent {uid!r} (action space {space}): expected {expected}"
        )

