"""SAC on the DeepMind Control Suite's cartpole-swingup, skrl 1.x style (``skrl`` replaced by ``steprl`` in imports).

The dm_control environment is wrapped by ``wrap_env`` (detected as a ``dm_env`` environment: ``DeepMindWrapper``)
with an action repeat of 8, so one agent step is 8 control steps and an episode is 125 agent steps (the suite's
1,000-step time limit, reported as a truncation). Needs the ``dmc`` extra: ``pip install -e ".[dmc]"``.

    python examples/torch_dmc_cartpole_swingup_sac.py [--timesteps 12500]
"""

import argparse
import os

os.environ.setdefault("MUJOCO_GL", "egl")  # only used for rendering, which this script does not do

import torch
from dm_control import suite

# import the steprl components to build the RL system
from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.sac import build_sac_models
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed

parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=12500, help="agent steps (x8 control steps)")
args = parser.parse_args()

# seed for reproducibility
set_seed(0)
torch.set_num_threads(1)

# load the dm_control task and wrap it (action repeat 8: a steprl option of DeepMindWrapper)
env = wrap_env(suite.load("cartpole", "swingup", task_kwargs={"random": 0}), action_repeat=8)
device = env.device

# instantiate a memory as experience replay
memory = RandomMemory(memory_size=max(args.timesteps, 1000), num_envs=env.num_envs, device=device, replacement=True)

# the policy (tanh-squashed Gaussian), two critics and their target copies: 256x256 ReLU MLPs
models = build_sac_models(env.observation_space, env.action_space, device, {"hidden": [256, 256]})

# configure and instantiate the agent
cfg = SAC_DEFAULT_CONFIG.copy()
cfg["discount_factor"] = 0.99
cfg["batch_size"] = 256
cfg["random_timesteps"] = 1000
cfg["learning_starts"] = 1000
cfg["actor_learning_rate"] = 1e-3
cfg["critic_learning_rate"] = 1e-3
cfg["learn_entropy"] = True
cfg["entropy_learning_rate"] = 1e-3
cfg["initial_entropy_value"] = 0.1
cfg["polyak"] = 0.005
# logging to TensorBoard and write checkpoints (in timesteps)
cfg["experiment"]["write_interval"] = 125
cfg["experiment"]["checkpoint_interval"] = 1250
cfg["experiment"]["directory"] = "runs/torch/dmc_cartpole_swingup"

agent = SAC(models=models,
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

# deterministic evaluation over 5 episodes (a steprl addition)
returns = trainer.run_episodes(5)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
