"""Ready-made JAX networks and their model builders (the ``steprl`` command builds its JAX agents with them).

Every builder has the signature ``build(observation_space, action_space, device, network, num_envs=1)`` and returns
the agent's models by role, already initialised (``init_state_dict``); ``network`` is the same table of layout keys
as for the PyTorch networks.

- :func:`build_ppo_models`: PPO, A2C (Discrete or Box actions);
- :func:`build_rpo_models`: RPO (Box actions);
- :func:`build_dqn_models`: DQN, DDQN (Discrete actions); :func:`build_cem_models`: CEM (Discrete actions).
"""

from steprl.core.networks import PPO_NETWORK_KEYS, check_network_keys, mlp_layout
from steprl.models.jax.networks.mlp import MLPCategoricalPolicy, MLPGaussianPolicy, MLPValue, build_ppo_models, mlp
from steprl.models.jax.networks.onpolicy import RPO_NETWORK_KEYS, MLPRPOGaussianPolicy, build_rpo_models
from steprl.models.jax.networks.q import MLPDiscreteQNetwork, build_dqn_models
from steprl.models.jax.networks.tabular import build_cem_models

__all__ = [
    "PPO_NETWORK_KEYS",
    "RPO_NETWORK_KEYS",
    "MLPCategoricalPolicy",
    "MLPDiscreteQNetwork",
    "MLPGaussianPolicy",
    "MLPRPOGaussianPolicy",
    "MLPValue",
    "build_cem_models",
    "build_dqn_models",
    "build_ppo_models",
    "build_rpo_models",
    "check_network_keys",
    "mlp",
    "mlp_layout",
]
