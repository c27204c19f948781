# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""DQN on 5 synchronous CartPole-v1 environments (gym.vector.make): online and target Q-networks from the
deterministic_model instantiator (64-64 ReLU), a RandomMemory of 200000 transitions sampled without replacement,
epsilon decaying to 0.04 over 1500 steps."""

import gymnasium as gym

from steprl.agents.torch.dqn import DQN, DQN_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed
from steprl.utils.model_instantiators.torch import Shape, deterministic_model

set_seed()  # pass a number for a fixed seed


def make_env(env_id, **vector_options):
    """``gym.make(env_id)``, or ``gym.vector.make(env_id, **vector_options)`` when vector options are given. When this
    Gymnasium no longer registers that version, the first registered version of the same environment is built."""
    build = gym.vector.make if vector_options else gym.make
    try:
        return build(env_id, **vector_options)
    except (gym.error.DeprecatedEnv, gym.error.VersionNotFound):
        family = env_id.rsplit("-v", 1)[0] + "-v"
        available = next(name for name in gym.envs.registry if name.startswith(family))
        print(f"{env_id} is not registered here, building {available} instead")
        return build(available, **vector_options)


env = wrap_env(make_env("CartPole-v1", num_envs=5, asynchronous=False))
device = env.device

memory = RandomMemory(memory_size=200000, num_envs=env.num_envs, device=device, replacement=False)


def q_network():
    """Q-values of every action, built by the instantiator."""
    return deterministic_model(observation_space=env.observation_space, action_space=env.action_space, device=device,
                               clip_actions=False, input_shape=Shape.OBSERVATIONS, hiddens=[64, 64],
                               hidden_activation=["relu", "relu"], output_shape=Shape.ACTIONS,
                               output_activation=None, output_scale=1.0)


models = {"q_network": q_network(), "target_q_network": q_network()}
for model in models.values():
    model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

cfg = DQN_DEFAULT_CONFIG.copy()
cfg["learning_starts"] = 100
cfg["exploration"]["final_epsilon"] = 0.04
cfg["exploration"]["timesteps"] = 1500
cfg["experiment"]["write_interval"] = 1000
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/torch/CartPole"

agent = DQN(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 50000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
