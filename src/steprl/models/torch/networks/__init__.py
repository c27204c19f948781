"""Ready-made PyTorch networks and their model builders (the ``steprl`` command builds its agents with them).

Every builder has the signature ``build(observation_space, action_space, device, network, num_envs=1)`` and returns
the agent's models by role; ``network`` is a table of layout keys (``hidden``, ``activation``, ...; each module's
``*_NETWORK_KEYS`` lists the keys its builders read, and any other key is a ``ValueError``).

- :func:`build_ppo_models`: PPO, A2C, TRPO (Discrete or Box actions);
- :func:`build_rpo_models`: RPO (Box actions);
- :func:`build_cem_models`: CEM (Discrete actions);
- :func:`build_dqn_models`: DQN, DDQN (Discrete actions);
- :func:`build_sac_models`: SAC (Box actions);
- :func:`build_td3_models`, :func:`build_ddpg_models`: TD3, DDPG (Box actions with finite bounds);
- :func:`build_tabular_models`: Q_LEARNING, SARSA (Discrete observations and actions).
"""

from steprl.models.torch.networks.deterministic import (
    DETERMINISTIC_NETWORK_KEYS,
    MLPDeterministicActor,
    build_ddpg_models,
    build_td3_models,
)
from steprl.models.torch.networks.mlp import (
    ACTIVATIONS,
    PPO_NETWORK_KEYS,
    MLPCategoricalPolicy,
    MLPGaussianPolicy,
    MLPQFunction,
    MLPValue,
    build_mlp,
    build_ppo_models,
    check_network_keys,
    mlp_layout,
)
from steprl.models.torch.networks.onpolicy import RPO_NETWORK_KEYS, MLPRPOGaussianPolicy, build_rpo_models
from steprl.models.torch.networks.q import DQN_NETWORK_KEYS, MLPDiscreteQNetwork, build_dqn_models
from steprl.models.torch.networks.sac import SAC_NETWORK_KEYS, MLPSquashedGaussianPolicy, build_sac_models
from steprl.models.torch.networks.tabular import (
    CEM_NETWORK_KEYS,
    TABULAR_NETWORK_KEYS,
    EpsilonGreedyTable,
    build_cem_models,
    build_tabular_models,
)

__all__ = [
    "ACTIVATIONS",
    "CEM_NETWORK_KEYS",
    "DETERMINISTIC_NETWORK_KEYS",
    "DQN_NETWORK_KEYS",
    "PPO_NETWORK_KEYS",
    "RPO_NETWORK_KEYS",
    "SAC_NETWORK_KEYS",
    "TABULAR_NETWORK_KEYS",
    "EpsilonGreedyTable",
    "MLPCategoricalPolicy",
    "MLPDeterministicActor",
    "MLPDiscreteQNetwork",
    "MLPGaussianPolicy",
    "MLPQFunction",
    "MLPRPOGaussianPolicy",
    "MLPSquashedGaussianPolicy",
    "MLPValue",
    "build_cem_models",
    "build_ddpg_models",
    "build_dqn_models",
    "build_mlp",
    "build_ppo_models",
    "build_rpo_models",
    "build_sac_models",
    "build_tabular_models",
    "build_td3_models",
    "check_network_keys",
    "mlp_layout",
]
