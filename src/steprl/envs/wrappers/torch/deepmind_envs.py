"""torch wrapper for DeepMind ``dm_env`` environments (dm_control suite): the torch Gymnasium wrapper over
:class:`steprl.envs.wrappers.common.deepmind_core.DeepMindEnv`."""

from __future__ import annotations

from steprl.envs.wrappers.common.deepmind_core import DeepMindWrapperMixin
from steprl.envs.wrappers.torch.gymnasium_envs import GymnasiumWrapper

__all__ = ["DeepMindWrapper"]


class DeepMindWrapper(DeepMindWrapperMixin, GymnasiumWrapper):
    __doc__ = DeepMindWrapperMixin.__doc__
