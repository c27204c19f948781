"""Backend-neutral checks of the multi-agent step contract (dicts keyed by agent id), shared by every wrapper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.envs.wrappers.common.gymnasium_core import ActionConverter


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


def check_agent_action(
    uid: str, converter: ActionConverter, shape: tuple[int, ...], dtype: Any, integral: bool
) -> None:
    """The action space checks of ``converter`` (shape, then an integer dtype for integer spaces), naming ``uid``."""
    try:
        converter.check(tuple(shape), dtype, integral)
    except (ValueError, TypeError) as error:
        raise type(error)(f"Agent {uid!r}: {error}") from None
