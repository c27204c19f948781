"""DQN on 5 vectorized CartPole-v1 environments (JAX), skrl-style: Q-networks from the deterministic_model
instantiator (network-list signature)."""

import gymnasium as gym

from steprl import config
from steprl.agents.jax.dqn import DQN, DQN_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed
from steprl.utils.model_instantiators.jax import deterministic_model

config.jax.backend = "numpy"
set_seed()

env = wrap_env(gym.make_vec("CartPole-v1", num_envs=5, vectorization_mode="sync"))
device = env.device

memory = RandomMemory(memory_size=200000, num_envs=env.num_envs, device=device, replacement=False)


def q_network():
    layers = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "relu"}]
    return deterministic_model(observation_space=env.observation_space, action_space=env.action_space, device=device,
                               clip_actions=False, network=layers, output="ACTIONS")


models = {"q_network": q_network(), "target_q_network": q_network()}
for role, model in models.items():
    model.init_state_dict(role)
for model in models.values():
    model.init_parameters(method_name="normal", stddev=0.1)

cfg = DQN_DEFAULT_CONFIG.copy()
cfg["learning_starts"] = 100
cfg["exploration"]["final_epsilon"] = 0.04
cfg["exploration"]["timesteps"] = 1500
cfg["experiment"]["write_interval"] = 1000
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/jax/CartPole"

agent = DQN(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 50000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
