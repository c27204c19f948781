"""Long runs keep bounded state: episode statistics keep a window (plus running totals), tracking data is dropped
when it is never written."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np

from steprl.core.agent import Agent
from steprl.core.trainer import ManualTrainer

NUM_ENVS = 500


class OneStepEnv:
    """Every sub-environment's episode ends after one step with reward 1."""

    num_envs = NUM_ENVS

    def __init__(self) -> None:
        self.obs = np.zeros((NUM_ENVS, 1), dtype=np.float32)
        self.rewards = np.ones((NUM_ENVS, 1), dtype=np.float32)
        self.done = np.ones((NUM_ENVS, 1), dtype=bool)
        self.not_done = np.zeros((NUM_ENVS, 1), dtype=bool)

    def reset(self) -> tuple[np.ndarray, dict]:
        return self.obs, {}

    def step(self, actions: Any) -> tuple[Any, ...]:
        return self.obs, self.rewards, self.done, self.not_done, {}

    def render(self) -> None:
        pass

    def close(self) -> None:
        pass


class TrackingAgent(Agent):
    """Tracks a value every step; never writes it (``write_interval`` 0)."""

    def __init__(self) -> None:
        super().__init__(models={}, cfg={"experiment": {"write_interval": 0, "checkpoint_interval": 0}})
        self.actions = np.zeros((NUM_ENVS, 1), dtype=np.float32)

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple[Any, Any, dict]:
        self.track_data("Custom / value", 1.0)
        return self.actions, None, {}


def test_a_million_one_step_episodes_keep_memory_flat() -> None:
    agent = TrackingAgent()
    cfg = {"timesteps": 2_000, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False,
           "episode_history": 1000}
    trainer = ManualTrainer(env=OneStepEnv(), agents=agent, cfg=cfg)
    for _ in range(200):  # warm-up: the window fills
        trainer.train()
    tracemalloc.start()
    try:
        baseline = tracemalloc.take_snapshot()
        for _ in range(1_800):  # 1,000,000 episodes in all
            trainer.train()
        trainer.episode_returns("train")
        grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(baseline, "filename"))
    finally:
        tracemalloc.stop()
    assert trainer.episode_count("train") == 1_000_000
    assert len(trainer.episode_returns("train")) == 1000
    assert trainer._loop.modes["train"].episodes.total_return == 1_000_000.0
    assert not agent.tracking_data
    assert grown < 1_000_000, f"memory grew by {grown} bytes over 900,000 episodes"
