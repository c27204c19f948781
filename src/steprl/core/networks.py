"""Backend-neutral reading of a preset's ``network`` table (the layout keys every backend's MLP builders share)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steprl.core.cfg import closest_key

__all__ = [
    "ACTIVATION_NAMES",
    "CEM_NETWORK_KEYS",
    "DETERMINISTIC_NETWORK_KEYS",
    "DQN_NETWORK_KEYS",
    "PPO_NETWORK_KEYS",
    "SAC_NETWORK_KEYS",
    "check_network_keys",
    "mlp_layout",
]

ACTIVATION_NAMES: tuple[str, ...] = ("tanh", "relu", "elu", "gelu", "silu")
PPO_NETWORK_KEYS = ("hidden", "activation", "initial_log_std", "clip_actions")  # keys read by build_ppo_models
SAC_NETWORK_KEYS = ("hidden", "activation", "min_log_std", "max_log_std")  # keys read by build_sac_models
DETERMINISTIC_NETWORK_KEYS = ("hidden", "activation", "actor_head_gain")  # keys read by the TD3 and DDPG builders
DQN_NETWORK_KEYS = ("hidden", "activation")  # keys read by build_dqn_models
CEM_NETWORK_KEYS = ("hidden", "activation")  # keys read by build_cem_models


def check_network_keys(network: Mapping[str, Any], valid: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` for keys of ``network`` outside ``valid`` (a typo would silently fall back to a default)."""
    unknown = sorted(str(key) for key in network if key not in valid)
    if unknown:
        hint = closest_key(unknown[0], list(valid))
        raise ValueError(
            f"Unknown {what} network key(s) {', '.join(unknown)}"
            + (f" (did you mean '{hint}'?)" if hint else "")
            + f": expected {', '.join(valid)}"
        )


def mlp_layout(
    network: Mapping[str, Any], hidden: Sequence[int] = (64, 64), activation: str = "tanh"
) -> tuple[list[int], str]:
    """``(hidden sizes, activation name)`` of a preset's ``network`` table, with the given defaults."""
    sizes = network.get("hidden", hidden)
    if not isinstance(sizes, (list, tuple)) or not sizes or not all(isinstance(h, int) and h > 0 for h in sizes):
        raise ValueError(f"network 'hidden' must be a non-empty list of positive layer sizes, got {sizes!r}")
    name = str(network.get("activation", activation))
    if name not in ACTIVATION_NAMES:
        raise ValueError(f"Unknown activation {name!r}: expected one of {', '.join(ACTIVATION_NAMES)}")
    return [int(h) for h in sizes], name
