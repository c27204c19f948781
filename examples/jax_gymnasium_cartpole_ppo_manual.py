"""PPO on CartPole-v1 with the JAX ManualTrainer, written the skrl 1.x way (only the import root differs).

    python examples/jax_gymnasium_cartpole_ppo_manual.py [--timesteps 50000]
"""

import argparse

import flax.linen as nn
import gymnasium as gym

from steprl import config
from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import CategoricalMixin, DeterministicMixin, Model
from steprl.resources.schedulers.jax import KLAdaptiveLR
from steprl.trainers.jax import ManualTrainer
from steprl.utils import set_seed

config.jax.backend = "numpy"  # or "jax": where the wrapper and the memory keep their arrays


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self, unnormalized_log_prob)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(self.num_actions)(x), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(1)(x), {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    set_seed(args.seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=args.num_envs, vectorization_mode="sync"))
    device = env.device

    memory = RandomMemory(memory_size=32, num_envs=env.num_envs, device=device)
    models = {
        "policy": Policy(env.observation_space, env.action_space, device),
        "value": Value(env.observation_space, env.action_space, device),
    }
    for role, model in models.items():
        model.init_state_dict(role)

    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 32
    cfg["learning_epochs"] = 20
    cfg["mini_batches"] = 1
    cfg["discount_factor"] = 0.98
    cfg["lambda"] = 0.8
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["value_loss_scale"] = 0.5
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}

    agent = PPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device=device)

    trainer_cfg = {"timesteps": args.timesteps, "headless": True}
    trainer = ManualTrainer(env=env, agents=agent, cfg=trainer_cfg)
    for timestep in range(trainer_cfg["timesteps"]):
        trainer.train(timestep=timestep)

    returns = trainer.run_episodes(10)
    print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
