"""Deprecated import path kept by skrl 1.x (``from skrl.envs.jax import wrap_env``): the wrappers, with a warning.

Isaac Gym/Lab loaders are not provided by steprl.
"""

from steprl import logger
from steprl.envs.wrappers.jax import MultiAgentEnvWrapper, Wrapper, wrap_env

__all__ = ["MultiAgentEnvWrapper", "Wrapper", "wrap_env"]

logger.warning("`from steprl.envs.jax import ...` is deprecated: import wrappers from steprl.envs.wrappers.jax")
