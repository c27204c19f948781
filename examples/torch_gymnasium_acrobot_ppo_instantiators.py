"""PPO on Acrobot-v1 with models from the model instantiators and the ManualTrainer (eval interleaved).

    python examples/torch_gymnasium_acrobot_ppo_instantiators.py [--timesteps 12500]
"""

import argparse

import gymnasium as gym

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed
from steprl.utils.model_instantiators.torch import categorical_model, deterministic_model

parser = argparse.ArgumentParser()
parser.add_argument("--timesteps", type=int, default=12_500, help="trainer steps (each steps all 8 sub-envs)")
args = parser.parse_args()

set_seed(0)
env = wrap_env(gym.make_vec("Acrobot-v1", num_envs=8, vectorization_mode="sync"))
device = env.device
network = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
models = {
    "policy": categorical_model(env.observation_space, env.action_space, device, network=network, output="ACTIONS"),
    "value": deterministic_model(env.observation_space, env.action_space, device, network=network, output="ONE"),
}

cfg = PPO_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 128
cfg["learning_epochs"] = 4
cfg["mini_batches"] = 4
cfg["lambda"] = 0.94
cfg["state_preprocessor"] = RunningStandardScaler
cfg["state_preprocessor_kwargs"] = {"size": env.observation_space}
cfg["experiment"]["write_interval"] = 0
cfg["experiment"]["checkpoint_interval"] = 0
memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=device)
agent = PPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
for timestep in range(args.timesteps):
    trainer.train(timestep=timestep)
    if (timestep + 1) % 2500 == 0:  # interleaved evaluation on the same env: fresh episodes, no learning
        returns = trainer.run_episodes(8)
        print(f"step {timestep + 1}: eval return {sum(returns) / len(returns):.1f}")

returns = trainer.run_episodes(8)
print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")
