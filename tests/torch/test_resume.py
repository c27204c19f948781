"""Resume: a checkpoint holds everything a run needs to continue; with a deterministic environment whose episodes
end at the checkpoint, the resumed run is bit-identical to the uninterrupted one."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers.checkpoint import agent_state, assert_state_equal, rng_draws, scramble_rngs
from helpers.ppo import QUIET
from helpers.ppo import build as build_ppo

from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.sac import build_sac_models
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer

EPISODE = 4  # every episode lasts exactly this many steps


class Drift(gym.Env):
    """Deterministic: the observation is the step count; reward depends on the action; episodes truncate at 4."""

    def __init__(self, continuous: bool) -> None:
        self.observation_space = gym.spaces.Box(-10.0, 10.0, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32) if continuous else gym.spaces.Discrete(2)
        self.t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.t, 1.0], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        reward = 0.1 * self.t - float(np.square(np.asarray(action, dtype=np.float32)).sum())
        return self._obs(), reward, False, self.t >= EPISODE, {}


def _env(continuous: bool) -> Any:
    return wrap_env(gym.vector.SyncVectorEnv([lambda: Drift(continuous)] * 2), verbose=False)


def _ppo(env: Any) -> Any:
    return build_ppo(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR, learning_epochs=2, mini_batches=2)


def _sac(env: Any) -> Any:
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(batch_size=8, random_timesteps=6, learning_starts=6, checkpoint_memory=True,
               learn_entropy=True, experiment={"write_interval": 0, "checkpoint_interval": 0})
    models = build_sac_models(env.observation_space, env.action_space, "cpu", {"hidden": [16, 16]}, env.num_envs)
    return SAC(models=models, memory=RandomMemory(memory_size=64, num_envs=env.num_envs), cfg=cfg,
               observation_space=env.observation_space, action_space=env.action_space)


def _run(agent: Any, env: Any, start: int, stop: int) -> None:
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 1000, **QUIET})
    for t in range(start, stop):
        trainer.train(timestep=t)


@pytest.mark.parametrize(("name", "build", "continuous", "cut", "total"),
                         [("PPO", _ppo, False, 16, 32), ("SAC", _sac, True, 12, 24)])
def test_resumed_run_is_bit_identical(name: str, build: Any, continuous: bool, cut: int, total: int, tmp_path: Any) -> None:
    torch.manual_seed(1)
    straight = build(_env(continuous))
    torch.manual_seed(2)
    interrupted = build(_env(continuous))
    # same initial weights for both runs
    path0 = tmp_path / "start.pt"
    straight.save(str(path0))
    interrupted.load(str(path0))
    scramble_rngs(7)
    _run(straight, _env(continuous), 0, total)
    straight_draws = rng_draws()  # where the uninterrupted run left torch's, NumPy's and Python's generators

    scramble_rngs(7)
    _run(interrupted, _env(continuous), 0, cut)
    checkpoint = tmp_path / "cut.pt"
    interrupted.save(str(checkpoint))

    scramble_rngs(123)  # a new process would start from other RNG states
    resumed = build(_env(continuous))
    resumed.load(str(checkpoint), resume=True)
    assert resumed.timestep == cut and resumed.training_steps == cut
    _run(resumed, _env(continuous), resumed.timestep, total)

    assert resumed.training_steps == straight.training_steps == total
    assert_state_equal(agent_state(straight), agent_state(resumed), name)
    assert_state_equal(straight_draws, rng_draws(), f"{name}.rng")
