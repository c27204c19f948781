"""Double DQN (van Hasselt et al., 2016), JAX: DQN whose targets use the online network's argmax, evaluated by the
target network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steprl.agents.jax.dqn.dqn import DQN, DQN_DEFAULT_CONFIG
from steprl.core.cfg import DefaultConfig

__all__ = ["DDQN", "DDQN_DEFAULT_CONFIG"]

# Same keys, values and meaning as DQN_DEFAULT_CONFIG, as an independent copy.
DDQN_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig(DQN_DEFAULT_CONFIG.copy())


class DDQN(DQN):
    """Double DQN: ``target = r + γ·(1 - terminated)·Q'(s', argmax_a Q(s', a))``; everything else is :class:`DQN`."""

    _NAME = "DDQN"
    _DEFAULTS: Mapping[str, Any] = DDQN_DEFAULT_CONFIG
    _DOUBLE = True
