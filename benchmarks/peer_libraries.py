"""The installed peer libraries on the throughput benchmark's PPO configuration: Stable-Baselines3 and skrl 1.x.

Neither is a dependency of steprl. Install them aside without touching the environment's packages, e.g.::

    pip install --no-deps --target /work/peers stable-baselines3 "skrl==1.4.3"
    python benchmarks/throughput.py --peers-path /work/peers

Each runner returns ``(env steps per second, greedy evaluation return)`` or raises ``ImportError`` (the benchmark
prints the reason and skips the peer).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from peer_handwritten_ppo import Hyper, greedy_return


def sb3_ppo(steps: int, num_envs: int, mode: str, seed: int, hyper: Hyper) -> tuple[float, float]:
    """Stable-Baselines3 PPO (``DummyVecEnv``, or ``SubprocVecEnv`` for ``mode="async"``), same settings."""
    import stable_baselines3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    env = make_vec_env("CartPole-v1", n_envs=num_envs, seed=seed, vec_env_cls=SubprocVecEnv if mode == "async" else DummyVecEnv)
    model = stable_baselines3.PPO(
        "MlpPolicy", env, learning_rate=hyper.learning_rate, n_steps=hyper.rollouts,
        batch_size=hyper.rollouts * num_envs // hyper.mini_batches, n_epochs=hyper.epochs, gamma=hyper.gamma,
        gae_lambda=hyper.gae_lambda, clip_range=hyper.clip, ent_coef=0.0, vf_coef=1.0, max_grad_norm=hyper.max_grad_norm,
        policy_kwargs={"net_arch": {"pi": [hyper.hidden] * 2, "vf": [hyper.hidden] * 2}, "activation_fn": torch.nn.Tanh},
        seed=seed, device="cpu", verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - start
    env.close()
    done = model.num_timesteps
    return done / elapsed, greedy_return(lambda obs: int(model.predict(obs, deterministic=True)[0][0]), seed=seed)


def skrl_ppo(steps: int, num_envs: int, mode: str, seed: int, hyper: Hyper) -> tuple[float, float]:
    """skrl 1.x PPO with its SequentialTrainer, the models of ``peer_skrl.py``, same settings."""
    import gymnasium as gym
    import skrl
    from peer_skrl import Policy, SqueezeActions, Value
    from skrl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
    from skrl.envs.wrappers.torch import wrap_env
    from skrl.memories.torch import RandomMemory
    from skrl.trainers.torch import SequentialTrainer

    skrl.logger.setLevel("WARNING")
    torch.manual_seed(seed)
    vector = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode=mode)
    vector.reset(seed=seed)
    env = wrap_env(SqueezeActions(vector), verbose=False)
    models = {"policy": Policy(env.observation_space, env.action_space, "cpu"),
              "value": Value(env.observation_space, env.action_space, "cpu")}
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=hyper.rollouts, learning_epochs=hyper.epochs, mini_batches=hyper.mini_batches,
               learning_rate=hyper.learning_rate, discount_factor=hyper.gamma, grad_norm_clip=hyper.max_grad_norm)
    cfg["lambda"] = hyper.gae_lambda
    cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
    agent = PPO(models=models, memory=RandomMemory(memory_size=hyper.rollouts, num_envs=num_envs, device="cpu"),
                cfg=cfg, observation_space=env.observation_space, action_space=env.action_space, device="cpu")
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": steps // num_envs, "headless": True,
                                                            "disable_progressbar": True})
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    env.close()
    net = models["policy"].net

    def act(obs: np.ndarray) -> int:
        with torch.no_grad():
            return int(net(torch.as_tensor(obs)).argmax(-1)[0])

    return steps // num_envs * num_envs / elapsed, greedy_return(act, seed=seed)
