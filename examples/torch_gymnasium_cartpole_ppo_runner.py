"""PPO on CartPole-v1 built by the Runner from a YAML configuration (skrl's runner format, as Isaac Lab ships).

    python examples/torch_gymnasium_cartpole_ppo_runner.py [--timesteps 2000] [--config examples/configs/cartpole_ppo.yaml]

The configuration names the models, memory, agent and trainer; the script only creates the environment.
"""

import argparse
import os

import gymnasium as gym

from steprl.envs.wrappers.torch import wrap_env
from steprl.utils.runner.torch import Runner

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "cartpole_ppo.yaml")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=CONFIG, help="runner configuration (YAML)")
    parser.add_argument("--timesteps", type=int, default=None, help="trainer timesteps (default: the configuration's)")
    parser.add_argument("--num-envs", type=int, default=8)
    args = parser.parse_args()

    cfg = Runner.load_cfg_from_yaml(args.config)
    if args.timesteps is not None:
        cfg["trainer"]["timesteps"] = args.timesteps

    env = gym.make_vec("CartPole-v1", num_envs=args.num_envs, vectorization_mode="sync")
    env.reset(seed=cfg.get("seed"))
    env = wrap_env(env)

    runner = Runner(env, cfg)
    runner.run("train")

    returns = runner.trainer.run_episodes(10)
    print(f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
