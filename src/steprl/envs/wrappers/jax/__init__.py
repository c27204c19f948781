"""JAX environment wrappers (skrl 1.x ``skrl.envs.wrappers.jax`` names)."""

from steprl.envs.wrappers.common.gymnasium_compat import install_vector_make
from steprl.envs.wrappers.jax.base import MultiAgentEnvWrapper, Wrapper
from steprl.envs.wrappers.jax.deepmind_envs import DeepMindWrapper as DeepMindWrapper  # importable, as in skrl
from steprl.envs.wrappers.jax.gymnasium_envs import GymnasiumWrapper as GymnasiumWrapper  # importable, as in skrl
from steprl.envs.wrappers.jax.wrap import wrap_env

__all__ = ["wrap_env", "Wrapper", "MultiAgentEnvWrapper"]

install_vector_make()  # skrl 1.x scripts call gymnasium.vector.make, which Gymnasium 1.0 removed
