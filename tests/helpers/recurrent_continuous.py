"""Continuous-action recurrent test helpers: a counting env with Box actions, a continuous cue-memory task and
builders of the recurrent agents (SAC_RNN, TD3_RNN, DDPG_RNN, RPO_RNN, TRPO_RNN) on the library's GRU models."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from helpers.ppo import NO_LOGS, QUIET
from steprl.agents.torch.ddpg import DDPG_RNN
from steprl.agents.torch.rpo import RPO_RNN
from steprl.agents.torch.sac import SAC_RNN
from steprl.agents.torch.td3 import TD3_RNN
from steprl.agents.torch.trpo import TRPO_RNN
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks import recurrent
from steprl.resources.noises.torch import GaussianNoise
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

REPLAY_AGENTS = {"SAC_RNN": (SAC_RNN, recurrent.build_sac_rnn_models), "TD3_RNN": (TD3_RNN, recurrent.build_td3_rnn_models),
                 "DDPG_RNN": (DDPG_RNN, recurrent.build_ddpg_rnn_models)}
ROLLOUT_AGENTS = {"RPO_RNN": (RPO_RNN, recurrent.build_rpo_rnn_models), "TRPO_RNN": (TRPO_RNN, recurrent.build_trpo_rnn_models)}


class BoxCountingEnv(gym.Env):
    """Observation ``[episode_id, t, tag]``, one Box action in [-1, 1]; the episode ends after ``length`` steps
    (terminated, or truncated with ``truncate``). Reward = the action."""

    def __init__(self, length: int = 3, tag: int = 0, truncate: bool = False) -> None:
        self.length, self.tag, self.truncate = length, tag, truncate
        self.observation_space = gym.spaces.Box(-1e6, 1e6, shape=(3,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.episode, self.t = -1, 0

    def _obs(self) -> np.ndarray:
        return np.array([self.episode, self.t, self.tag], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        done = self.t >= self.length
        return self._obs(), float(np.asarray(action).reshape(-1)[0]), done and not self.truncate, done and self.truncate, {}


def box_counting_vec(num_envs: int = 3, truncate: bool = False) -> Any:
    """Wrapped sync vector env of :class:`BoxCountingEnv` with episode lengths 3, 4, 5, ..."""
    fns = [lambda i=i: BoxCountingEnv(length=3 + i, tag=i, truncate=truncate) for i in range(num_envs)]
    return wrap_env(gym.vector.SyncVectorEnv(fns), verbose=False)


class ContinuousCueEnv(gym.Env):
    """The first observation shows a cue (+1/-1), later ones are 0; only the action at the last step (3) is rewarded:
    ``1 - |action - cue|``. A memoryless policy earns at most 0 on average (action 0); remembering the cue earns 1."""

    def __init__(self, seed: int = 0, length: int = 3) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.rng = np.random.default_rng(seed)
        self.length, self.t, self.cue = length, 0, 1.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.cue = 1.0 if self.rng.random() < 0.5 else -1.0
        return np.array([self.cue], dtype=np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        done = self.t >= self.length
        reward = 1.0 - abs(float(np.asarray(action).reshape(-1)[0]) - self.cue) if done else 0.0
        return np.zeros(1, dtype=np.float32), reward, done, False, {}


NETWORK = {"cell": "gru", "hidden_size": 16, "hidden": [32], "sequence_length": 4}


def build_agent(name: str, env: Any, memory_size: int = 64, network: dict[str, Any] | None = None,
                **cfg_updates: Any) -> Any:
    """Agent ``name`` (a key of ``REPLAY_AGENTS`` or ``ROLLOUT_AGENTS``) on ``env`` with the library's GRU models
    (``network`` overrides :data:`NETWORK`), a memory of ``memory_size`` steps (the rollout for rollout agents) and
    logging off."""
    cls, builder = {**REPLAY_AGENTS, **ROLLOUT_AGENTS}[name]
    n = env.num_envs
    models = builder(env.observation_space, env.action_space, env.device, {**NETWORK, **(network or {})}, n)
    cfg: dict[str, Any] = {"experiment": dict(NO_LOGS)}
    if name in ROLLOUT_AGENTS:
        cfg.update(rollouts=memory_size, mini_batches=2)
    else:
        cfg.update(batch_size=8, learning_starts=8)
        if name != "SAC_RNN":
            cfg["exploration"] = {"noise": GaussianNoise(0.0, 0.2, device=env.device), "final_scale": 1.0}
        if name == "TD3_RNN":
            cfg["smooth_regularization_noise"] = GaussianNoise(0.0, 0.1, device=env.device)
    cfg.update(cfg_updates)
    return cls(models=models, memory=RandomMemory(memory_size, n), cfg=cfg, observation_space=env.observation_space,
               action_space=env.action_space, device=env.device)


def cue_score(name: str, recurrent_core: bool, steps: int, num_envs: int = 8, seed: int = 0, **cfg_updates: Any) -> float:
    """Train ``name`` (or, with ``recurrent_core=False``, its models' feed-forward twin under the plain agent's class)
    on :class:`ContinuousCueEnv` for ``steps`` vector steps; return the mean deterministic evaluation return."""
    set_seed(seed)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda i=i: ContinuousCueEnv(seed + 100 * i) for i in range(num_envs)]),
                   verbose=False)
    network = None if recurrent_core else {"cell": "none"}
    agent = build_agent(name, env, **cfg_updates, **({"network": network} if network else {}))
    if not recurrent_core:  # the same models without memory under the feed-forward agent
        plain = type(agent).__bases__[1]
        agent = plain(models=agent.models, memory=RandomMemory(agent.memory.memory_size, num_envs), cfg=agent.cfg,
                      observation_space=env.observation_space, action_space=env.action_space, device=env.device)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for t in range(steps):
        trainer.train(timestep=t)
    total = torch.zeros(())
    for _ in range(3 * 10):  # 10 evaluation episodes per environment
        total = total + trainer.eval()[1].sum()
    return float(total) / (10 * num_envs)
