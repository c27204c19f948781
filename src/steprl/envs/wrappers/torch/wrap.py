"""``wrap_env``: pick and build the torch wrapper for an environment."""

from __future__ import annotations

from typing import Any

from steprl.envs.wrappers.common.wrap import build_wrapper
from steprl.envs.wrappers.torch.base import MultiAgentEnvWrapper, Wrapper
from steprl.envs.wrappers.torch.deepmind_envs import DeepMindWrapper
from steprl.envs.wrappers.torch.gymnasium_envs import GymnasiumWrapper
from steprl.envs.wrappers.torch.pettingzoo_envs import PettingZooWrapper
from steprl.envs.wrappers.torch.vmas_envs import VmasWrapper

MULTI_AGENT_WRAPPERS = {"pettingzoo": PettingZooWrapper, "vmas": VmasWrapper}
OTHER_WRAPPERS = {**MULTI_AGENT_WRAPPERS, "dm": DeepMindWrapper}  # tags beyond "gymnasium"


def wrap_env(env: Any, wrapper: str = "auto", verbose: bool = True, **kwargs: Any) -> Wrapper | MultiAgentEnvWrapper:
    """Wrap ``env`` for steprl's PyTorch agents and trainers (tensors on the env's or the default torch device).

    ``wrapper`` is a tag (``"auto"`` detects it from the env's class hierarchy); ``"gymnasium"``, ``"pettingzoo"``
    (a parallel env, or a list of copies stepped as one batch), ``"vmas"`` and ``"dm"`` (a ``dm_env``
    environment such as the dm_control suite's) are available: the other skrl tags
    are recognised and raise ``NotImplementedError``. An env that is already a steprl torch wrapper is returned
    unchanged. ``kwargs`` go to the wrapper's constructor (steprl extension, e.g. ``check_finite``/``partial_reset``
    of :class:`GymnasiumWrapper`, ``clip_actions`` of :class:`VmasWrapper`).
    """
    bases = (Wrapper, MultiAgentEnvWrapper)
    return build_wrapper(env, wrapper, verbose, bases, GymnasiumWrapper, OTHER_WRAPPERS, **kwargs)
