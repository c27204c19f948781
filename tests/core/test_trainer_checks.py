"""Trainer boundary checks and the bounded episode API: each fails if its check is removed."""

from __future__ import annotations

import logging

import gymnasium as gym
import pytest
from helpers.agents import RecordingAgent
from helpers.envs import ConstantEnv, counting_vec

from steprl import logger
from steprl.envs.wrappers.torch import wrap_env
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def test_a_raw_gymnasium_environment_is_refused() -> None:
    with pytest.raises(TypeError, match="raw SyncVectorEnv, not a steprl environment wrapper.*wrap_env"):
        ManualTrainer(env=counting_vec(2), agents=RecordingAgent(), cfg=QUIET)
    with pytest.raises(TypeError, match="wrap_env"):
        SequentialTrainer(env=gym.make("CartPole-v1"), agents=RecordingAgent(), cfg=QUIET)


@pytest.mark.parametrize("timestep", [-3, 1.5, True])
def test_bad_timesteps_are_refused(timestep: object) -> None:
    trainer = ManualTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=RecordingAgent(), cfg=QUIET)
    with pytest.raises(ValueError, match="timestep must be an integer >= 0"):
        trainer.train(timestep=timestep)  # type: ignore[arg-type]


@pytest.mark.parametrize("history", [0, -1, 2.5, True])
def test_bad_episode_history_is_refused(history: object) -> None:
    with pytest.raises(ValueError, match="episode_history"):
        ManualTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=RecordingAgent(),
                      cfg={**QUIET, "episode_history": history})


def test_single_and_multi_agent_entry_points_check_their_setting() -> None:
    trainer = SequentialTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=RecordingAgent(), cfg=QUIET)
    with pytest.raises(RuntimeError, match="multi_agent_\\* methods need a multi-agent environment"):
        trainer.multi_agent_train()
    two = SequentialTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=[RecordingAgent(), RecordingAgent()],
                            agents_scope=[1, 1], cfg=QUIET)
    with pytest.raises(RuntimeError, match="single_agent_\\* methods drive one agent; this trainer has 2"):
        two.single_agent_eval()


def test_episode_end_steps_and_window() -> None:
    # sub-environment i ends its episodes every 3 + i steps
    trainer = ManualTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=RecordingAgent(),
                            cfg={**QUIET, "episode_history": 3})
    for _ in range(12):
        trainer.train()
    assert trainer.episode_count("train") == 7  # env 0 at 3, 6, 9, 12; env 1 at 4, 8, 12
    # only the last 3 are kept, in the order they ended
    assert trainer.episode_end_steps("train") == [9, 12, 12]
    assert trainer.episode_env_ids("train") == [0, 0, 1]
    assert trainer.episode_lengths("train") == [3, 3, 4]
    assert len(trainer.episode_returns("train")) == 3


def test_run_episodes_stops_at_its_step_cap(caplog: pytest.LogCaptureFixture) -> None:
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: ConstantEnv(limit=1000)]), verbose=False)
    trainer = ManualTrainer(env=env, agents=RecordingAgent(), cfg=QUIET)
    logger.propagate = True
    try:
        with caplog.at_level(logging.WARNING, logger="steprl"):
            assert trainer.run_episodes(2, max_steps=50) == []
    finally:
        logger.propagate = False
    assert any("only 0 of 2 episodes ended within 50 steps" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="max_steps"):
        trainer.run_episodes(1, max_steps=0)
