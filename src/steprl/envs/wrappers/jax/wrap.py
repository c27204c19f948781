"""``wrap_env``: pick and build the JAX wrapper for an environment."""

from __future__ import annotations

from typing import Any

from steprl.envs.wrappers.common.wrap import build_wrapper
from steprl.envs.wrappers.jax.base import MultiAgentEnvWrapper, Wrapper
from steprl.envs.wrappers.jax.deepmind_envs import DeepMindWrapper
from steprl.envs.wrappers.jax.gymnasium_envs import GymnasiumWrapper


def wrap_env(env: Any, wrapper: str = "auto", verbose: bool = True, **kwargs: Any) -> Wrapper | MultiAgentEnvWrapper:
    """Wrap ``env`` for steprl's JAX agents and trainers (NumPy or JAX arrays per ``config.jax.backend``).

    ``wrapper`` is a tag (``"auto"`` detects it from the env's class hierarchy); ``"gymnasium"`` and ``"dm"``
    (a ``dm_env`` environment such as the dm_control suite's) are available: the other skrl tags are recognised
    and raise ``NotImplementedError``. An env that is already a steprl JAX wrapper is returned unchanged. ``kwargs`` go to the wrapper's constructor (e.g. ``check_finite``).
    """
    bases = (Wrapper, MultiAgentEnvWrapper)
    return build_wrapper(env, wrapper, verbose, bases, GymnasiumWrapper, {"dm": DeepMindWrapper}, **kwargs)
