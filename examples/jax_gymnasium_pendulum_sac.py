"""SAC on Pendulum-v1 with the JAX backend: the ready-made models, one jitted update per training step.

Every gradient step of a training step (sampling from the replay memory, critic, policy and temperature steps,
target updates) runs inside one jitted call. This is the configuration of the Pendulum-v1 preset of
``steprl train --backend jax --agent sac`` (whose seed-0 run evaluated -94.8 after 15k steps).

    python examples/jax_gymnasium_pendulum_sac.py [--timesteps 15000]
"""

import argparse

import gymnasium as gym

from steprl.agents.jax.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax.networks.sac import build_sac_models
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed

parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=15000)
args = parser.parse_args()

set_seed(0)
env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=1, vectorization_mode="sync"))

models = build_sac_models(env.observation_space, env.action_space, None, {"hidden": [64, 64], "activation": "relu"})
memory = RandomMemory(memory_size=15000, num_envs=env.num_envs)

cfg = SAC_DEFAULT_CONFIG.copy()
cfg["batch_size"] = 256
cfg["random_timesteps"] = min(1000, args.timesteps // 3)
cfg["learning_starts"] = min(1000, args.timesteps // 3)
cfg["experiment"]["write_interval"] = 0
cfg["experiment"]["checkpoint_interval"] = 0
agent = SAC(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space)

trainer = SequentialTrainer(cfg={"timesteps": args.timesteps, "headless": True}, env=env, agents=[agent])
trainer.train()

# deterministic evaluation over 5 episodes
returns = trainer.run_episodes(5)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
