"""The SAC benchmark's configuration run through Stable-Baselines3 and skrl (imported only when run; neither is a
dependency of steprl). Used by benchmarks/sac_pendulum.py; install the peers aside, e.g.::

    pip install --no-deps --target /work/peers stable-baselines3 skrl==1.4.3
    python benchmarks/sac_pendulum.py --peers-path /work/peers

Both get benchmarks/sac_pendulum.py's hyperparameters: 1 Pendulum-v1 environment, batch 256, ReLU MLPs of the given
widths, lr 1e-3 for actor, critics and temperature, gamma 0.99, tau 0.005, initial temperature 0.2 with automatic
tuning towards -dim(A), a replay memory holding the whole run, and uniform random actions without updates for the
first ``learning_starts`` steps. Each library keeps its own policy parametrisation (SB3: tanh-squashed Gaussian with a
state-dependent log-std; skrl: its GaussianMixin with a 2·tanh mean, as in skrl's own Pendulum SAC example). The
training loop of each is the library's own (``model.learn`` / ``SequentialTrainer.train``) and is timed whole; the
evaluation is 10 deterministic episodes on a separate environment seeded ``seed + 1000``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

__all__ = ["PEERS", "peer_runner"]

PEERS = {"sb3": "Stable-Baselines3", "skrl": "skrl"}
EVAL_EPISODES = 10


def _evaluate(act: Callable[[np.ndarray], np.ndarray], seed: int) -> float:
    """Mean return of ``EVAL_EPISODES`` episodes of ``act`` (observation -> action) on a fresh Pendulum-v1."""
    env = gym.make("Pendulum-v1")
    returns = []
    obs, _ = env.reset(seed=seed)
    for _ in range(EVAL_EPISODES):
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
        obs, _ = env.reset()
    env.close()
    return float(np.mean(returns))


def run_sb3(seed: int, timesteps: int, hidden: tuple[int, ...], batch_size: int = 256, learning_starts: int = 1000) -> dict[str, float]:
    """Stable-Baselines3 SAC through ``model.learn``."""
    from stable_baselines3 import SAC

    env = gym.make("Pendulum-v1")
    model = SAC(
        "MlpPolicy", env, learning_rate=1e-3, buffer_size=timesteps, learning_starts=learning_starts,
        batch_size=batch_size, tau=0.005, gamma=0.99, train_freq=1, gradient_steps=1, ent_coef="auto_0.2",
        policy_kwargs={"net_arch": list(hidden), "activation_fn": nn.ReLU}, seed=seed, device="cpu", verbose=0,
    )  # fmt: skip
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    train_s = time.perf_counter() - start
    env.close()
    eval_return = _evaluate(lambda obs: model.predict(obs, deterministic=True)[0], seed + 1000)
    return {"steps_per_s": timesteps / train_s, "train_s": train_s, "eval_return": eval_return}


def _skrl_models(observation_space: Any, action_space: Any, hidden: tuple[int, ...]) -> dict[str, Any]:
    """skrl's Pendulum SAC example models with ``hidden`` ReLU layers."""
    from skrl.models.torch import DeterministicMixin, GaussianMixin, Model

    def trunk(inputs: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(inputs, width), nn.ReLU()]
            inputs = width
        return nn.Sequential(*layers)

    class Policy(GaussianMixin, Model):
        def __init__(self) -> None:
            Model.__init__(self, observation_space, action_space, "cpu")
            GaussianMixin.__init__(self, clip_actions=False, clip_log_std=True, min_log_std=-5.0, max_log_std=2.0)
            self.net = nn.Sequential(trunk(self.num_observations), nn.Linear(hidden[-1], self.num_actions))
            self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

        def compute(self, inputs: dict, role: str) -> tuple:
            return 2.0 * torch.tanh(self.net(inputs["states"])), self.log_std_parameter, {}

    class Critic(DeterministicMixin, Model):
        def __init__(self) -> None:
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self, clip_actions=False)
            self.net = nn.Sequential(trunk(self.num_observations + self.num_actions), nn.Linear(hidden[-1], 1))

        def compute(self, inputs: dict, role: str) -> tuple:
            return self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=1)), {}

    models: dict[str, Any] = {"policy": Policy()}
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        models[role] = Critic()
    return models


def run_skrl(seed: int, timesteps: int, hidden: tuple[int, ...], batch_size: int = 256, learning_starts: int = 1000) -> dict[str, float]:
    """skrl SAC through ``SequentialTrainer.train``."""
    from skrl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
    from skrl.envs.wrappers.torch import wrap_env
    from skrl.memories.torch import RandomMemory
    from skrl.trainers.torch import SequentialTrainer
    from skrl.utils import set_seed

    set_seed(seed)
    env = wrap_env(gym.make("Pendulum-v1"), verbose=False)
    models = _skrl_models(env.observation_space, env.action_space, hidden)
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(
        batch_size=batch_size, actor_learning_rate=1e-3, critic_learning_rate=1e-3, entropy_learning_rate=1e-3,
        discount_factor=0.99, polyak=0.005, random_timesteps=learning_starts, learning_starts=learning_starts,
        learn_entropy=True, initial_entropy_value=0.2,
    )  # fmt: skip
    cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
    memory = RandomMemory(memory_size=timesteps, num_envs=1, device="cpu")
    agent = SAC(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device="cpu")  # fmt: skip
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True})
    start = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - start
    env.close()
    policy = models["policy"]

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            states = torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1)
            return policy.act({"states": states}, role="policy")[2]["mean_actions"][0].numpy()

    return {"steps_per_s": timesteps / train_s, "train_s": train_s, "eval_return": _evaluate(act, seed + 1000)}


def peer_runner(name: str) -> Callable[..., dict[str, float]]:
    """The runner of peer ``name`` (``sb3`` or ``skrl``); ``ImportError`` when that library is not importable."""
    if name == "sb3":
        import stable_baselines3  # noqa: F401

        return run_sb3
    if name == "skrl":
        import skrl  # noqa: F401

        return run_skrl
    raise ValueError(f"unknown peer {name!r}: expected one of {', '.join(PEERS)}")
