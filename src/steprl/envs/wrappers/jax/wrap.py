"""``wrap_env``: pick and build the JAX wrapper for an environment."""

from __future__ import annotations

from typing import Any

from steprl.envs.wrappers.common.wrap import build_wrapper
from steprl.envs.wrappers.jax.base import MultiAgentEnvWrapper, Wrapper
from steprl.envs.wrappers.jax.deepmind_envs import DeepMindWrapper
from steprl.envs.wrappers.jax.gymnasium_envs import GymnasiumWrapper
from steprl.envs.wrappers.jax.pettingzoo_envs import PettingZooWrapper


class _VmasOnJax:
    """VMAS simulates with torch tensors: refused on the JAX backend with a pointer to the torch one."""

    def __init__(self, env: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "VMAS environments are torch-native (their state lives in torch tensors on the torch device): wrap them "
            "with steprl.envs.wrappers.torch.wrap_env and train with the torch agents (steprl.multi_agents.torch, "
            "or `steprl train --backend torch`); the JAX backend wraps Gymnasium and PettingZoo environments"
        )


MULTI_AGENT_WRAPPERS = {"pettingzoo": PettingZooWrapper, "vmas": _VmasOnJax}  # by wrapper tag


def wrap_env(env: Any, wrapper: str = "auto", verbose: bool = True, **kwargs: Any) -> Wrapper | MultiAgentEnvWrapper:
    """Wrap ``env`` for steprl's JAX agents and trainers (NumPy or JAX arrays per ``config.jax.backend``).

    ``wrapper`` is a tag (``"auto"`` detects it from the env's class hierarchy); ``"gymnasium"`` and ``"dm"``
    (a ``dm_env`` environment such as the dm_control suite's) and ``"pettingzoo"`` (a parallel env, or a list of
    copies stepped as one batch) are available. VMAS (``"vmas"``) is torch-native and raises
    ``NotImplementedError`` naming the torch backend; the other skrl tags are recognised and raise it too. An env that is already a steprl JAX wrapper is returned unchanged. ``kwargs`` go to the wrapper's constructor (e.g. ``check_finite``).
    """
    bases = (Wrapper, MultiAgentEnvWrapper)
    tags = {"dm": DeepMindWrapper, **MULTI_AGENT_WRAPPERS}
    return build_wrapper(env, wrapper, verbose, bases, GymnasiumWrapper, tags, **kwargs)
