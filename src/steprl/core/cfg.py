"""Merging user configuration dicts into ``*_DEFAULT_CONFIG`` dicts, with validation."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from steprl import config, logger


class DefaultConfig(dict):
    """A ``*_DEFAULT_CONFIG`` dict whose ``copy()`` is deep.

    skrl scripts do ``cfg = PPO_DEFAULT_CONFIG.copy(); cfg["experiment"]["directory"] = ...``; with a plain dict
    that edit would leak into the library-wide defaults (and into every later agent). Here it cannot.
    """

    def copy(self) -> dict[str, Any]:  # type: ignore[override]
        return copy.deepcopy(dict(self))


# names other libraries (and papers) use for a key: suggested when spelling alone finds nothing close
SYNONYMS: dict[str, tuple[str, ...]] = {
    "alpha": ("learning_rate", "entropy_coefficient"),
    "lr": ("learning_rate",),
    "gamma": ("discount_factor",),
    "gae_lambda": ("lambda",),
    "lam": ("lambda",),
    "tau": ("polyak",),
    "clip_range": ("ratio_clip",),
    "clip_param": ("ratio_clip",),
    "n_epochs": ("learning_epochs",),
    "n_steps": ("rollouts",),
    "ent_coef": ("entropy_loss_scale",),
    "vf_coef": ("value_loss_scale",),
    "max_grad_norm": ("grad_norm_clip",),
    "buffer_size": ("memory_size",),
}


def closest_key(key: str, valid: list[str] | tuple[str, ...]) -> str | None:
    """The valid key closest to ``key`` (or ``None`` when nothing is close)."""
    for synonym in SYNONYMS.get(str(key), ()):
        if synonym in valid:
            return synonym
    matches = difflib.get_close_matches(str(key), [str(v) for v in valid], n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_key_error(key: Any, valid: list[str] | tuple[str, ...], where: str) -> KeyError:
    """A ``KeyError`` naming the unknown key, where it was found and the closest valid key."""
    suggestion = closest_key(str(key), valid)
    hint = f" Did you mean '{suggestion}'?" if suggestion else ""
    return KeyError(f"Unknown configuration key '{key}' in {where}.{hint} Valid keys: {', '.join(sorted(valid))}")


def report_unknown_key(key: Any, valid: list[str] | tuple[str, ...], where: str, strict: bool | None = None) -> None:
    """An unknown key: one warning naming it, ``where`` and the closest valid key (it is then ignored), or a
    ``KeyError`` in strict mode (``steprl.config.strict`` / ``STEPRL_STRICT=1``, or ``strict=True``)."""
    if config.strict if strict is None else strict:
        raise unknown_key_error(key, valid, where)
    suggestion = closest_key(str(key), valid)
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    logger.warning(f"'{key}' is not a {where} key (ignored){hint}")


def merge_config(
    defaults: Mapping[str, Any], user: Mapping[str, Any] | None, where: str = "cfg", strict: bool | None = None
) -> dict[str, Any]:
    """Deep-merge ``user`` over a deep copy of ``defaults``; neither input is modified.

    - A key absent from ``defaults`` is reported by :func:`report_unknown_key` (a warning naming the closest
      valid key, then ignored, as skrl ignores it; a ``KeyError`` in strict mode).
    - A non-empty dict default (e.g. ``experiment``, ``exploration``) is merged recursively, so a partial nested
      dict keeps its sibling defaults.
    - An empty dict default (``*_kwargs``) is free-form: the user's dict replaces it.
    """
    merged = copy.deepcopy(dict(defaults))
    if user is None:
        return merged
    if not isinstance(user, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(user).__name__}")
    valid = list(defaults.keys())
    for key, value in user.items():
        if key not in defaults:
            report_unknown_key(key, valid, where, strict)
            continue
        default = defaults[key]
        if isinstance(default, Mapping) and default and isinstance(value, Mapping):
            merged[key] = merge_config(default, value, where=f"{where}['{key}']", strict=strict)
        elif isinstance(value, (dict, list)):
            merged[key] = copy.copy(value)
        else:
            merged[key] = value
    return merged
