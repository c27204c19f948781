"""skrl 1.x's ``torch_gymnasium_cartpole_ddqn.py`` with ``skrl`` replaced by ``steprl`` in the imports.

Differences from skrl's script: a fixed seed, a ``--timesteps`` option for the smoke test, a final greedy
evaluation, 128x128 Q-networks with PyTorch's default initialization and the hyperparameters of steprl's
CartPole-v1 preset (skrl's settings do not reach 475 within 50k steps). Q-networks from the model instantiators,
a replay memory and the SequentialTrainer.

    python examples/torch_gymnasium_cartpole_ddqn.py [--timesteps 50000]
"""

import argparse

import gymnasium as gym
import torch

# import the steprl components to build the RL system
from steprl.agents.torch.dqn import DDQN, DDQN_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed
from steprl.utils.model_instantiators.torch import deterministic_model

parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=50000)
args = parser.parse_args()

# seed for reproducibility
set_seed(42)


# load and wrap the gymnasium environment
env = gym.make("CartPole-v1")
env = wrap_env(env)

device = env.device


# instantiate a memory as experience replay
memory = RandomMemory(memory_size=100000, num_envs=env.num_envs, device=device)


# instantiate the agent's models (function approximators) using the model instantiator utility.
network = [{"name": "net", "input": "STATES", "layers": [128, 128], "activations": "relu"}]
models = {}
models["q_network"] = deterministic_model(observation_space=env.observation_space,
                                          action_space=env.action_space,
                                          device=device,
                                          clip_actions=False,
                                          network=network,
                                          output="ACTIONS")
models["target_q_network"] = deterministic_model(observation_space=env.observation_space,
                                                 action_space=env.action_space,
                                                 device=device,
                                                 clip_actions=False,
                                                 network=network,
                                                 output="ACTIONS")

# initialize the models' lazy modules
for role, model in models.items():
    model.init_state_dict(role)


# configure and instantiate the agent
cfg = DDQN_DEFAULT_CONFIG.copy()
cfg["learning_rate"] = 1e-3
cfg["learning_rate_scheduler"] = torch.optim.lr_scheduler.LinearLR  # 1e-3 -> 1e-5 over the updates
cfg["learning_rate_scheduler_kwargs"] = {"start_factor": 1.0, "end_factor": 0.01,
                                         "total_iters": max(1, args.timesteps - 1000)}
cfg["batch_size"] = 64
cfg["learning_starts"] = 1000
cfg["update_interval"] = 1
cfg["target_update_interval"] = 4
cfg["polyak"] = 0.04
cfg["exploration"]["final_epsilon"] = 0.04
cfg["exploration"]["timesteps"] = 2000
# logging to TensorBoard and write checkpoints (in timesteps)
cfg["experiment"]["write_interval"] = 1000
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/torch/CartPole"

agent = DDQN(models=models,
             memory=memory,
             cfg=cfg,
             observation_space=env.observation_space,
             action_space=env.action_space,
             device=device)


# configure and instantiate the RL trainer
cfg_trainer = {"timesteps": args.timesteps, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])

# start training
trainer.train()

# greedy evaluation over 5 episodes (a steprl addition)
returns = trainer.run_episodes(5)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
