"""Torch environment wrappers (skrl 1.x ``skrl.envs.wrappers.torch`` names)."""

from steprl.envs.wrappers.torch.base import MultiAgentEnvWrapper, Wrapper
from steprl.envs.wrappers.torch.gymnasium_envs import GymnasiumWrapper as GymnasiumWrapper  # importable, as in skrl
from steprl.envs.wrappers.torch.wrap import wrap_env

__all__ = ["wrap_env", "Wrapper", "MultiAgentEnvWrapper"]
